#include "input_limits.h"

#include "config_struct.h"
#include "error.h"

#include <pthread.h>

/* Every field is required: a caller that sets limits names all of them. */
#define LIMITS_MIN_SIZE CONFIG_SIZE_THROUGH(alexnet_limits, max_image_side)

#define DEFAULT_LIMITS                                                                             \
    {                                                                                              \
        .struct_size = sizeof(alexnet_limits), .max_model_bytes = (int64_t)4 << 30,                \
        .max_dataset_bytes = (int64_t)2 << 30, .max_image_bytes = (int64_t)256 << 20,              \
        .max_image_pixels = (int64_t)1 << 26, .max_image_side = 16384,                             \
    }
static const alexnet_limits DEFAULTS = DEFAULT_LIMITS;

/* The largest values: beyond them stb_image's int sizes or the IDX reader's would not hold. */
static const alexnet_limits CEILINGS = {
    .struct_size = sizeof(alexnet_limits),
    .max_model_bytes = (int64_t)64 << 30,
    .max_dataset_bytes = (int64_t)2 << 30,
    .max_image_bytes = (int64_t)256 << 20,
    .max_image_pixels = (int64_t)1 << 26,
    .max_image_side = 16384,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static alexnet_limits current = DEFAULT_LIMITS;

alexnet_limits limits_current(void)
{
    pthread_mutex_lock(&lock);
    alexnet_limits copy = current;
    pthread_mutex_unlock(&lock);
    return copy;
}

alexnet_status alexnet_limits_init(alexnet_limits *limits)
{
    CHECK_NOT_NULL("alexnet_limits_init", limits);
    *limits = DEFAULTS;
    return ALEXNET_OK;
}

alexnet_status alexnet_limits_get(alexnet_limits *limits)
{
    static const char fn[] = "alexnet_limits_get";
    CHECK_NOT_NULL(fn, limits);
    const alexnet_limits copy = limits_current();
    return config_copy_out(fn, "alexnet_limits", limits, &copy, sizeof copy, LIMITS_MIN_SIZE);
}

static alexnet_status check_limit(const char *field, int64_t value, int64_t ceiling)
{
    if (value < 1 || value > ceiling)
        return error_set(ALEXNET_ERR_INVALID_ARGUMENT,
                         "alexnet_limits_set: %s is %lld; it must be 1 to %lld", field,
                         (long long)value, (long long)ceiling);
    return ALEXNET_OK;
}

alexnet_status alexnet_limits_set(const alexnet_limits *limits)
{
    static const char fn[] = "alexnet_limits_set";
    alexnet_limits next = DEFAULTS;
    if (limits != NULL) {
        alexnet_status st =
            config_copy_in(fn, "alexnet_limits", &next, sizeof next, limits, LIMITS_MIN_SIZE);
        if (st != ALEXNET_OK)
            return st;
#define CHECK_FIELD(f)                                                                             \
    if ((st = check_limit(#f, next.f, CEILINGS.f)) != ALEXNET_OK)                                  \
    return st
        CHECK_FIELD(max_model_bytes);
        CHECK_FIELD(max_dataset_bytes);
        CHECK_FIELD(max_image_bytes);
        CHECK_FIELD(max_image_pixels);
        CHECK_FIELD(max_image_side);
#undef CHECK_FIELD
    }
    pthread_mutex_lock(&lock);
    current = next;
    pthread_mutex_unlock(&lock);
    return ALEXNET_OK;
}
