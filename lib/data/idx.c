/* IDX files (MNIST, Fashion-MNIST), gzipped or raw.
 * images: magic 0x00000803, then big-endian u32 count, rows, cols, then bytes;
 * labels: magic 0x00000801, then count, then one byte per label.
 * The header's sizes are never trusted for allocation: pixel memory grows as
 * decompressed data actually arrives, up to what the header announced. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../core/core.h"
#include "../io/file.h"
#include "internal.h"

#define IDX_MAX_FILE ((size_t)1 << 30)

/* A byte source over a buffer that may hold gzip data (one or more members). */
typedef struct {
    const char *name;
    const uint8_t *src;
    size_t size, pos;
    int gz, done, ended; /* ended: the gzip stream closed with its checksum */
    z_stream z;
} stream;

static int is_gzip(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static fn_status stream_open(stream *s, const char *name, const uint8_t *src, size_t size)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->src = src;
    s->size = size;
    s->gz = is_gzip(src, size);
    if (!s->gz) return FN_OK;
    if (size > UINT_MAX) return fn_error(FN_ERR_FORMAT, "%s: compressed file too large", name);
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
        s->gz = 0;
        return fn_error(FN_ERR_NOMEM, "%s: cannot start zlib", name);
    }
    s->z.next_in = (Bytef *)src;
    s->z.avail_in = (uInt)size;
    return FN_OK;
}

static void stream_close(stream *s)
{
    if (s->gz) inflateEnd(&s->z);
    s->gz = 0;
}

/* Reads up to n bytes; *got < n only at the end of the data (or of a
 * truncated gzip stream, which then simply ends early). */
static fn_status stream_read(stream *s, uint8_t *dst, size_t n, size_t *got)
{
    *got = 0;
    if (!s->gz) {
        size_t k = s->size - s->pos < n ? s->size - s->pos : n;
        memcpy(dst, s->src + s->pos, k);
        s->pos += k;
        *got = k;
        return FN_OK;
    }
    while (*got < n && !s->done) {
        size_t want = n - *got;
        s->z.next_out = dst + *got;
        s->z.avail_out = want > (1u << 30) ? (1u << 30) : (uInt)want;
        uInt before = s->z.avail_out;
        int ret = inflate(&s->z, Z_NO_FLUSH);
        *got += before - s->z.avail_out;
        if (ret == Z_STREAM_END) {
            /* Another gzip member may follow; anything else is ignored, as gzip does. */
            if (is_gzip(s->z.next_in, s->z.avail_in)) {
                if (inflateReset(&s->z) != Z_OK)
                    return fn_error(FN_ERR_FORMAT, "%s: corrupt gzip data", s->name);
            } else {
                s->done = 1;
                s->ended = 1;
            }
        } else if (ret == Z_BUF_ERROR) {
            s->done = 1; /* the input ran out: truncated */
        } else if (ret != Z_OK) {
            return fn_error(ret == Z_MEM_ERROR ? FN_ERR_NOMEM : FN_ERR_FORMAT,
                            "%s: corrupt gzip data: %s", s->name,
                            s->z.msg ? s->z.msg : "inflate failed");
        }
    }
    return FN_OK;
}

/* Reads exactly `expected` bytes into a buffer that grows as data arrives.
 * *have receives how many were there; the caller reports truncation in its own
 * words. Fails on trailing data. */
static fn_status read_payload(stream *s, size_t expected, uint8_t **out, size_t *have)
{
    *out = NULL;
    *have = 0;
    size_t cap = expected < ((size_t)1 << 16) ? expected : ((size_t)1 << 16);
    uint8_t *buf = malloc(cap + 1);
    if (!buf) return fn_error(FN_ERR_NOMEM, "%s: no memory", s->name);
    size_t total = 0;
    while (total < expected) {
        if (total == cap) {
            size_t ncap = cap > expected / 2 ? expected : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                return fn_error(FN_ERR_NOMEM, "%s: no memory for %zu bytes", s->name, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got;
        fn_status st = stream_read(s, buf + total, cap - total, &got);
        if (st != FN_OK) {
            free(buf);
            return st;
        }
        total += got;
        if (got == 0) break;
    }
    *have = total;
    if (total == expected) {
        uint8_t extra[64];
        size_t got = 0;
        fn_status st = stream_read(s, extra, sizeof extra, &got);
        if (st != FN_OK) {
            free(buf);
            return st;
        }
        if (got) {
            free(buf);
            return fn_error(FN_ERR_FORMAT,
                            "%s: data continues past the %zu bytes the header announces", s->name,
                            expected);
        }
        if (s->gz && !s->ended) {
            free(buf);
            return fn_error(FN_ERR_FORMAT,
                            "%s: truncated: the gzip stream ends without its checksum", s->name);
        }
    }
    *out = buf;
    return FN_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

fn_status fn_idx_read_mem(const char *name, const void *data, size_t size, fn_idx *out)
{
    memset(out, 0, sizeof *out);
    if (!name || (!data && size)) return fn_error(FN_ERR_ARG, "fn_idx_read_mem: bad argument");
    stream s;
    FN_TRY(stream_open(&s, name, data ? data : "", size));
    uint8_t h[16];
    size_t got;
    fn_status st = stream_read(&s, h, 4, &got);
    uint32_t magic = got == 4 ? be32(h) : 0;
    int nd = (int)(magic & 0xff);
    if (st == FN_OK && got < 4)
        st = fn_error(FN_ERR_FORMAT, "%s: truncated: %zu bytes, no IDX header", name, got);
    else if (st == FN_OK && magic != 0x801 && magic != 0x803)
        st = fn_error(FN_ERR_FORMAT,
                      "%s: not an IDX file of bytes: magic 0x%08x, expected 0x00000801 (labels) "
                      "or 0x00000803 (images)",
                      name, magic);
    if (st == FN_OK) st = stream_read(&s, h + 4, 4 * (size_t)nd, &got);
    if (st == FN_OK && got < 4 * (size_t)nd)
        st = fn_error(FN_ERR_FORMAT, "%s: truncated IDX header: %zu of %d bytes", name, 4 + got,
                      4 + 4 * nd);
    if (st != FN_OK) {
        stream_close(&s);
        return st;
    }
    out->ndims = nd;
    size_t total = 1;
    for (int i = 0; i < nd; i++)
        out->dims[i] = be32(h + 4 + 4 * i);
    uint32_t n = out->dims[0], rows = nd == 3 ? out->dims[1] : 1, cols = nd == 3 ? out->dims[2] : 1;
    if (n == 0 || n > INT_MAX || rows == 0 || cols == 0 || rows > FN_MAX_IMAGE_SIDE ||
        cols > FN_MAX_IMAGE_SIDE || (size_t)rows * cols > FN_MAX_IMAGE_BYTES ||
        (size_t)rows * cols > SIZE_MAX / n) {
        stream_close(&s);
        if (nd == 1)
            return fn_error(FN_ERR_FORMAT, "%s: header says %u labels: not a usable count", name,
                            n);
        return fn_error(FN_ERR_FORMAT, "%s: header says %u images of %ux%u: not a usable size",
                        name, n, rows, cols);
    }
    total = (size_t)rows * cols * n;
    size_t have;
    st = read_payload(&s, total, &out->data, &have);
    stream_close(&s);
    if (st != FN_OK) return st;
    if (have < total) {
        fn_idx_free(out);
        if (nd == 1)
            return fn_error(FN_ERR_FORMAT, "%s: truncated: header says %u labels, file holds %zu",
                            name, n, have);
        return fn_error(FN_ERR_FORMAT,
                        "%s: truncated: header says %u images of %ux%u, file holds %zu bytes of "
                        "pixels",
                        name, n, rows, cols, have);
    }
    out->size = total;
    return FN_OK;
}

void fn_idx_free(fn_idx *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}

/* One file of the kind expected (3 dims: images, 1: labels). */
static fn_status read_kind(const char *name, const uint8_t *data, size_t size, int ndims,
                           fn_idx *out)
{
    FN_TRY(fn_idx_read_mem(name, data, size, out));
    if (out->ndims != ndims) {
        fn_idx_free(out);
        return fn_error(FN_ERR_FORMAT, "%s: an IDX %s file where %s were expected", name,
                        ndims == 3 ? "label" : "image", ndims == 3 ? "images" : "labels");
    }
    return FN_OK;
}

/* Parses both files and builds the dataset around the pixel buffer. */
static fn_status idx_build(const char *dataset_name, const char *img_name, const uint8_t *img,
                           size_t img_size, const char *lab_name, const uint8_t *lab,
                           size_t lab_size, int classes, fn_dataset **out)
{
    *out = NULL;
    fn_idx li, ii;
    FN_TRY(read_kind(lab_name, lab, lab_size, 1, &li));
    for (size_t i = 0; i < li.size; i++) {
        if (li.data[i] >= classes) {
            fn_status e =
                fn_error(FN_ERR_FORMAT, "%s: label %u of item %zu is not below %d classes",
                         lab_name, li.data[i], i, classes);
            fn_idx_free(&li);
            return e;
        }
    }
    fn_status st = read_kind(img_name, img, img_size, 3, &ii);
    if (st != FN_OK) {
        fn_idx_free(&li);
        return st;
    }
    uint32_t n = ii.dims[0];
    if (n != li.dims[0]) {
        st = fn_error(FN_ERR_FORMAT, "%s: %u images, but %s holds %u labels", img_name, n, lab_name,
                      li.dims[0]);
        fn_idx_free(&li);
        fn_idx_free(&ii);
        return st;
    }
    fn_dataset *d;
    st = fn_dataset_alloc(dataset_name, 0, 1, (int)ii.dims[1], (int)ii.dims[2], classes, &d);
    int32_t *l32 = st == FN_OK ? malloc(sizeof(int32_t) * n) : NULL;
    if (st == FN_OK && !l32) {
        fn_dataset_free(d);
        st = fn_error(FN_ERR_NOMEM, "%s: no memory for labels", lab_name);
    }
    if (st == FN_OK) {
        for (uint32_t i = 0; i < n; i++)
            l32[i] = li.data[i];
        /* The pixel buffer becomes the dataset's: IDX (N, H, W) is (N, 1, H, W). */
        free(d->images);
        free(d->labels);
        d->images = ii.data;
        d->labels = l32;
        d->n = (int)n;
        ii.data = NULL;
        *out = d;
    }
    fn_idx_free(&li);
    fn_idx_free(&ii);
    return st;
}

fn_status fn_dataset_from_idx_mem(const char *name, const void *images, size_t images_size,
                                  const void *labels, size_t labels_size, int classes,
                                  fn_dataset **out)
{
    *out = NULL;
    if (!name || (!images && images_size) || (!labels && labels_size) || classes < 1 ||
        classes > 256)
        return fn_error(FN_ERR_ARG, "fn_dataset_from_idx_mem: bad argument");
    char img_name[300], lab_name[300];
    snprintf(img_name, sizeof img_name, "%s (images)", name);
    snprintf(lab_name, sizeof lab_name, "%s (labels)", name);
    fn_dataset *d;
    FN_TRY(idx_build(name, img_name, images ? images : "", images_size, lab_name,
                     labels ? labels : "", labels_size, classes, &d));
    fn_status st = fn_dataset_set_class_names(d, NULL);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    *out = d;
    return FN_OK;
}

/* DIR/stem.gz, else DIR/stem. */
static fn_status read_idx_file(const char *dir, const char *stem, char *path, size_t path_size,
                               uint8_t **data, size_t *size)
{
    snprintf(path, path_size, "%s/%s.gz", dir, stem);
    if (access(path, F_OK) != 0) snprintf(path, path_size, "%s/%s", dir, stem);
    if (access(path, F_OK) != 0)
        return fn_error(FN_ERR_IO, "%s: no %s or %s.gz there", dir, stem, stem);
    return fn_file_read(path, IDX_MAX_FILE, data, size);
}

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

fn_status fn_dataset_open_idx_dir(const char *dir, const char *kind, const char *split, int limit,
                                  fn_dataset **out)
{
    *out = NULL;
    int fashion = strcmp(kind, "fashion-mnist") == 0;
    const char *prefix = strcmp(split, "train") == 0 ? "train" : "t10k";
    char img_stem[64], lab_stem[64], img_path[4200], lab_path[4200];
    snprintf(img_stem, sizeof img_stem, "%s-images-idx3-ubyte", prefix);
    snprintf(lab_stem, sizeof lab_stem, "%s-labels-idx1-ubyte", prefix);
    uint8_t *img = NULL, *lab = NULL;
    size_t img_size = 0, lab_size = 0;
    fn_status st = read_idx_file(dir, img_stem, img_path, sizeof img_path, &img, &img_size);
    if (st == FN_OK) st = read_idx_file(dir, lab_stem, lab_path, sizeof lab_path, &lab, &lab_size);
    fn_dataset *d = NULL;
    if (st == FN_OK) st = idx_build(kind, img_path, img, img_size, lab_path, lab, lab_size, 10, &d);
    free(img);
    free(lab);
    if (st == FN_OK) st = fn_dataset_set_class_names(d, fashion ? fashion_names : NULL);
    if (st == FN_OK) st = fn_dataset_apply_limit(d, limit);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    d->has_norm = 1;
    for (int k = 0; k < 3; k++) {
        d->mean[k] = fashion ? 0.2860f : 0.1307f;
        d->std[k] = fashion ? 0.3530f : 0.3081f;
    }
    *out = d;
    return FN_OK;
}
