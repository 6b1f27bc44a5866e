/* The one error mechanism: every failing path records a sentence in a thread-local buffer and
 * returns its status, so `return error_set(...)` is the idiom everywhere. */
#ifndef ALEXNET_ERROR_H
#define ALEXNET_ERROR_H

#include "alexnet/alexnet.h"

#if defined(__GNUC__)
#define ALEXNET_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ALEXNET_PRINTF(f, a)
#endif

/* The longest last-error message kept (longer ones are cut), and the size of any buffer that holds
 * a copy of one. */
enum { ERROR_CAPACITY = 1024 };

/* Records the message (printf-style) as the calling thread's last error and returns `status`. */
alexnet_status error_set(alexnet_status status, const char *fmt, ...) ALEXNET_PRINTF(2, 3);

/* Prepends "context: " to the current last error, keeping its status; for callers that add the
 * file or tensor name to a lower layer's message. */
alexnet_status error_prefix(alexnet_status status, const char *fmt, ...) ALEXNET_PRINTF(2, 3);

/* Returns ALEXNET_ERR_INVALID_ARGUMENT naming the NULL argument when `ptr` is NULL. */
#define CHECK_NOT_NULL(fn, ptr)                                                                    \
    do {                                                                                           \
        if ((ptr) == NULL)                                                                         \
            return error_set(ALEXNET_ERR_INVALID_ARGUMENT, "%s: argument '%s' is NULL", (fn),      \
                             #ptr);                                                                \
    } while (0)

#endif
