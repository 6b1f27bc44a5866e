/* Assertions shared by the Check suites: a failing status prints the library's own message, and
 * an expected failure is checked by status and by a phrase of its message. */
#ifndef ALEXNET_TEST_HELPERS_H
#define ALEXNET_TEST_HELPERS_H

#include <alexnet/alexnet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define ck_assert_ok(expr)                                                                         \
    do {                                                                                           \
        alexnet_status st_ = (expr);                                                               \
        ck_assert_msg(st_ == ALEXNET_OK, "%s returned %d (%s): %s", #expr, (int)st_,               \
                      alexnet_status_string(st_), alexnet_last_error());                           \
    } while (0)

/* The call fails with `status` and its message contains `phrase`. */
#define ck_assert_fails(expr, status, phrase)                                                      \
    do {                                                                                           \
        alexnet_status st_ = (expr);                                                               \
        ck_assert_msg(st_ == (status), "%s returned %d (%s), expected %d; message: %s", #expr,     \
                      (int)st_, alexnet_status_string(st_), (int)(status), alexnet_last_error());  \
        ck_assert_msg(strstr(alexnet_last_error(), (phrase)) != NULL,                              \
                      "%s: message \"%s\" lacks \"%s\"", #expr, alexnet_last_error(), (phrase));   \
    } while (0)

/* A test case for the tests too slow to run under valgrind (its tag, "slow", is what the
 * test command's valgrind stage leaves out with CK_EXCLUDE_TAGS=slow). */
static inline TCase *tcase_create_slow(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_tags(tc, "slow");
    return tc;
}

/* Runs a suite and returns the process exit status; every test program's main is this. */
static inline int run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
