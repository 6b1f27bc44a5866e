/* Classifies images with a saved model, printing the top classes with their probabilities, or
 * measures top-1 / top-5 accuracy over a folder of labelled images.
 *
 *   alexnet-classify MODEL [--top K] [--ten-crop] [--preprocessing KIND] [--resize N]
 *                    [--mean M[,M,M]] [--std S[,S,S]] FILE...
 *   alexnet-classify MODEL [--top K] --idx IMAGES LABELS [--first N] [--save-png DIR]
 *   alexnet-classify MODEL [--preprocessing KIND] ... --folder DIR [--first N]
 *   alexnet-classify --help
 *
 * Installed with the library (bin/alexnet-classify), so a model can be tried without writing a
 * program. Images are prepared as the model file records (alexnet_network_get_preprocessing:
 * torchvision's ImageNet preprocessing for converted torchvision weights, Caffe's for
 * bvlc_alexnet, the training set's mean and std for the Fashion-MNIST trainer's models) in one
 * call, alexnet_image_preprocess; the options change single steps of it. With --ten-crop the ten
 * crops of the paper (corners, centre, mirrored) are averaged instead of the centre alone. IDX
 * samples (Fashion-MNIST's test set, say) are classified and compared with their labels;
 * --save-png also writes them as images. --folder takes an ImageNet-style tree (one folder per
 * class, named so that their sorted order is the model's class order) and prints the top-1 and
 * top-5 accuracy of the centre crop. */
#include <alexnet/alexnet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct options {
    const char *model, *idx_images, *idx_labels, *save_png, *folder, *kind;
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
    "usage: alexnet-classify MODEL [--top K] [--ten-crop] [--preprocessing KIND] [--resize N]\n"
    "                        [--mean M[,M,M]] [--std S[,S,S]] FILE...\n"
    "       alexnet-classify MODEL [--top K] --idx IMAGES LABELS [--first N] [--save-png DIR]\n"
    "       alexnet-classify MODEL [--preprocessing KIND] --folder DIR [--first N]\n";

static const char HELP[] =
    "Classifies images with a model saved by libalexnet (safetensors), printing the top classes\n"
    "with their probabilities (and the class names, when the model carries them).\n"
    "Images are prepared as the model records: resized, centre cropped to the network's input\n"
    "size, channels ordered, scaled and normalised (models that record nothing: ImageNet's\n"
    "preprocessing for RGB networks, the plain one for grey ones).\n"
    "\n"
    "  FILE...            PNG or JPEG images\n"
    "  --preprocessing KIND  imagenet (torchvision: shorter side 256, ImageNet mean and std),\n"
    "                     caffe (bvlc_alexnet: 256x256, BGR in 0..255 minus the mean pixel) or\n"
    "                     plain (pixels in 0..1), instead of what the model records\n"
    "  --resize N         the shorter side (Caffe's: both sides) before cropping\n"
    "  --mean M[,M,M]     per-channel mean subtracted (after scaling, in the network's order)\n"
    "  --std S[,S,S]      per-channel standard deviation divided by\n"
    "  --top K            how many classes to print (default 3)\n"
    "  --ten-crop         average the paper's ten crops (corners, centre and their mirrors)\n"
    "  --idx IMAGES LABELS  classify IDX samples (e.g. Fashion-MNIST's test set) and count how\n"
    "                     many are right\n"
    "  --first N          how many IDX samples (default 8), or folder images (default all)\n"
    "  --save-png DIR     also write the IDX samples as PNG files\n"
    "  --folder DIR       top-1 and top-5 accuracy of the centre crop over a folder per class\n"
    "                     (ImageNet's validation set sorted into its 1,000 synset folders)\n"
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
    options o = {.top = 3, .first = -1};
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
        else if (strcmp(a, "--preprocessing") == 0 && i + 1 < argc)
            o.kind = argv[++i];
        else if (strcmp(a, "--folder") == 0 && i + 1 < argc)
            o.folder = argv[++i];
        else if (strcmp(a, "--idx") == 0 && i + 2 < argc) {
            o.idx_images = argv[++i];
            o.idx_labels = argv[++i];
        } else if (a[0] == '-')
            usage();
        else
            o.files[o.file_count++] = argv[i];
    }
    if (o.top < 1 || o.resize < 0 || (o.file_count == 0 && !o.idx_images && !o.folder))
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
                         const alexnet_preprocessing *prep, const char *path, float *probabilities)
{
    alexnet_tensor *image = NULL, *prepared = NULL;
    alexnet_status st = alexnet_image_load(&image, path, cfg->in_channels);
    if (st == ALEXNET_OK && o->ten_crop) { /* the whole resized image: the ten crops are cut next */
        int64_t classes = cfg->num_classes;
        alexnet_tensor *out = NULL;
        st = alexnet_image_preprocess(&prepared, image, prep, 0, 0);
        if (st == ALEXNET_OK)
            st = alexnet_tensor_wrap(&out, 1, &classes, probabilities);
        if (st == ALEXNET_OK)
            st = alexnet_predict_ten_crop(net, prepared, out);
        alexnet_tensor_free(out);
    } else if (st == ALEXNET_OK) {
        st = alexnet_image_preprocess(&prepared, image, prep, cfg->in_height, cfg->in_width);
        if (st == ALEXNET_OK)
            st = predict(net, prepared, probabilities, cfg->num_classes);
    }
    alexnet_tensor_free(image);
    alexnet_tensor_free(prepared);
    if (st != ALEXNET_OK)
        return fail(path);
    printf("%s: ", path);
    print_top(net, probabilities, cfg->num_classes, o->top);
    return 0;
}

static int classify_idx(alexnet_network *net, const alexnet_config *cfg, const options *o,
                        const alexnet_preprocessing *prep, float *probabilities)
{
    alexnet_dataset *ds = NULL;
    if (alexnet_dataset_open_idx(&ds, o->idx_images, o->idx_labels) != ALEXNET_OK)
        return fail("opening the IDX files");
    if (o->save_png && mkdir(o->save_png, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "alexnet-classify: cannot create '%s': %s\n", o->save_png, strerror(errno));
        return 1;
    }
    const int64_t size = alexnet_dataset_size(ds), first = o->first < 0 ? 8 : o->first;
    const int n = (int)(first < size ? first : size);
    int correct = 0;
    for (int i = 0; i < n; i++) {
        alexnet_tensor *image = NULL, *prepared = NULL;
        int32_t label;
        if (alexnet_dataset_get(ds, i, &image, &label) != ALEXNET_OK)
            return fail("reading a sample");
        if (o->save_png) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%d.png", o->save_png, i);
            if (alexnet_image_save_png(image, path) != ALEXNET_OK)
                return fail("writing a sample");
        }
        if (alexnet_image_preprocess(&prepared, image, prep, cfg->in_height, cfg->in_width) !=
                ALEXNET_OK ||
            predict(net, prepared, probabilities, cfg->num_classes) != ALEXNET_OK)
            return fail("classifying");
        char buf[32];
        printf("sample %d (%s): ", i, class_label(net, label, buf, sizeof buf));
        correct += print_top(net, probabilities, cfg->num_classes, o->top) == label;
        alexnet_tensor_free(image);
        alexnet_tensor_free(prepared);
    }
    printf("%d of %d correct\n", correct, n);
    alexnet_dataset_free(ds);
    return 0;
}

/* Where `label` ranks among the logits of one image: 0 when it is the largest. Ties count
 * against it, so an all-equal output is never "right". */
static int rank_of(const float *logits, int classes, int label)
{
    int rank = 0;
    for (int c = 0; c < classes; c++)
        rank += c != label && logits[c] >= logits[label];
    return rank;
}

enum { FOLDER_BATCH = 25 };

/* Top-1 and top-5 accuracy of the centre crop over an ImageNet-style folder tree, in batches. */
static int classify_folder(alexnet_network *net, const alexnet_config *cfg, const options *o,
                           const alexnet_preprocessing *prep)
{
    alexnet_dataset *ds = NULL;
    if (alexnet_dataset_open_folder(&ds, o->folder, cfg->in_channels) != ALEXNET_OK)
        return fail("opening the folder");
    if (alexnet_dataset_num_classes(ds) > cfg->num_classes) {
        fprintf(stderr, "alexnet-classify: '%s' has %d class folders; the model knows %d\n",
                o->folder, alexnet_dataset_num_classes(ds), cfg->num_classes);
        alexnet_dataset_free(ds);
        return 1;
    }
    const int64_t size = alexnet_dataset_size(ds);
    const int64_t n = o->first >= 0 && o->first < size ? o->first : size;
    const size_t image_floats = (size_t)cfg->in_channels * cfg->in_height * cfg->in_width;
    int64_t batch_shape[4] = {FOLDER_BATCH, cfg->in_channels, cfg->in_height, cfg->in_width};
    int64_t logit_shape[2] = {FOLDER_BATCH, cfg->num_classes};
    alexnet_tensor *batch = NULL, *logits = NULL;
    int32_t labels[FOLDER_BATCH];
    int64_t top1 = 0, top5 = 0;
    alexnet_status st = alexnet_tensor_create(&batch, 4, batch_shape);
    if (st == ALEXNET_OK)
        st = alexnet_tensor_create(&logits, 2, logit_shape);
    for (int64_t begin = 0; st == ALEXNET_OK && begin < n; begin += FOLDER_BATCH) {
        const int count = (int)(n - begin < FOLDER_BATCH ? n - begin : FOLDER_BATCH);
        for (int i = 0; st == ALEXNET_OK && i < count; i++) {
            alexnet_tensor *image = NULL, *prepared = NULL;
            st = alexnet_dataset_get(ds, begin + i, &image, &labels[i]);
            if (st == ALEXNET_OK)
                st =
                    alexnet_image_preprocess(&prepared, image, prep, cfg->in_height, cfg->in_width);
            if (st == ALEXNET_OK)
                memcpy(alexnet_tensor_data(batch) + (size_t)i * image_floats,
                       alexnet_tensor_data(prepared), sizeof(float) * image_floats);
            alexnet_tensor_free(image);
            alexnet_tensor_free(prepared);
        }
        alexnet_tensor *part = NULL, *part_logits = NULL;
        batch_shape[0] = logit_shape[0] = count;
        if (st == ALEXNET_OK)
            st = alexnet_tensor_wrap(&part, 4, batch_shape, alexnet_tensor_data(batch));
        if (st == ALEXNET_OK)
            st = alexnet_tensor_wrap(&part_logits, 2, logit_shape, alexnet_tensor_data(logits));
        if (st == ALEXNET_OK)
            st = alexnet_network_forward(net, part, part_logits, 0);
        for (int i = 0; st == ALEXNET_OK && i < count; i++) {
            const int rank = rank_of(alexnet_tensor_data(logits) + (size_t)i * cfg->num_classes,
                                     cfg->num_classes, labels[i]);
            top1 += rank == 0;
            top5 += rank < 5;
        }
        alexnet_tensor_free(part);
        alexnet_tensor_free(part_logits);
        if (st == ALEXNET_OK && ((begin / FOLDER_BATCH) % 40 == 39 || begin + count == n))
            fprintf(stderr, "\r%lld of %lld images", (long long)(begin + count), (long long)n);
    }
    fprintf(stderr, "\n");
    alexnet_tensor_free(batch);
    alexnet_tensor_free(logits);
    alexnet_dataset_free(ds);
    if (st != ALEXNET_OK)
        return fail(o->folder);
    printf("%s: top-1 %.2f%%  top-5 %.2f%%  (%lld images, centre crop)\n", o->folder,
           n ? 100.0 * (double)top1 / (double)n : 0.0, n ? 100.0 * (double)top5 / (double)n : 0.0,
           (long long)n);
    return 0;
}

/* What the model records, changed by the options. */
static int preprocessing_for(const alexnet_network *net, const options *o,
                             alexnet_preprocessing *prep)
{
    static const char *const KINDS[] = {"plain", "imagenet", "caffe"};
    alexnet_preprocessing_init(prep, ALEXNET_PREPROCESSING_PLAIN);
    if (alexnet_network_get_preprocessing(net, prep) != ALEXNET_OK)
        return fail("reading the model's preprocessing");
    if (o->kind) {
        int kind = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(o->kind, KINDS[k]) == 0)
                kind = k;
        if (kind < 0) {
            fprintf(stderr,
                    "alexnet-classify: --preprocessing is plain, imagenet or caffe, not "
                    "'%s'\n",
                    o->kind);
            return 2;
        }
        alexnet_preprocessing_init(prep, (alexnet_preprocessing_kind)kind);
    }
    if (o->resize > 0) {
        prep->resize = prep->resize == ALEXNET_RESIZE_NONE ? ALEXNET_RESIZE_SHORTER : prep->resize;
        prep->resize_side = o->resize;
    }
    if (o->have_mean)
        memcpy(prep->mean, o->mean, sizeof prep->mean);
    if (o->have_std)
        memcpy(prep->std, o->std, sizeof prep->std);
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
    alexnet_preprocessing prep;
    int status = preprocessing_for(net, &o, &prep);
    float *probabilities = malloc(sizeof(float) * (size_t)cfg.num_classes);
    if (status == 0 && o.idx_images)
        status |= classify_idx(net, &cfg, &o, &prep, probabilities);
    if (status == 0 && o.folder)
        status |= classify_folder(net, &cfg, &o, &prep);
    for (int i = 0; status < 2 && i < o.file_count; i++)
        status |= classify_file(net, &cfg, &o, &prep, o.files[i], probabilities);
    free(probabilities);
    free(o.files);
    alexnet_network_free(net);
    return status;
}
