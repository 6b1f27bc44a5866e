/* Writes the seed corpus of every fuzz target into OUT/<target>/: valid inputs of each kind a
 * parser accepts (so the fuzzer starts deep inside it), made by the library itself and by an
 * independent encoder (stb_image_write) for images. Run by the build. */
#include "image_fixtures.h"
#include "metadata.h"
#include "network.h"
#include "optimizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *out_dir;

static void fail(const char *what)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, alexnet_last_error());
    exit(1);
}

static const char *seed_path(const char *target, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fail(path);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    return path;
}

static void write_seed(const char *target, const char *name, const void *data, size_t size)
{
    FILE *f = fopen(seed_path(target, name), "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        fail(name);
}

static uint8_t *read_whole(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail(path);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(*size + 1);
    if (fread(data, 1, *size, f) != *size)
        fail(path);
    fclose(f);
    return data;
}

static void gzip_seed(const char *target, const char *name, const uint8_t *data, size_t size,
                      int members)
{
    gzFile f = gzopen(seed_path(target, name), "wb");
    for (int m = 0; m < members; m++) { /* each gzopen/gzclose pair writes one member */
        if (m > 0)
            f = gzopen(seed_path(target, name), "ab");
        const size_t part = size / (size_t)members, from = part * (size_t)m;
        const size_t n = m == members - 1 ? size - from : part;
        if (f == NULL || (n && gzwrite(f, data + from, (unsigned)n) != (int)n))
            fail(name);
        gzclose(f);
    }
}

static void image_seeds(void)
{
    uint8_t pixels[23 * 17 * 4];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 7 % 251);
    char tmp[] = "/tmp/alexnet-seed-XXXXXX";
    int fd = mkstemp(tmp);
    close(fd);
    for (int channels = 1; channels <= 4; channels++) {
        char name[32];
        size_t size;
        snprintf(name, sizeof name, "png-%dch", channels);
        if (!fixture_write_png(tmp, 23, 17, channels, pixels))
            fail("png");
        uint8_t *data = read_whole(tmp, &size);
        write_seed("image", name, data, size);
        free(data);
        if (channels == 2 || channels == 4)
            continue;
        snprintf(name, sizeof name, "jpeg-%dch", channels);
        if (!fixture_write_jpg(tmp, 23, 17, channels, pixels, 75))
            fail("jpeg");
        data = read_whole(tmp, &size);
        write_seed("image", name, data, size);
        free(data);
    }
    unlink(tmp);
    /* A palette PNG of 4 colours (no encoder at hand writes one). */
    uint8_t raw[6 * 9];
    for (int y = 0; y < 6; y++) {
        raw[y * 9] = 0;
        for (int x = 0; x < 8; x++)
            raw[y * 9 + 1 + x] = (uint8_t)((x + y) % 4);
    }
    uint8_t z[256];
    uLongf zsize = sizeof z;
    if (compress(z, &zsize, raw, sizeof raw) != Z_OK)
        fail("compress");
    uint8_t png[512];
    size_t n = 8;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    const uint8_t ihdr[13] = {0, 0, 0, 8, 0, 0, 0, 6, 8, 3, 0, 0, 0};
    const uint8_t plte[12] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255};
    const uint8_t trns[2] = {0, 128};
    const struct {
        const char *type;
        const uint8_t *data;
        size_t length;
    } chunks[] = {{"IHDR", ihdr, 13}, {"PLTE", plte, 12}, {"tRNS", trns, 2}, {"IDAT", z, zsize},
                  {"IEND", NULL, 0}};
    for (size_t c = 0; c < 5; c++) {
        for (int i = 0; i < 4; i++)
            png[n + i] = (uint8_t)(chunks[c].length >> (24 - 8 * i));
        memcpy(png + n + 4, chunks[c].type, 4);
        if (chunks[c].length)
            memcpy(png + n + 8, chunks[c].data, chunks[c].length);
        const uLong crc = crc32(0L, png + n + 4, (uInt)(4 + chunks[c].length));
        for (int i = 0; i < 4; i++)
            png[n + 8 + chunks[c].length + i] = (uint8_t)(crc >> (24 - 8 * i));
        n += 12 + chunks[c].length;
    }
    write_seed("image", "png-palette", png, n);
}

static void idx_seeds(void)
{
    uint8_t images[16 + 2 * 5 * 4] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 4};
    for (size_t i = 16; i < sizeof images; i++)
        images[i] = (uint8_t)(i * 13);
    const uint8_t labels[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    write_seed("idx", "images", images, sizeof images);
    write_seed("idx", "labels", labels, sizeof labels);
    gzip_seed("idx", "images.gz", images, sizeof images, 1);
    gzip_seed("idx", "labels.gz", labels, sizeof labels, 1);
    gzip_seed("idx", "images-2-members.gz", images, sizeof images, 2);
}

static void metadata_seeds(alexnet_network *net, alexnet_optimizer *opt)
{
    for (int arch = ALEXNET_ARCH_PAPER; arch <= ALEXNET_ARCH_MINI; arch++) {
        alexnet_config cfg;
        alexnet_config_init(&cfg, (alexnet_arch)arch);
        char *text = metadata_config_to_json(&cfg), name[32];
        snprintf(name, sizeof name, "config-%d", arch);
        write_seed("metadata", name, text, strlen(text));
        free(text);
    }
    alexnet_config caffe; /* a format 2 configuration */
    alexnet_config_init(&caffe, ALEXNET_ARCH_PAPER);
    caffe.pool_ceil = 1;
    caffe.lrn_alpha = 1e-4f;
    caffe.lrn_k = 1.0f;
    char *caffe_text = metadata_config_to_json(&caffe);
    write_seed("metadata", "config-caffe", caffe_text, strlen(caffe_text));
    free(caffe_text);
    alexnet_config ablated; /* format 2 with the paper's switches off */
    alexnet_config_init(&ablated, ALEXNET_ARCH_MINI);
    ablated.activation = ALEXNET_ACTIVATION_TANH;
    ablated.lrn = 0;
    ablated.pool_size = 2;
    ablated.init_bias = 0.5f;
    char *ablated_text = metadata_config_to_json(&ablated);
    write_seed("metadata", "config-ablated", ablated_text, strlen(ablated_text));
    free(ablated_text);
    for (int kind = ALEXNET_PREPROCESSING_PLAIN; kind <= ALEXNET_PREPROCESSING_CAFFE; kind++) {
        alexnet_preprocessing p;
        alexnet_preprocessing_init(&p, (alexnet_preprocessing_kind)kind);
        char *text = metadata_preprocessing_to_json(&p), name[32];
        snprintf(name, sizeof name, "preprocessing-%d", kind);
        write_seed("metadata", name, text, strlen(text));
        free(text);
    }
    for (int kind = ALEXNET_SCHEDULE_CONSTANT; kind <= ALEXNET_SCHEDULE_PLATEAU; kind++) {
        alexnet_schedule_config s;
        alexnet_schedule_config_init(&s, (alexnet_schedule_kind)kind);
        s.patience = 3;
        if (alexnet_optimizer_set_schedule(opt, &s) != ALEXNET_OK)
            fail("schedule");
        opt->bad_epochs = kind;
        opt->best_error = kind == ALEXNET_SCHEDULE_PLATEAU ? 0.25f : opt->best_error;
        char *text = metadata_optimizer_to_json(opt), name[32];
        snprintf(name, sizeof name, "optimizer-%d", kind);
        write_seed("metadata", name, text, strlen(text));
        free(text);
    }
    const char *names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle \"boot\""};
    if (alexnet_network_set_class_names(net, names, 10) != ALEXNET_OK)
        fail("class names");
    char *text = metadata_class_names_to_json(net);
    write_seed("metadata", "classes", text, strlen(text));
    free(text);
    write_seed("metadata", "counter", "18446744073709551615", 20);
}

/* [data size][header] of a saved file: the fuzz_model input format. */
static void model_seed(const char *name, const char *path)
{
    size_t size;
    uint8_t *file = read_whole(path, &size);
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | file[i];
    const uint64_t data = size - 8 - header;
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)(data >> (8 * i));
    write_seed("model", name, file, 8 + (size_t)header);
    free(file);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        fail(out_dir);
    image_seeds();
    idx_seeds();

    alexnet_config cfg;
    alexnet_config_init(&cfg, ALEXNET_ARCH_MINI);
    cfg.in_height = cfg.in_width = 15;
    alexnet_network *net = NULL;
    alexnet_optimizer *opt = NULL;
    alexnet_sgd_config sgd;
    alexnet_sgd_config_init(&sgd);
    if (alexnet_network_create(&net, &cfg, 7) != ALEXNET_OK ||
        alexnet_optimizer_create(&opt, net, &sgd) != ALEXNET_OK)
        fail("network");
    metadata_seeds(net, opt);
    char tmp[] = "/tmp/alexnet-seed-XXXXXX";
    int fd = mkstemp(tmp);
    close(fd);
    if (alexnet_network_save(net, tmp) != ALEXNET_OK)
        fail("save");
    model_seed("model", tmp);
    if (alexnet_checkpoint_save(net, opt, tmp) != ALEXNET_OK)
        fail("checkpoint");
    model_seed("checkpoint", tmp);
    unlink(tmp);
    alexnet_optimizer_free(opt);
    alexnet_network_free(net);
    return 0;
}
