/* Tensor handles, version and error reporting: the foundation's ABI. */
#include "file_helpers.h"
#include "test_helpers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

START_TEST(creates_zeroed_aligned_tensor)
{
    int64_t shape[] = {2, 3, 5, 7};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 4, shape));
    ck_assert_int_eq(alexnet_tensor_ndim(t), 4);
    ck_assert_int_eq(alexnet_tensor_numel(t), 210);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(alexnet_tensor_dim(t, i), shape[i]);
    ck_assert_int_eq(alexnet_tensor_dim(t, -1), 7);
    ck_assert_int_eq(alexnet_tensor_dim(t, -4), 2);
    float *data = alexnet_tensor_data(t);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq((uintptr_t)data % 64, 0);
    for (int i = 0; i < 210; i++)
        ck_assert_float_eq(data[i], 0.0f);
    data[209] = 4.5f; /* the whole extent is writable (ASan checks the bound) */
    alexnet_tensor_free(t);
}
END_TEST

START_TEST(allows_eight_dimensions)
{
    int64_t shape[8] = {1, 2, 1, 2, 1, 2, 1, 2};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 8, shape));
    ck_assert_int_eq(alexnet_tensor_numel(t), 16);
    alexnet_tensor_free(t);
}
END_TEST

START_TEST(wraps_caller_memory_without_copy)
{
    float buffer[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[] = {2, 3};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_wrap(&t, 2, shape, buffer));
    ck_assert_ptr_eq(alexnet_tensor_data(t), buffer);
    alexnet_tensor_data(t)[4] = -1.0f;
    alexnet_tensor_free(t); /* must not free the stack buffer */
    ck_assert_float_eq(buffer[4], -1.0f);
}
END_TEST

START_TEST(rejects_non_positive_dimensions)
{
    alexnet_tensor *t = (alexnet_tensor *)&t; /* a non-NULL value that must be reset */
    int64_t zero[] = {3, 0, 2};
    ck_assert_fails(alexnet_tensor_create(&t, 3, zero), ALEXNET_ERR_INVALID_ARGUMENT,
                    "dimension 1 is 0");
    ck_assert_ptr_null(t);
    int64_t negative[] = {-3};
    ck_assert_fails(alexnet_tensor_create(&t, 1, negative), ALEXNET_ERR_INVALID_ARGUMENT,
                    "dimension 0 is -3");
}
END_TEST

START_TEST(rejects_bad_dimension_counts)
{
    alexnet_tensor *t = NULL;
    int64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_fails(alexnet_tensor_create(&t, 9, shape), ALEXNET_ERR_INVALID_ARGUMENT, "ndim is 9");
    ck_assert_fails(alexnet_tensor_create(&t, 0, shape), ALEXNET_ERR_INVALID_ARGUMENT, "ndim is 0");
    ck_assert_fails(alexnet_tensor_create(&t, -2, shape), ALEXNET_ERR_INVALID_ARGUMENT,
                    "ndim is -2");
}
END_TEST

START_TEST(rejects_overflowing_sizes)
{
    alexnet_tensor *t = NULL;
    int64_t elements[] = {INT64_MAX / 2, 3};
    ck_assert_fails(alexnet_tensor_create(&t, 2, elements), ALEXNET_ERR_OUT_OF_MEMORY,
                    "overflows 64 bits at dimension 1");
    int64_t bytes[] = {(int64_t)1 << 61, 2}; /* 2^62 elements fit int64, 2^64 bytes do not */
    ck_assert_fails(alexnet_tensor_create(&t, 2, bytes), ALEXNET_ERR_OUT_OF_MEMORY,
                    "do not fit in the address space");
    int64_t many[] = {65536, 65536, 65536, 65536};
    ck_assert_fails(alexnet_tensor_create(&t, 4, many), ALEXNET_ERR_OUT_OF_MEMORY, "overflows");
    ck_assert_ptr_null(t);
}
END_TEST

/* A failed allocation is reported, whatever the machine: under a 64 MiB address-space cap, a
 * 1 GiB tensor cannot be had (under AddressSanitizer, which cannot run capped, a size past its
 * allocator's limit fails instead; allocator_may_return_null is set for the tests). */
START_TEST(reports_failed_allocation)
{
    alexnet_tensor *t = (alexnet_tensor *)&t;
    int64_t size[] = {(int64_t)1 << 28};
    if (!limit_address_space((size_t)64 << 20))
        size[0] = (int64_t)1 << 44; /* 64 TiB: beyond AddressSanitizer's largest allocation */
    ck_assert_fails(alexnet_tensor_create(&t, 1, size), ALEXNET_ERR_OUT_OF_MEMORY,
                    "cannot allocate");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(rejects_null_pointers)
{
    int64_t shape[] = {2};
    alexnet_tensor *t = NULL;
    float buffer[2];
    ck_assert_fails(alexnet_tensor_create(NULL, 1, shape), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'out' is NULL");
    ck_assert_fails(alexnet_tensor_create(&t, 1, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'shape' is NULL");
    ck_assert_fails(alexnet_tensor_wrap(&t, 1, shape, NULL), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'data' is NULL");
    ck_assert_fails(alexnet_tensor_wrap(NULL, 1, shape, buffer), ALEXNET_ERR_INVALID_ARGUMENT,
                    "'out' is NULL");
    ck_assert_int_eq(alexnet_tensor_ndim(NULL), 0);
    ck_assert_int_eq(alexnet_tensor_numel(NULL), 0);
    ck_assert_ptr_null(alexnet_tensor_data(NULL));
    ck_assert_int_eq(alexnet_tensor_dim(NULL, 0), -1);
    ck_assert_ptr_nonnull(strstr(alexnet_last_error(), "'out' is NULL")); /* left as it was */
    alexnet_tensor_free(NULL);
}
END_TEST

START_TEST(rejects_misaligned_wrap)
{
    float buffer[4];
    int64_t shape[] = {2};
    alexnet_tensor *t = NULL;
    float *misaligned = (float *)((char *)buffer + 1);
    ck_assert_fails(alexnet_tensor_wrap(&t, 1, shape, misaligned), ALEXNET_ERR_INVALID_ARGUMENT,
                    "not aligned");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(rejects_axis_out_of_range)
{
    int64_t shape[] = {4, 5};
    alexnet_tensor *t = NULL;
    ck_assert_ok(alexnet_tensor_create(&t, 2, shape));
    alexnet_tensor_wrap(NULL, 2, shape, NULL); /* some earlier failure */
    char before[256];
    snprintf(before, sizeof before, "%s", alexnet_last_error());
    ck_assert_int_eq(alexnet_tensor_dim(t, 2), -1);
    ck_assert_int_eq(alexnet_tensor_dim(t, -3), -1);
    ck_assert_str_eq(alexnet_last_error(), before); /* an accessor never sets the last error */
    alexnet_tensor_free(t);
}
END_TEST

/* The loaded library's version agrees with itself and with the build's project version (CMake
 * reads it from the header's macros; the library compiles them into a number and a string). */
START_TEST(reports_version)
{
    unsigned major, minor, patch;
    char end;
    ck_assert_int_eq(sscanf(alexnet_version_string(), "%u.%u.%u%c", &major, &minor, &patch, &end),
                     3);
    ck_assert_uint_eq(alexnet_version(), major * 10000 + minor * 100 + patch);
    ck_assert_str_eq(alexnet_version_string(), ALEXNET_PROJECT_VERSION);
    ck_assert_uint_eq(major, ALEXNET_VERSION_MAJOR); /* the ABI this test was built for */
    ck_assert_uint_ge(alexnet_version(), ALEXNET_VERSION);
}
END_TEST

START_TEST(names_every_status)
{
    ck_assert_str_eq(alexnet_status_string(ALEXNET_OK), "ok");
    ck_assert_str_eq(alexnet_status_string(ALEXNET_ERR_SHAPE), "shape mismatch");
    for (int s = ALEXNET_ERR_INVALID_ARGUMENT; s <= ALEXNET_ERR_INTERNAL; s++)
        ck_assert_str_ne(alexnet_status_string((alexnet_status)s), "unknown status");
    ck_assert_str_eq(alexnet_status_string((alexnet_status)999), "unknown status");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    *(int *)arg = alexnet_last_error()[0] == '\0'; /* a new thread starts with no error */
    int64_t shape[] = {0};
    alexnet_tensor *t;
    alexnet_tensor_create(&t, 1, shape);
    return NULL;
}

START_TEST(keeps_last_error_per_thread)
{
    int64_t shape[] = {-7};
    alexnet_tensor *t;
    ck_assert_int_ne(alexnet_tensor_create(&t, 1, shape), ALEXNET_OK);
    pthread_t thread;
    int started_clean = 0;
    ck_assert_int_eq(pthread_create(&thread, NULL, fail_in_thread, &started_clean), 0);
    pthread_join(thread, NULL);
    ck_assert_int_eq(started_clean, 1);
    ck_assert_ptr_nonnull(strstr(alexnet_last_error(), "is -7"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, creates_zeroed_aligned_tensor);
    tcase_add_test(tc, allows_eight_dimensions);
    tcase_add_test(tc, wraps_caller_memory_without_copy);
    tcase_add_test(tc, rejects_non_positive_dimensions);
    tcase_add_test(tc, rejects_bad_dimension_counts);
    tcase_add_test(tc, rejects_overflowing_sizes);
    tcase_add_test(tc, reports_failed_allocation);
    tcase_add_test(tc, rejects_null_pointers);
    tcase_add_test(tc, rejects_misaligned_wrap);
    tcase_add_test(tc, rejects_axis_out_of_range);
    tcase_add_test(tc, reports_version);
    tcase_add_test(tc, names_every_status);
    tcase_add_test(tc, keeps_last_error_per_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
