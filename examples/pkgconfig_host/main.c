/* A C host built from nothing but `pkg-config --cflags --libs alexnet` (see the Makefile):
 * creates the torchvision network, classifies a synthetic image, prints the top class. */
#include <alexnet/alexnet.h>
#include <stdio.h>

int main(void)
{
    alexnet_config cfg;
    alexnet_network *net = NULL;
    alexnet_tensor *image = NULL, *logits = NULL;
    int64_t image_shape[4] = {1, 3, 224, 224}, logit_shape[2] = {1, 1000};
    alexnet_config_init(&cfg, ALEXNET_ARCH_TORCHVISION);
    if (alexnet_network_create(&net, &cfg, 1) != ALEXNET_OK ||
        alexnet_tensor_create(&image, 4, image_shape) != ALEXNET_OK ||
        alexnet_tensor_create(&logits, 2, logit_shape) != ALEXNET_OK) {
        fprintf(stderr, "error: %s\n", alexnet_last_error());
        return 1;
    }
    for (int64_t i = 0; i < alexnet_tensor_numel(image); i++)
        alexnet_tensor_data(image)[i] = (float)(i % 224) / 224.0f;
    if (alexnet_network_forward(net, image, logits, 0) != ALEXNET_OK) {
        fprintf(stderr, "error: %s\n", alexnet_last_error());
        return 1;
    }
    int best = 0;
    for (int c = 1; c < 1000; c++)
        if (alexnet_tensor_data(logits)[c] > alexnet_tensor_data(logits)[best])
            best = c;
    printf("pkg-config host (libalexnet %s): top class %d of 1000\n", alexnet_version_string(),
           best);
    alexnet_tensor_free(image);
    alexnet_tensor_free(logits);
    alexnet_network_free(net);
    return 0;
}
