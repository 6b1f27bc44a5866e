/* A C host found through find_package(alexnet): builds PAPER for 2 classes, checks a saved and
 * reloaded copy gives the same logits. */
#include <alexnet/alexnet.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    alexnet_config cfg;
    alexnet_network *net = NULL, *copy = NULL;
    alexnet_tensor *image = NULL, *a = NULL, *b = NULL;
    int64_t image_shape[4] = {1, 3, 67, 67}, logit_shape[2] = {1, 2};
    alexnet_config_init(&cfg, ALEXNET_ARCH_PAPER);
    cfg.in_height = cfg.in_width = 67; /* the smallest input PAPER takes */
    cfg.num_classes = 2;
    if (alexnet_network_create(&net, &cfg, 3) || alexnet_tensor_create(&image, 4, image_shape) ||
        alexnet_tensor_create(&a, 2, logit_shape) || alexnet_tensor_create(&b, 2, logit_shape) ||
        alexnet_network_save(net, "cmake-host.safetensors") ||
        alexnet_network_load(&copy, "cmake-host.safetensors") ||
        alexnet_network_forward(net, image, a, 0) || alexnet_network_forward(copy, image, b, 0)) {
        fprintf(stderr, "error: %s\n", alexnet_last_error());
        return 1;
    }
    int same = memcmp(alexnet_tensor_data(a), alexnet_tensor_data(b), 2 * sizeof(float)) == 0;
    printf("CMake host (libalexnet %s): saved and reloaded PAPER agree: %s\n",
           alexnet_version_string(), same ? "yes" : "no");
    alexnet_tensor_free(image);
    alexnet_tensor_free(a);
    alexnet_tensor_free(b);
    alexnet_network_free(net);
    alexnet_network_free(copy);
    return same ? 0 : 1;
}
