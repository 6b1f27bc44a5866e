/* A temporary directory per test (a Check fixture) and small file utilities, shared by the
 * suites that write files. */
#ifndef ALEXNET_FILE_HELPERS_H
#define ALEXNET_FILE_HELPERS_H

#include <stdbool.h>
#include <sys/resource.h>
#include <unistd.h>
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static inline void make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/alexnet-test-XXXXXX", tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char child[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
            remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

static inline void remove_dir(void)
{
    remove_tree(dir);
}

/* A path in the test's directory (four rotating buffers: copy one that must last). */
static inline const char *in_dir(const char *name)
{
    static char path[4][512];
    static int which;
    which = (which + 1) % 4;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

/* Entries of the test's directory (temporary files left behind show up here). */
static inline int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static inline void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (size)
        ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

/* The whole file, in a new buffer (free it). */
static inline uint8_t *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*size + 1);
    ck_assert_uint_eq(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

/* Caps this process's address space at what it uses now plus `extra` bytes, so that a large
 * allocation fails for real (RLIMIT_AS; Check runs each test in its own process). Returns false
 * under AddressSanitizer or ThreadSanitizer, whose shadow memory cannot live under such a cap,
 * and under valgrind (the test command's valgrind stage sets ALEXNET_UNDER_VALGRIND), whose own
 * memory cannot either: skip the test then. */
static inline bool limit_address_space(size_t extra)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)extra;
    return false;
#else
    if (getenv("ALEXNET_UNDER_VALGRIND") != NULL)
        return false;
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long pages = 0;
    ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
    fclose(f);
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &limit), 0);
    return true;
#endif
}

#endif
