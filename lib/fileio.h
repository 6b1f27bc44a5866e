/* Files: whole-file reads under a size cap (every parser then works on memory, which a fuzzer can
 * call directly), and crash-safe writes. */
#ifndef ALEXNET_FILEIO_H
#define ALEXNET_FILEIO_H

#include "alexnet/alexnet.h"

#include <stdint.h>
#include <stdio.h>

/* Opens `path` for reading: a regular file of at most max_bytes (ALEXNET_ERR_FORMAT otherwise),
 * its size in *size. On failure *fd is -1 and nothing is left open. */
alexnet_status file_open_regular(const char *fn, const char *path, size_t max_bytes, int *fd,
                                 uint64_t *size);

/* Reads `count` bytes at `offset` of the open file `fd` (named `path` in messages), through short
 * reads and interruptions; ALEXNET_ERR_IO when it fails or the file ends first. */
alexnet_status file_read_at(const char *fn, const char *path, int fd, uint64_t offset, void *dest,
                            size_t count);

/* Reads `path` into a new buffer (release with free). Files larger than max_bytes are refused
 * with ALEXNET_ERR_FORMAT before anything is allocated. `fn` names the public function. */
alexnet_status file_read_all(const char *fn, const char *path, size_t max_bytes, uint8_t **data,
                             size_t *size);

/* Writes a file so that a crash at any moment leaves either the old file or the new one: `write`
 * fills a temporary file in the same directory, which is flushed to disk (fsync), renamed over
 * `path`, and the directory is synced. On any failure the temporary file is removed and `path`
 * is untouched. */
typedef alexnet_status (*file_writer)(FILE *file, void *ctx);
alexnet_status file_write_atomic(const char *fn, const char *path, file_writer writer, void *ctx);

/* The text of errno value `code`, written into buf (strerror is not thread-safe; this is). */
enum { ERRNO_TEXT_SIZE = 128 };
const char *errno_text(int code, char *buf, size_t size);

#endif
