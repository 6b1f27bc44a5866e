#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[ERROR_CAPACITY];

alexnet_status error_set(alexnet_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

alexnet_status error_prefix(alexnet_status status, const char *fmt, ...)
{
    char prefix[ERROR_CAPACITY];
    char previous[ERROR_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(previous, last_error, sizeof previous);
    size_t used = strlen(prefix);
    memcpy(last_error, prefix, used + 1);
    /* Truncates quietly when the two do not fit: a clipped message beats none. */
    snprintf(last_error + used, sizeof last_error - used, ": %.*s", (int)(sizeof last_error - used),
             previous);
    return status;
}

const char *alexnet_last_error(void)
{
    return last_error;
}

alexnet_status alexnet_set_last_error(alexnet_status status, const char *message)
{
    if (message != last_error) /* the current message is already recorded */
        error_set(status, "%s", message ? message : "");
    return status;
}

const char *alexnet_status_string(alexnet_status status)
{
    switch (status) {
    case ALEXNET_OK: return "ok";
    case ALEXNET_ERR_INVALID_ARGUMENT: return "invalid argument";
    case ALEXNET_ERR_SHAPE: return "shape mismatch";
    case ALEXNET_ERR_OUT_OF_MEMORY: return "out of memory";
    case ALEXNET_ERR_IO: return "input/output error";
    case ALEXNET_ERR_FORMAT: return "malformed or unsupported file contents";
    case ALEXNET_ERR_NUMERIC: return "non-finite value";
    case ALEXNET_ERR_STATE: return "call out of order";
    case ALEXNET_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
