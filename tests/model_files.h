/* Model files taken apart and put back together, for the tests that damage them: the JSON header
 * as a jansson object and the data section as bytes. */
#ifndef ALEXNET_MODEL_FILES_H
#define ALEXNET_MODEL_FILES_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct file_image {
    json_t *header;
    unsigned char *data;
    size_t data_size;
} file_image;

static inline file_image read_image(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char prefix[8];
    ck_assert_int_eq(fread(prefix, 1, 8, f), 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | prefix[i];
    char *text = malloc(n);
    ck_assert_int_eq(fread(text, 1, n, f), n);
    file_image image;
    image.header = json_loadb(text, n, 0, NULL);
    ck_assert_ptr_nonnull(image.header);
    free(text);
    long start = ftell(f);
    fseek(f, 0, SEEK_END);
    image.data_size = (size_t)(ftell(f) - start);
    fseek(f, start, SEEK_SET);
    image.data = calloc(1, image.data_size + 64); /* the tail is written by TRAILING */
    ck_assert_int_eq(fread(image.data, 1, image.data_size, f), image.data_size);
    fclose(f);
    return image;
}

static inline void write_raw(const char *path, uint64_t header_length, const char *header,
                      size_t header_size, const unsigned char *data, size_t data_size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 8; i++)
        fputc((int)((header_length >> (8 * i)) & 0xff), f);
    fwrite(header, 1, header_size, f);
    if (data_size > 0)
        fwrite(data, 1, data_size, f);
    fclose(f);
}

static inline void write_image(const char *path, const file_image *image)
{
    char *text = json_dumps(image->header, JSON_COMPACT | JSON_PRESERVE_ORDER);
    write_raw(path, strlen(text), text, strlen(text), image->data, image->data_size);
    free(text);
}

static inline void set_offsets(json_t *tensor, long long begin, long long end)
{
    json_object_set_new(tensor, "data_offsets", json_pack("[I, I]", begin, end));
}

/* Replaces field `field` of the JSON held by metadata entry `key` (alexnet.config,
 * alexnet.optimizer) with `value` (a JSON literal, taken verbatim so that numbers beyond any C
 * type can be written); with `inner` the field is looked up inside that object first. */
static inline void set_metadata_field(file_image *image, const char *key, const char *inner,
                                      const char *field, const char *value)
{
    json_t *meta = json_object_get(image->header, "__metadata__");
    const char *text = json_string_value(json_object_get(meta, key));
    ck_assert_ptr_nonnull(text);
    /* Find "field": inside the text and splice the literal in, keeping everything else. */
    char needle[96];
    snprintf(needle, sizeof needle, "\"%s\":", field);
    const char *from = text;
    if (inner) {
        char outer[96];
        snprintf(outer, sizeof outer, "\"%s\":", inner);
        from = strstr(text, outer);
        ck_assert_ptr_nonnull(from);
    }
    const char *at = strstr(from, needle);
    ck_assert_msg(at != NULL, "no field %s in %s", field, text);
    const char *value_start = at + strlen(needle);
    const char *value_end = value_start + strcspn(value_start, ",}");
    size_t size = strlen(text) + strlen(value) + 1;
    char *edited = malloc(size);
    snprintf(edited, size, "%.*s%s%s", (int)(value_start - text), text, value, value_end);
    json_object_set_new(meta, key, json_string(edited));
    free(edited);
}

#endif
