/* Single image files (PNG, JPEG, BMP through stb_image), resampling, and
 * turning an image into a network input. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "../core/core.h"
#include "../io/file.h"
#include "internal.h"

#define IMAGE_MAX_FILE ((size_t)1 << 28)

static const char *image_kind(const uint8_t *p, size_t n)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (n >= 8 && memcmp(p, png, 8) == 0) return "PNG";
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "JPEG";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
    return NULL;
}

/* stb_image reserves what a PNG chunk's length field claims before reading
 * it, so a few bytes could ask for 2 GB: every chunk must fit in the file. */
static fn_status check_png_chunks(const char *name, const uint8_t *p, size_t n)
{
    size_t at = 8;
    while (at + 8 <= n) {
        uint32_t len = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 |
                       (uint32_t)p[at + 2] << 8 | p[at + 3];
        char type[5] = {0};
        for (int i = 0; i < 4; i++)
            type[i] = p[at + 4 + i] >= 0x20 && p[at + 4 + i] < 0x7f ? (char)p[at + 4 + i] : '?';
        if (len > n - at - 8 || n - at - 8 - len < 4)
            return fn_error(FN_ERR_FORMAT,
                            "%s: corrupt PNG: chunk '%s' claims %u bytes, the file has %zu left",
                            name, type, len, n - at - 8);
        at += 12 + (size_t)len;
        if (memcmp(type, "IEND", 4) == 0) break;
    }
    return FN_OK;
}

fn_status fn_image_load_mem(const char *name, const void *data, size_t size, fn_image *out)
{
    memset(out, 0, sizeof *out);
    if (!name || (!data && size)) return fn_error(FN_ERR_ARG, "fn_image_load_mem: bad argument");
    const uint8_t *p = data;
    /* Only the three formats we promise: stb's other decoders (TGA has no
     * signature at all) would otherwise see arbitrary bytes. */
    const char *kind = image_kind(p, size);
    if (!kind) return fn_error(FN_ERR_FORMAT, "%s: not a PNG, JPEG or BMP file", name);
    if (size > INT_MAX) return fn_error(FN_ERR_FORMAT, "%s: file too large", name);
    if (strcmp(kind, "PNG") == 0) FN_TRY(check_png_chunks(name, p, size));
    int w, h, c;
    if (!stbi_info_from_memory(p, (int)size, &w, &h, &c)) {
        /* stbi_info's reason is that of the last decoder it tried; decoding
         * fails at the same header check and says why. */
        uint8_t *pix = stbi_load_from_memory(p, (int)size, &w, &h, &c, 0);
        if (pix) {
            stbi_image_free(pix);
            return fn_error(FN_ERR_FORMAT, "%s: corrupt %s header", name, kind);
        }
        return fn_error(FN_ERR_FORMAT, "%s: corrupt %s (stb_image: %s)", name, kind,
                        stbi_failure_reason());
    }
    if (w < 1 || h < 1 || w > FN_MAX_IMAGE_SIDE || h > FN_MAX_IMAGE_SIDE || c < 1 || c > 4)
        return fn_error(FN_ERR_FORMAT, "%s: %s of %dx%d with %d channels: not a usable size", name,
                        kind, w, h, c);
    /* Compressed formats can announce any size; allow what a plausible
     * compression ratio could hold (deflate tops out near 1032:1, JPEG needs
     * a few bits for every 8x8 block): stb_image would otherwise decode
     * megapixels of nothing from a few bytes. */
    size_t bytes = (size_t)w * h * c, allowed = size * 2048;
    if (bytes > FN_MAX_IMAGE_BYTES || bytes > allowed)
        return fn_error(FN_ERR_FORMAT,
                        "%s: %s header says %dx%d, more than a %zu-byte file can hold", name, kind,
                        w, h, size);
    int w2, h2, c2;
    uint8_t *pix = stbi_load_from_memory(p, (int)size, &w2, &h2, &c2, 0);
    if (!pix)
        return fn_error(FN_ERR_FORMAT, "%s: corrupt %s (stb_image: %s)", name, kind,
                        stbi_failure_reason());
    if (w2 != w || h2 != h || c2 != c) {
        stbi_image_free(pix);
        return fn_error(FN_ERR_FORMAT, "%s: %s decoded to a different size than its header", name,
                        kind);
    }
    out->w = w;
    out->h = h;
    out->c = c;
    out->pixels = pix;
    return FN_OK;
}

fn_status fn_image_load(const char *path, fn_image *out)
{
    memset(out, 0, sizeof *out);
    if (!path) return fn_error(FN_ERR_ARG, "fn_image_load: NULL path");
    uint8_t *data;
    size_t size;
    FN_TRY(fn_file_read(path, IMAGE_MAX_FILE, &data, &size));
    fn_status st = fn_image_load_mem(path, data, size, out);
    free(data);
    return st;
}

void fn_image_free(fn_image *img)
{
    if (!img) return;
    stbi_image_free(img->pixels);
    img->pixels = NULL;
}

void fn_pixels_convert(const uint8_t *src, int sc, uint8_t *dst, int dc, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = src + i * sc;
        uint8_t *d = dst + i * dc;
        int color = sc >= 3;
        uint8_t gray =
            color ? (uint8_t)((299 * s[0] + 587 * s[1] + 114 * s[2] + 500) / 1000) : s[0];
        uint8_t alpha = sc == 2 ? s[1] : sc == 4 ? s[3] : 255;
        if (dc == 1) {
            d[0] = gray;
        } else if (dc == 2) {
            d[0] = gray;
            d[1] = alpha;
        } else {
            for (int k = 0; k < 3; k++)
                d[k] = color ? s[k] : s[0];
            if (dc == 4) d[3] = alpha;
        }
    }
}

/* Filter taps for one axis, stored compactly: output j uses source samples
 * first[j] .. first[j] + count[j] - 1 with weights weight[start[j] ...]. */
typedef struct {
    int *first, *count;
    size_t *start;
    float *weight;
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->start);
    free(t->weight);
}

/* PIL's BILINEAR: a triangle filter widened by the downscale factor, so that
 * shrinking averages every source pixel instead of skipping some. */
static fn_status taps_make(int in, int out_total, int offset, int n, taps *t)
{
    memset(t, 0, sizeof *t);
    double scale = (double)in / out_total, support = scale > 1 ? scale : 1;
    t->first = malloc(sizeof(int) * (size_t)n);
    t->count = malloc(sizeof(int) * (size_t)n);
    t->start = malloc(sizeof(size_t) * ((size_t)n + 1));
    if (!t->first || !t->count || !t->start) {
        taps_free(t);
        return fn_error(FN_ERR_NOMEM, "resample: no memory");
    }
    size_t total = 0;
    for (int j = 0; j < n; j++) {
        double center = (offset + j + 0.5) * scale;
        long lo = (long)floor(center - support), hi = (long)ceil(center + support);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        if (hi <= lo) { /* cannot happen for in >= 1, but keep one tap */
            lo = lo < in ? lo : in - 1;
            hi = lo + 1;
        }
        t->first[j] = (int)lo;
        t->count[j] = (int)(hi - lo);
        t->start[j] = total;
        total += (size_t)(hi - lo);
    }
    t->start[n] = total;
    t->weight = malloc(sizeof(float) * (total ? total : 1));
    if (!t->weight) {
        taps_free(t);
        return fn_error(FN_ERR_NOMEM, "resample: no memory");
    }
    for (int j = 0; j < n; j++) {
        double center = (offset + j + 0.5) * scale, sum = 0;
        float *wt = t->weight + t->start[j];
        for (int k = 0; k < t->count[j]; k++) {
            double x = fabs((t->first[j] + k + 0.5 - center) / support);
            wt[k] = (float)(x < 1 ? 1 - x : 0);
            sum += wt[k];
        }
        if (sum > 0) {
            for (int k = 0; k < t->count[j]; k++)
                wt[k] = (float)(wt[k] / sum);
        } else {
            /* Degenerate: take the nearest sample. */
            for (int k = 0; k < t->count[j]; k++)
                wt[k] = 0;
            int nearest = (int)floor(center) - t->first[j];
            if (nearest < 0) nearest = 0;
            if (nearest >= t->count[j]) nearest = t->count[j] - 1;
            wt[nearest] = 1;
        }
    }
    return FN_OK;
}

fn_status fn_resample(const uint8_t *src, int sh, int sw, int c, int rh, int rw, int y0, int x0,
                      int dh, int dw, float *dst)
{
    if (sh < 1 || sw < 1 || c < 1 || rh < 1 || rw < 1 || dh < 1 || dw < 1 || y0 < 0 || x0 < 0 ||
        y0 > rh - dh || x0 > rw - dw)
        return fn_error(FN_ERR_ARG, "resample: bad window");
    taps tx, ty;
    FN_TRY(taps_make(sw, rw, x0, dw, &tx));
    fn_status st = taps_make(sh, rh, y0, dh, &ty);
    if (st != FN_OK) {
        taps_free(&tx);
        return st;
    }
    /* Horizontal pass over the source rows the vertical taps need. */
    int row_lo = ty.first[0], row_hi = ty.first[dh - 1] + ty.count[dh - 1];
    size_t rows = (size_t)(row_hi - row_lo);
    float *tmp = malloc(sizeof(float) * rows * (size_t)dw * (size_t)c);
    if (!tmp) {
        taps_free(&tx);
        taps_free(&ty);
        return fn_error(FN_ERR_NOMEM, "resample: no memory");
    }
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *srow = src + ((size_t)row_lo + r) * (size_t)sw * c;
        float *trow = tmp + r * (size_t)dw * c;
        for (int j = 0; j < dw; j++) {
            const float *wt = tx.weight + tx.start[j];
            for (int ch = 0; ch < c; ch++) {
                float acc = 0;
                for (int k = 0; k < tx.count[j]; k++)
                    acc += wt[k] * srow[((size_t)tx.first[j] + k) * c + ch];
                trow[(size_t)j * c + ch] = acc;
            }
        }
    }
    /* Vertical pass: dst (dh, dw, c). */
    size_t line = (size_t)dw * c;
    for (int i = 0; i < dh; i++) {
        const float *wt = ty.weight + ty.start[i];
        float *drow = dst + (size_t)i * line;
        for (size_t x = 0; x < line; x++)
            drow[x] = 0;
        for (int k = 0; k < ty.count[i]; k++) {
            const float *trow = tmp + ((size_t)(ty.first[i] - row_lo) + k) * line;
            for (size_t x = 0; x < line; x++)
                drow[x] += wt[k] * trow[x];
        }
    }
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return FN_OK;
}

void fn_cover_size(int sh, int sw, int h, int w, int num, int den, int *rh, int *rw, int *y0,
                   int *x0)
{
    double sy = (double)h / sh, sx = (double)w / sw, s = (sy > sx ? sy : sx) * num / den;
    double fh = floor(sh * s + 0.5), fw = floor(sw * s + 0.5);
    /* Absurd aspect ratios could overflow int; the crop does not care. */
    if (fh > (1 << 30)) fh = 1 << 30;
    if (fw > (1 << 30)) fw = 1 << 30;
    *rh = fh < h ? h : (int)fh;
    *rw = fw < w ? w : (int)fw;
    *y0 = (*rh - h) / 2;
    *x0 = (*rw - w) / 2;
}

fn_status fn_image_to_input(const fn_image *img, int c, int h, int w, const float *mean,
                            const float *std, float *out)
{
    if (!img || !img->pixels || img->w < 1 || img->h < 1 || img->c < 1 || img->c > 4 || !out ||
        (c != 1 && c != 3) || h < 1 || w < 1 || h > FN_MAX_IMAGE_SIDE || w > FN_MAX_IMAGE_SIDE)
        return fn_error(FN_ERR_ARG, "fn_image_to_input: bad argument (want %dx%dx%d)", c, h, w);
    for (int ch = 0; std && ch < c; ch++)
        if (!(std[ch] > 0))
            return fn_error(FN_ERR_ARG, "fn_image_to_input: std[%d] must be positive", ch);
    size_t n = (size_t)img->w * img->h;
    uint8_t *conv = malloc(n * c);
    float *tmp = malloc(sizeof(float) * (size_t)h * w * c);
    if (!conv || !tmp) {
        free(conv);
        free(tmp);
        return fn_error(FN_ERR_NOMEM, "fn_image_to_input: no memory");
    }
    fn_pixels_convert(img->pixels, img->c, conv, c, n);
    int large = (long)img->h * 7 >= (long)h * 8 && (long)img->w * 7 >= (long)w * 8;
    int rh, rw, y0, x0;
    fn_cover_size(img->h, img->w, h, w, large ? 8 : 1, large ? 7 : 1, &rh, &rw, &y0, &x0);
    fn_status st = fn_resample(conv, img->h, img->w, c, rh, rw, y0, x0, h, w, tmp);
    if (st == FN_OK) {
        for (int ch = 0; ch < c; ch++) {
            float m = mean ? mean[ch] : 0.0f, s = std ? std[ch] : 1.0f;
            float scale = 1.0f / (255.0f * s), shift = m / s;
            for (size_t i = 0; i < (size_t)h * w; i++)
                out[(size_t)ch * h * w + i] = tmp[i * c + ch] * scale - shift;
        }
    }
    free(conv);
    free(tmp);
    return st;
}
