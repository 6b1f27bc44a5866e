/* JPEG decoding with libjpeg-turbo (Debian's libjpeg62-turbo), the decoder PIL uses, with its
 * default (accurate) IDCT and upsampling: decoded pixels equal PIL's. It replaced stb_image for
 * JPEG when fuzzing found undefined behaviour in stb_image 2.27's entropy decoder (a shift by 32
 * in stbi__grow_buffer_unsafe, fuzz/regressions/image/) that Debian's copy does not fix;
 * libjpeg-turbo has been fuzzed continuously by OSS-Fuzz for years.
 *
 * libjpeg reports errors by calling error_exit, which must not return: it longjmps back to
 * decode_with_libjpeg, whose state lives in the caller's struct (so nothing set between setjmp and
 * longjmp is an indeterminate local). Warnings (corrupt but decodable data) are ignored, as
 * libjpeg and PIL do; a truncated image is completed with grey. */
#include "image.h"

#include "error.h"

#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* Progressive JPEGs may repeat scans without limit, each a pass over the whole image: a small
 * file could take minutes. Real encoders write at most a few dozen. */
enum { JPEG_MAX_SCANS = 256 };

typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr errors;
    struct jpeg_progress_mgr progress;
    jmp_buf escape;
    char message[JMSG_LENGTH_MAX];
    const uint8_t *data;
    size_t size;
    int channels;
    alexnet_limits limits;
    uint8_t *pixels; /* interleaved, `channels` per pixel */
    uint8_t *row;    /* one row as libjpeg outputs it (CMYK needs converting) */
    int width, height;
    bool too_large, out_of_memory;
} jpeg_job;

static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_job *job = (jpeg_job *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, job->message);
    job->out_of_memory = cinfo->err->msg_code == JERR_OUT_OF_MEMORY;
    longjmp(job->escape, 1);
}

static void jpeg_ignore_message(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

static void jpeg_count_scans(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->progressive_mode && d->input_scan_number > JPEG_MAX_SCANS) {
        jpeg_job *job = (jpeg_job *)cinfo->client_data;
        snprintf(job->message, sizeof job->message, "it has more than %d progressive scans",
                 JPEG_MAX_SCANS);
        longjmp(job->escape, 1);
    }
}

/* CMYK as Adobe writes it (inverted, as libjpeg delivers it) or plain, to RGB. */
static void cmyk_to_rgb(const uint8_t *cmyk, int width, bool inverted, uint8_t *rgb)
{
    for (int x = 0; x < width; x++) {
        const int k = inverted ? cmyk[4 * x + 3] : 255 - cmyk[4 * x + 3];
        for (int c = 0; c < 3; c++) {
            const int v = inverted ? cmyk[4 * x + c] : 255 - cmyk[4 * x + c];
            rgb[3 * x + c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

/* Everything that may longjmp. Returns false with job->message set on failure. */
static bool decode_with_libjpeg(jpeg_job *job)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    if (setjmp(job->escape))
        return false;
    jpeg_mem_src(cinfo, job->data, (unsigned long)job->size);
    jpeg_read_header(cinfo, TRUE);
    job->width = (int)cinfo->image_width;
    job->height = (int)cinfo->image_height;
    if (job->width < 1 || job->height < 1 || job->width > job->limits.max_image_side ||
        job->height > job->limits.max_image_side ||
        (int64_t)job->width * job->height > job->limits.max_image_pixels) {
        job->too_large = true;
        return false;
    }
    /* Coefficient buffers of progressive images stay within a few bytes per pixel. */
    cinfo->mem->max_memory_to_use = (long)(16 * job->limits.max_image_pixels + (16l << 20));
    const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : job->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(cinfo);
    const size_t width = (size_t)cinfo->output_width, stride = width * (size_t)job->channels;
    job->pixels = malloc(stride * cinfo->output_height);
    job->row = malloc(width * (size_t)cinfo->output_components);
    if (job->pixels == NULL || job->row == NULL) {
        job->out_of_memory = true;
        return false;
    }
    uint8_t rgb[3 * 4096];
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dest = job->pixels + stride * cinfo->output_scanline;
        JSAMPROW row = cmyk ? job->row : dest;
        jpeg_read_scanlines(cinfo, &row, 1);
        if (!cmyk)
            continue;
        /* CMYK: to RGB in pieces, then to grey by stb's luminance weights when asked. */
        for (size_t x0 = 0; x0 < width; x0 += 4096) {
            const int n = (int)(width - x0 < 4096 ? width - x0 : 4096);
            cmyk_to_rgb(job->row + 4 * x0, n, cinfo->saw_Adobe_marker, rgb);
            for (int x = 0; x < n; x++) {
                const uint8_t *p = rgb + 3 * x;
                if (job->channels == 3)
                    memcpy(dest + 3 * (x0 + (size_t)x), p, 3);
                else
                    dest[x0 + (size_t)x] = (uint8_t)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
            }
        }
    }
    jpeg_finish_decompress(cinfo);
    return true;
}

alexnet_status jpeg_decode(const char *fn, const char *label, const uint8_t *data, size_t size,
                           int channels, const alexnet_limits *limits, alexnet_tensor **out)
{
    jpeg_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory decoding '%s'", fn, label);
    job->data = data;
    job->size = size;
    job->channels = channels;
    job->limits = *limits;
    job->cinfo.err = jpeg_std_error(&job->errors);
    job->errors.error_exit = jpeg_fail;
    job->errors.emit_message = jpeg_ignore_message;
    job->cinfo.client_data = job;
    jpeg_create_decompress(&job->cinfo);
    job->progress.progress_monitor = jpeg_count_scans;
    job->cinfo.progress = &job->progress;
    const bool ok = decode_with_libjpeg(job);
    alexnet_status st = ALEXNET_OK;
    if (job->too_large)
        st = image_size_refused(fn, label, job->width, job->height, limits);
    else if (!ok && job->out_of_memory)
        st = error_set(ALEXNET_ERR_OUT_OF_MEMORY, "%s: out of memory decoding '%s'", fn, label);
    else if (!ok)
        st = error_set(ALEXNET_ERR_FORMAT, "%s: '%s': the JPEG is damaged or unsupported: %s", fn,
                       label, job->message);
    else
        st = image_from_pixels(fn, label, job->pixels, job->width, job->height, channels, out);
    jpeg_destroy_decompress(&job->cinfo);
    free(job->pixels);
    free(job->row);
    free(job);
    return st;
}
