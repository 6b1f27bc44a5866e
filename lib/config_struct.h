/* Configuration structs cross the ABI with their size in front (`size_t struct_size`), so a caller
 * built against an older or newer header still works. This is the one place that honours it:
 * every config struct comes in through config_copy_in and goes out through config_copy_out. */
#ifndef ALEXNET_CONFIG_STRUCT_H
#define ALEXNET_CONFIG_STRUCT_H

#include "alexnet/alexnet.h"

#include <stddef.h>

/* Copies the caller's struct `src` over `dst`, which holds this library's defaults for every field
 * and is `dst_size` bytes (its sizeof here):
 *   - struct_size below `min_size` (the fields every caller must set) is refused;
 *   - a smaller struct (an older caller) keeps the defaults for the fields it lacks;
 *   - a larger struct (a newer caller) is accepted only when every byte past dst_size is zero, that
 *     is when it asks for nothing this library does not know (as Linux's copy_struct_from_user).
 * dst->struct_size becomes dst_size. `type` names the struct and its init function in messages. */
alexnet_status config_copy_in(const char *fn, const char *type, void *dst, size_t dst_size,
                              const void *src, size_t min_size);

/* Copies this library's struct `src` (`src_size` bytes) out to the caller's `dst`, as much of it as
 * the caller's struct_size holds; dst->struct_size becomes the number of bytes written, so a newer
 * caller can tell which fields this library filled. struct_size below `min_size` is refused. */
alexnet_status config_copy_out(const char *fn, const char *type, void *dst, const void *src,
                               size_t src_size, size_t min_size);

/* The bytes of a config struct up to and including `field`: the size a caller must provide. */
#define CONFIG_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

#endif
