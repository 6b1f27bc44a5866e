#include "fileio.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *errno_text(int code, char *buf, size_t size)
{
    if (strerror_r(code, buf, size) != 0)
        snprintf(buf, size, "error %d", code);
    return buf;
}

alexnet_status file_open_regular(const char *fn, const char *path, size_t max_bytes, int *fd,
                                 uint64_t *size)
{
    char why[ERRNO_TEXT_SIZE];
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return error_set(ALEXNET_ERR_IO, "%s: cannot open '%s': %s", fn, path,
                         errno_text(errno, why, sizeof why));
    struct stat st;
    alexnet_status status = ALEXNET_OK;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
        status = error_set(ALEXNET_ERR_IO, "%s: '%s' is not a regular file", fn, path);
    else if ((uint64_t)st.st_size > max_bytes)
        status = error_set(ALEXNET_ERR_FORMAT,
                           "%s: '%s' is %lld bytes, more than the %zu this reader accepts", fn,
                           path, (long long)st.st_size, max_bytes);
    if (status != ALEXNET_OK) {
        close(*fd);
        *fd = -1;
        return status;
    }
    *size = (uint64_t)st.st_size;
    return ALEXNET_OK;
}

alexnet_status file_read_at(const char *fn, const char *path, int fd, uint64_t offset, void *dest,
                            size_t count)
{
    char why[ERRNO_TEXT_SIZE];
    size_t done = 0;
    while (done < count) {
        ssize_t got = pread(fd, (uint8_t *)dest + done, count - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) { /* an error, or the file shrank since it was opened */
            int code = got < 0 ? errno : 0;
            return error_set(ALEXNET_ERR_IO, "%s: cannot read '%s': %s", fn, path,
                             code ? errno_text(code, why, sizeof why)
                                  : "it ended early (did it shrink while being read?)");
        }
        done += (size_t)got;
    }
    return ALEXNET_OK;
}

alexnet_status file_read_all(const char *fn, const char *path, size_t max_bytes, uint8_t **data,
                             size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd;
    uint64_t file_size;
    alexnet_status status = file_open_regular(fn, path, max_bytes, &fd, &file_size);
    if (status != ALEXNET_OK)
        return status;
    size_t length = (size_t)file_size;
    uint8_t *buffer = malloc(length ? length : 1);
    if (buffer == NULL) {
        close(fd);
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes to read '%s'",
                         fn, length, path);
    }
    status = file_read_at(fn, path, fd, 0, buffer, length);
    if (status != ALEXNET_OK) {
        free(buffer);
        close(fd);
        return status;
    }
    close(fd);
    *data = buffer;
    *size = length;
    return ALEXNET_OK;
}

/* The directory part of `path` ("." when there is none). */
static void directory_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, size, ".");
    } else if (slash == path) {
        snprintf(dir, size, "/");
    } else {
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
    }
}

alexnet_status file_write_atomic(const char *fn, const char *path, file_writer writer, void *ctx)
{
    char why[128];
    size_t length = strlen(path);
    char *temporary = malloc(length + 16);
    if (temporary == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    snprintf(temporary, length + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(temporary);
    if (fd < 0) {
        alexnet_status st = error_set(ALEXNET_ERR_IO, "%s: cannot create a file next to '%s': %s",
                                      fn, path, errno_text(errno, why, sizeof why));
        free(temporary);
        return st;
    }
    /* mkstemp makes the file private (0600); give it the target's mode, or the usual 0644. */
    struct stat existing;
    fchmod(fd, stat(path, &existing) == 0 ? (existing.st_mode & 07777) : 0644);

    alexnet_status st = ALEXNET_OK;
    FILE *file = fdopen(fd, "wb");
    if (file == NULL) {
        close(fd);
        st = error_set(ALEXNET_ERR_IO, "%s: cannot write '%s': %s", fn, temporary,
                       errno_text(errno, why, sizeof why));
    } else {
        st = writer(file, ctx);
        if (st != ALEXNET_OK)
            error_prefix(st, "%s: cannot write '%s'", fn, path);
        if (st == ALEXNET_OK && (fflush(file) != 0 || fsync(fileno(file)) != 0))
            st = error_set(ALEXNET_ERR_IO, "%s: cannot write '%s': %s", fn, path,
                           errno_text(errno, why, sizeof why));
        if (fclose(file) != 0 && st == ALEXNET_OK)
            st = error_set(ALEXNET_ERR_IO, "%s: cannot write '%s': %s", fn, path,
                           errno_text(errno, why, sizeof why));
    }
    if (st == ALEXNET_OK && rename(temporary, path) != 0)
        st = error_set(ALEXNET_ERR_IO, "%s: cannot replace '%s': %s", fn, path,
                       errno_text(errno, why, sizeof why));
    if (st != ALEXNET_OK) {
        unlink(temporary);
        free(temporary);
        return st;
    }
    free(temporary);
    /* The rename itself must reach the disk too. */
    char dir[4096];
    directory_of(path, dir, sizeof dir);
    int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        fsync(dir_fd);
        close(dir_fd);
    }
    return ALEXNET_OK;
}
