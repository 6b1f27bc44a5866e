/* Classifies images with a saved model, printing the top classes with their probabilities.
 *
 *   alexnet-classify MODEL [--top K] [--ten-crop] [--resize N] [--mean M[,M,M]] [--std S[,S,S]]
 *                    FILE...
 *   alexnet-classify MODEL [--top K] --idx IMAGES LABELS [--first N] [--save-png DIR]
 *   alexnet-classify --help
 *
 * Installed with the library (bin/alexnet-classify), so a model can be tried without writing a
 * program.
 * Files are PNG or JPEG, resized so the shorter side is 8/7 of the network's input size (256 for
 * 224: the standard ImageNet preprocessing) or, for grey networks, the input size itself, then
 * centre cropped; with --ten-crop the ten crops of the paper (corners, centre, mirrored) are
 * averaged instead. IDX samples (Fashion-MNIST's test set, say) are
 * classified as they are and compared with their labels; --save-png also writes them as images.
 * Normalisation defaults to Fashion-MNIST's for grey networks and ImageNet's for RGB. */
#include <alexnet/alexnet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct options {
    const char *model, *idx_images, *idx_labels, *save_png;
    int top, ten_crop, first, resize;
    float mean[3], std[3];
    int have_mean, have_std;
    char **files;
    int file_count;
} options;

static int fail(const char *what)
{
    fprintf(stderr, "alexnet-classify: %s: %s\n", what, alexnet_last_error());
    return 1;
}

static const char USAGE[] =
    "usage: alexnet-classify MODEL [--top K] [--ten-crop] [--resize N] [--mean M[,M,M]]\n"
    "                        [--std S[,S,S]] FILE...\n"
    "       alexnet-classify MODEL [--top K] --idx IMAGES LABELS [--first N] [--save-png DIR]\n";

static const char HELP[] =
    "Classifies images with a model saved by libalexnet (safetensors), printing the top classes\n"
    "with their probabilities (and the class names, when the model carries them).\n"
    "\n"
    "  FILE...            PNG or JPEG images: the shorter side is resized (see --resize) and the\n"
    "                     centre is cropped to the network's input size\n"
    "  --resize N         the shorter side before cropping (default: 8/7 of the input size for\n"
    "                     RGB networks, so 256 for 224: the standard ImageNet preprocessing;\n"
    "                     the input size itself for grey ones)\n"
    "  --top K            how many classes to print (default 3)\n"
    "  --ten-crop         average the paper's ten crops (corners, centre and their mirrors)\n"
    "  --mean M[,M,M]     per-channel mean subtracted (default: ImageNet's for RGB networks,\n"
    "                     Fashion-MNIST's for grey ones)\n"
    "  --std S[,S,S]      per-channel standard deviation divided by (default likewise)\n"
    "  --idx IMAGES LABELS  classify IDX samples (e.g. Fashion-MNIST's test set) and count how\n"
    "                     many are right\n"
    "  --first N          how many IDX samples (default 8)\n"
    "  --save-png DIR     also write the IDX samples as PNG files\n"
    "  --help             this text\n";

static void usage(void)
{
    fputs(USAGE, stderr);
    exit(2);
}

static void parse_triple(const char *text, float out[3])
{
    char *end;
    for (int i = 0; i < 3; i++) {
        out[i] = strtof(text, &end);
        if (*end == ',')
            text = end + 1;
        else if (i == 0) { /* one value for every channel */
            out[1] = out[2] = out[0];
            return;
        }
    }
}

static options parse(int argc, char **argv)
{
    options o = {.top = 3, .first = 8};
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("%s\n%s", USAGE, HELP);
        exit(0);
    }
    if (argc < 3)
        usage();
    o.model = argv[1];
    o.files = calloc((size_t)argc, sizeof *o.files);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--ten-crop") == 0)
            o.ten_crop = 1;
        else if (strcmp(a, "--top") == 0 && i + 1 < argc)
            o.top = atoi(argv[++i]);
        else if (strcmp(a, "--resize") == 0 && i + 1 < argc)
            o.resize = atoi(argv[++i]);
        else if (strcmp(a, "--first") == 0 && i + 1 < argc)
            o.first = atoi(argv[++i]);
        else if (strcmp(a, "--save-png") == 0 && i + 1 < argc)
            o.save_png = argv[++i];
        else if (strcmp(a, "--mean") == 0 && i + 1 < argc)
            parse_triple(argv[++i], o.mean), o.have_mean = 1;
        else if (strcmp(a, "--std") == 0 && i + 1 < argc)
            parse_triple(argv[++i], o.std), o.have_std = 1;
        else if (strcmp(a, "--idx") == 0 && i + 2 < argc) {
            o.idx_images = argv[++i];
            o.idx_labels = argv[++i];
        } else if (a[0] == '-')
            usage();
        else
            o.files[o.file_count++] = argv[i];
    }
    if (o.top < 1 || o.resize < 0 || (o.file_count == 0 && o.idx_images == NULL))
        usage();
    return o;
}

static const char *class_label(const alexnet_network *net, int c, char *buf, size_t size)
{
    const char *name = alexnet_network_class_name(net, c);
    if (name)
        return name;
    snprintf(buf, size, "class %d", c);
    return buf;
}

/* Prints "1. Ankle boot 97.31%  2. ..." for the `top` most probable classes. */
static int print_top(const alexnet_network *net, const float *probabilities, int classes, int top)
{
    int best = 0;
    int *order = malloc(sizeof(int) * (size_t)classes);
    for (int c = 0; c < classes; c++)
        order[c] = c;
    for (int k = 0; k < top && k < classes; k++) {
        for (int c = k + 1; c < classes; c++)
            if (probabilities[order[c]] > probabilities[order[k]]) {
                int t = order[k];
                order[k] = order[c];
                order[c] = t;
            }
        char buf[32];
        printf("%s%d. %s %.2f%%", k ? "  " : "", k + 1, class_label(net, order[k], buf, sizeof buf),
               100.0 * probabilities[order[k]]);
    }
    best = order[0];
    free(order);
    printf("\n");
    return best;
}

/* Probabilities for one preprocessed image [C, H, W] of the input size. */
static alexnet_status predict(alexnet_network *net, const alexnet_tensor *image,
                              float *probabilities, int classes)
{
    int64_t shape[4] = {1, alexnet_tensor_dim(image, 0), alexnet_tensor_dim(image, 1),
                        alexnet_tensor_dim(image, 2)};
    int64_t logit_shape[2] = {1, classes};
    alexnet_tensor *batch = NULL, *logits = NULL;
    alexnet_status st =
        alexnet_tensor_wrap(&batch, 4, shape, alexnet_tensor_data((alexnet_tensor *)image));
    if (st == ALEXNET_OK)
        st = alexnet_tensor_create(&logits, 2, logit_shape);
    if (st == ALEXNET_OK)
        st = alexnet_network_forward(net, batch, logits, 0);
    if (st == ALEXNET_OK)
        st = alexnet_softmax(logits, logits);
    if (st == ALEXNET_OK)
        memcpy(probabilities, alexnet_tensor_data(logits), sizeof(float) * (size_t)classes);
    alexnet_tensor_free(batch);
    alexnet_tensor_free(logits);
    return st;
}

static int classify_file(alexnet_network *net, const alexnet_config *cfg, const options *o,
                         const char *path, float *probabilities)
{
    alexnet_tensor *image = NULL, *resized = NULL, *crop = NULL;
    int side = cfg->in_height > cfg->in_width ? cfg->in_height : cfg->in_width;
    if (o->resize > 0)
        side = o->resize;
    else if (o->ten_crop || cfg->in_channels == 3) /* 224 -> 256, as ImageNet models are tested */
        side = side * 8 / 7;
    alexnet_status st = alexnet_image_load(&image, path, cfg->in_channels);
    if (st == ALEXNET_OK)
        st = alexnet_image_resize_shorter(&resized, image, side);
    if (st == ALEXNET_OK)
        st = alexnet_image_normalize(resized, o->mean, o->std);
    if (st == ALEXNET_OK && o->ten_crop) {
        int64_t classes = cfg->num_classes;
        alexnet_tensor *out = NULL;
        st = alexnet_tensor_wrap(&out, 1, &classes, probabilities);
        if (st == ALEXNET_OK)
            st = alexnet_predict_ten_crop(net, resized, out);
        alexnet_tensor_free(out);
    } else if (st == ALEXNET_OK) {
        const int h = (int)alexnet_tensor_dim(resized, 1), w = (int)alexnet_tensor_dim(resized, 2);
        st = alexnet_image_crop(&crop, resized, (h - cfg->in_height) / 2, (w - cfg->in_width) / 2,
                                cfg->in_height, cfg->in_width);
        if (st == ALEXNET_OK)
            st = predict(net, crop, probabilities, cfg->num_classes);
    }
    alexnet_tensor_free(image);
    alexnet_tensor_free(resized);
    alexnet_tensor_free(crop);
    if (st != ALEXNET_OK)
        return fail(path);
    printf("%s: ", path);
    print_top(net, probabilities, cfg->num_classes, o->top);
    return 0;
}

static int classify_idx(alexnet_network *net, const alexnet_config *cfg, const options *o,
                        float *probabilities)
{
    alexnet_dataset *ds = NULL;
    if (alexnet_dataset_open_idx(&ds, o->idx_images, o->idx_labels) != ALEXNET_OK)
        return fail("opening the IDX files");
    if (o->save_png && mkdir(o->save_png, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "classify: cannot create '%s': %s\n", o->save_png, strerror(errno));
        return 1;
    }
    int correct = 0,
        n = o->first < alexnet_dataset_size(ds) ? o->first : (int)alexnet_dataset_size(ds);
    for (int i = 0; i < n; i++) {
        alexnet_tensor *image = NULL;
        int32_t label;
        if (alexnet_dataset_get(ds, i, &image, &label) != ALEXNET_OK)
            return fail("reading a sample");
        if (o->save_png) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%d.png", o->save_png, i);
            if (alexnet_image_save_png(image, path) != ALEXNET_OK)
                return fail("writing a sample");
        }
        if (alexnet_image_normalize(image, o->mean, o->std) != ALEXNET_OK ||
            predict(net, image, probabilities, cfg->num_classes) != ALEXNET_OK)
            return fail("classifying");
        char buf[32];
        printf("sample %d (%s): ", i, class_label(net, label, buf, sizeof buf));
        correct += print_top(net, probabilities, cfg->num_classes, o->top) == label;
        alexnet_tensor_free(image);
    }
    printf("%d of %d correct\n", correct, n);
    alexnet_dataset_free(ds);
    return 0;
}

int main(int argc, char **argv)
{
    options o = parse(argc, argv);
    alexnet_network *net = NULL;
    if (alexnet_network_load(&net, o.model) != ALEXNET_OK)
        return fail("loading the model");
    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    alexnet_network_get_config(net, &cfg);
    const float grey_mean[3] = {0.2860f, 0.2860f, 0.2860f},
                grey_std[3] = {0.3530f, 0.3530f, 0.3530f};
    const float rgb_mean[3] = {0.485f, 0.456f, 0.406f}, rgb_std[3] = {0.229f, 0.224f, 0.225f};
    if (!o.have_mean)
        memcpy(o.mean, cfg.in_channels == 1 ? grey_mean : rgb_mean, sizeof o.mean);
    if (!o.have_std)
        memcpy(o.std, cfg.in_channels == 1 ? grey_std : rgb_std, sizeof o.std);
    float *probabilities = malloc(sizeof(float) * (size_t)cfg.num_classes);
    int status = 0;
    if (o.idx_images)
        status |= classify_idx(net, &cfg, &o, probabilities);
    for (int i = 0; i < o.file_count; i++)
        status |= classify_file(net, &cfg, &o, o.files[i], probabilities);
    free(probabilities);
    free(o.files);
    alexnet_network_free(net);
    return status;
}
