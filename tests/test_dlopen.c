/* Loading and unloading the shared library, as a plugin host does: each cycle starts the thread
 * pool and runs a network, and after dlclose the process must have no thread left over (a worker
 * left behind would run code that is no longer mapped). Takes the library's path. */
#include "test_helpers.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

static const char *library;

static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int library_is_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f))
        found |= strstr(line, "libalexnet.so") != NULL;
    fclose(f);
    return found;
}

#define BIND(handle, name) ((__typeof__(&name))dlsym(handle, #name))

START_TEST(load_use_unload_cycles_leave_no_thread)
{
    const int before = thread_count();
    ck_assert(!library_is_mapped());
    for (int cycle = 0; cycle < 4; cycle++) {
        void *h = dlopen(library, RTLD_NOW | RTLD_LOCAL);
        ck_assert_msg(h != NULL, "dlopen %s: %s", library, dlerror());
        ck_assert_int_eq(BIND(h, alexnet_set_num_threads)(2), ALEXNET_OK);
        ck_assert_int_eq(BIND(h, alexnet_get_num_threads)(), 2);
        ck_assert_int_gt(thread_count(), before); /* the pool's worker is running */

        alexnet_config cfg;
        ck_assert_int_eq(BIND(h, alexnet_config_init)(&cfg, ALEXNET_ARCH_MINI), ALEXNET_OK);
        alexnet_network *net = NULL;
        ck_assert_int_eq(BIND(h, alexnet_network_create)(&net, &cfg, 1), ALEXNET_OK);
        int64_t in_shape[4] = {4, 1, 28, 28}, out_shape[2] = {4, 10};
        alexnet_tensor *x = NULL, *y = NULL;
        ck_assert_int_eq(BIND(h, alexnet_tensor_create)(&x, 4, in_shape), ALEXNET_OK);
        ck_assert_int_eq(BIND(h, alexnet_tensor_create)(&y, 2, out_shape), ALEXNET_OK);
        ck_assert_int_eq(BIND(h, alexnet_network_forward)(net, x, y, 0), ALEXNET_OK);
        BIND(h, alexnet_tensor_free)(x);
        BIND(h, alexnet_tensor_free)(y);
        BIND(h, alexnet_network_free)(net);

        ck_assert_int_eq(dlclose(h), 0);
        ck_assert_msg(!library_is_mapped(), "cycle %d: libalexnet is still mapped", cycle);
        ck_assert_int_eq(thread_count(), before);
    }
}
END_TEST

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/libalexnet.so\n", argv[0]);
        return 2;
    }
    library = argv[1];
    Suite *s = suite_create("dlopen");
    TCase *tc = tcase_create("dlopen");
    tcase_add_test(tc, load_use_unload_cycles_leave_no_thread);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
