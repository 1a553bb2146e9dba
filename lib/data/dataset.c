/* Datasets in memory: construction, accessors, the spec dispatcher, limits
 * and normalization. The readers live in idx.c, cifar.c and folder.c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "internal.h"

const char *fn_basename(const char *path)
{
    const char *end = path + strlen(path);
    while (end > path + 1 && end[-1] == '/')
        end--;
    const char *p = end;
    while (p > path && p[-1] != '/')
        p--;
    /* "dir/" keeps its trailing slash out of names by using a static copy. */
    static _Thread_local char buf[256];
    size_t n = (size_t)(end - p);
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

fn_status fn_dataset_alloc(const char *name, int n, int c, int h, int w, int classes,
                           fn_dataset **out)
{
    *out = NULL;
    if (n < 0 || c < 1 || c > 4 || h < 1 || w < 1 || h > FN_MAX_IMAGE_SIDE ||
        w > FN_MAX_IMAGE_SIDE || classes < 1 || classes > 1000000)
        return fn_error(FN_ERR_ARG, "%s: bad dataset shape: %d images of %dx%dx%d, %d classes",
                        name, n, c, h, w, classes);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    if (per > FN_MAX_IMAGE_BYTES || (n > 0 && per > SIZE_MAX / (size_t)n))
        return fn_error(FN_ERR_ARG, "%s: images too large: %d of %dx%dx%d", name, n, c, h, w);
    fn_dataset *d = calloc(1, sizeof *d);
    if (!d) return fn_error(FN_ERR_NOMEM, "%s: no memory for a dataset", name);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->classes = classes;
    d->images = malloc(per * (size_t)n + 1);
    d->labels = malloc(sizeof(int32_t) * (size_t)n + 1);
    d->class_names = calloc((size_t)classes, sizeof(char *));
    if (!d->images || !d->labels || !d->class_names) {
        fn_dataset_free(d);
        return fn_error(FN_ERR_NOMEM, "%s: no memory for %d images of %dx%dx%d", name, n, c, h, w);
    }
    *out = d;
    return FN_OK;
}

fn_status fn_dataset_set_class_names(fn_dataset *d, const char *const *names)
{
    for (int i = 0; i < d->classes; i++) {
        char digits[16];
        const char *s = names ? names[i] : NULL;
        if (!s) {
            snprintf(digits, sizeof digits, "%d", i);
            s = digits;
        }
        char *copy = strdup(s);
        if (!copy) return fn_error(FN_ERR_NOMEM, "%s: no memory for class names", d->name);
        free(d->class_names[i]);
        d->class_names[i] = copy;
    }
    return FN_OK;
}

void fn_dataset_free(fn_dataset *d)
{
    if (!d) return;
    if (d->class_names)
        for (int i = 0; i < d->classes; i++)
            free(d->class_names[i]);
    free(d->class_names);
    free(d->images);
    free(d->labels);
    free(d);
}

fn_status fn_dataset_from_memory(const char *name, int n, int c, int h, int w, int classes,
                                 const uint8_t *images, const int32_t *labels,
                                 const char *const *class_names, fn_dataset **out)
{
    *out = NULL;
    if (!name || !images || !labels)
        return fn_error(FN_ERR_ARG, "fn_dataset_from_memory: NULL argument");
    fn_dataset *d;
    FN_TRY(fn_dataset_alloc(name, n, c, h, w, classes, &d));
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= classes) {
            fn_dataset_free(d);
            return fn_error(FN_ERR_ARG, "%s: label %d of image %d is outside 0..%d", name,
                            (int)labels[i], i, classes - 1);
        }
    }
    memcpy(d->images, images, (size_t)n * c * h * w);
    memcpy(d->labels, labels, sizeof(int32_t) * (size_t)n);
    fn_status st = fn_dataset_set_class_names(d, class_names);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    *out = d;
    return FN_OK;
}

void fn_limit_quotas(const int *per_class, int classes, int limit, int *quota)
{
    for (int k = 0; k < classes; k++)
        quota[k] = limit > 0 ? 0 : per_class[k];
    if (limit <= 0) return;
    long remaining = limit;
    for (;;) {
        /* Whole rounds at once: every class with images left gets `step` more. */
        long active = 0, room = LONG_MAX;
        for (int k = 0; k < classes; k++) {
            if (quota[k] < per_class[k]) {
                active++;
                if (per_class[k] - quota[k] < room) room = per_class[k] - quota[k];
            }
        }
        if (active == 0 || remaining == 0) return;
        if (remaining < active) {
            /* A partial round goes to the first classes. */
            for (int k = 0; k < classes && remaining > 0; k++) {
                if (quota[k] < per_class[k]) {
                    quota[k]++;
                    remaining--;
                }
            }
            return;
        }
        long step = remaining / active;
        if (step > room) step = room;
        for (int k = 0; k < classes; k++)
            if (quota[k] < per_class[k]) quota[k] += (int)step;
        remaining -= step * active;
    }
}

fn_status fn_dataset_apply_limit(fn_dataset *d, int limit)
{
    if (limit <= 0 || limit >= d->n) return FN_OK;
    int *count = calloc((size_t)d->classes * 2, sizeof(int));
    if (!count) return fn_error(FN_ERR_NOMEM, "%s: no memory", d->name);
    int *quota = count + d->classes;
    for (int i = 0; i < d->n; i++)
        count[d->labels[i]]++;
    fn_limit_quotas(count, d->classes, limit, quota);
    size_t per = (size_t)d->c * d->h * d->w;
    int kept = 0;
    for (int i = 0; i < d->n; i++) {
        int y = d->labels[i];
        if (quota[y] == 0) continue;
        quota[y]--;
        if (kept != i) {
            memmove(d->images + (size_t)kept * per, d->images + (size_t)i * per, per);
            d->labels[kept] = d->labels[i];
        }
        kept++;
    }
    free(count);
    d->n = kept;
    /* Shrinking cannot fail in a way that matters: keep the old block if it does. */
    uint8_t *img = realloc(d->images, per * (size_t)kept + 1);
    if (img) d->images = img;
    int32_t *lab = realloc(d->labels, sizeof(int32_t) * (size_t)kept + 1);
    if (lab) d->labels = lab;
    return FN_OK;
}

/* "...@64" or "...@32x48": a size suffix on a folder spec. Returns 1 and cuts
 * it off when present. */
static int parse_size_suffix(char *s, int *h, int *w)
{
    char *at = strrchr(s, '@');
    if (!at || !at[1]) return 0;
    char *end;
    long a = strtol(at + 1, &end, 10), b = a;
    if (end == at + 1 || a < 1 || a > FN_MAX_IMAGE_SIDE) return 0;
    if (*end == 'x') {
        char *p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p || b < 1 || b > FN_MAX_IMAGE_SIDE) return 0;
    }
    if (*end) return 0;
    *h = (int)a;
    *w = (int)b;
    *at = 0;
    return 1;
}

fn_status fn_dataset_open_sized(const char *spec, const char *split, int limit, int channels,
                                int height, int width, fn_dataset **out)
{
    *out = NULL;
    if (!spec || !split) return fn_error(FN_ERR_ARG, "dataset: NULL spec or split");
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return fn_error(FN_ERR_ARG, "dataset %s: split must be \"train\" or \"test\", not \"%s\"",
                        spec, split);
    if (limit < 0 || (channels != 0 && channels != 1 && channels != 3) || height < 0 || width < 0 ||
        height > FN_MAX_IMAGE_SIDE || width > FN_MAX_IMAGE_SIDE)
        return fn_error(FN_ERR_ARG, "dataset %s: bad limit or size", spec);
    char arg[4096];
    const char *colon = strchr(spec, ':');
    size_t kind_len = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(arg, sizeof arg, "%s", colon ? colon + 1 : "");
    fn_dataset *d = NULL;
    fn_status st;
    if (kind_len == 13 && strncmp(spec, "fashion-mnist", 13) == 0) {
        fn_env env;
        fn_env_read(&env);
        const char *dir = arg[0] ? arg : env.fashion_mnist_dir;
        if (!dir || !dir[0]) dir = "/usr/share/datasets/fashion-mnist";
        st = fn_dataset_open_idx_dir(dir, "fashion-mnist", split, limit, &d);
    } else if (kind_len == 5 && strncmp(spec, "mnist", 5) == 0 && arg[0]) {
        st = fn_dataset_open_idx_dir(arg, "mnist", split, limit, &d);
    } else if (kind_len == 7 && strncmp(spec, "cifar10", 7) == 0 && arg[0]) {
        st = fn_dataset_open_cifar(arg, 0, split, limit, &d);
    } else if (kind_len == 8 && strncmp(spec, "cifar100", 8) == 0 && arg[0]) {
        st = fn_dataset_open_cifar(arg, 1, split, limit, &d);
    } else if (kind_len == 6 && strncmp(spec, "folder", 6) == 0 && arg[0]) {
        int h = height, w = width;
        if (parse_size_suffix(arg, &h, &w) && ((height && height != h) || (width && width != w)))
            return fn_error(FN_ERR_MISMATCH, "dataset %s: size %dx%d asked for, spec says %dx%d",
                            spec, height, width, h, w);
        st = fn_dataset_open_folder(arg, split, limit, channels, h, w, &d);
    } else if (kind_len == 7 && strncmp(spec, "holdout", 7) == 0 && arg[0]) {
        st = fn_dataset_open_holdout(arg, split, limit, channels, height, width, &d);
    } else {
        return fn_error(FN_ERR_ARG,
                        "dataset \"%s\": expected fashion-mnist, mnist:DIR, cifar10:DIR, "
                        "cifar100:DIR, folder:DIR or holdout:N:SPEC",
                        spec);
    }
    if (st != FN_OK) return st;
    if ((channels && channels != d->c) || (height && height != d->h) || (width && width != d->w)) {
        fn_status e =
            fn_error(FN_ERR_MISMATCH, "dataset %s: images are %dx%dx%d (CxHxW), %dx%dx%d required",
                     spec, d->c, d->h, d->w, channels, height, width);
        fn_dataset_free(d);
        return e;
    }
    *out = d;
    return FN_OK;
}

fn_status fn_dataset_open(const char *spec, const char *split, int limit, fn_dataset **out)
{
    return fn_dataset_open_sized(spec, split, limit, 0, 0, 0, out);
}

int fn_dataset_count(const fn_dataset *d)
{
    return d->n;
}
int fn_dataset_channels(const fn_dataset *d)
{
    return d->c;
}
int fn_dataset_height(const fn_dataset *d)
{
    return d->h;
}
int fn_dataset_width(const fn_dataset *d)
{
    return d->w;
}
int fn_dataset_classes(const fn_dataset *d)
{
    return d->classes;
}
const char *fn_dataset_name(const fn_dataset *d)
{
    return d->name;
}

const char *fn_dataset_class_name(const fn_dataset *d, int i)
{
    return i >= 0 && i < d->classes ? d->class_names[i] : NULL;
}

const uint8_t *fn_dataset_image(const fn_dataset *d, int i)
{
    return i >= 0 && i < d->n ? d->images + (size_t)i * d->c * d->h * d->w : NULL;
}

int fn_dataset_label(const fn_dataset *d, int i)
{
    return i >= 0 && i < d->n ? d->labels[i] : -1;
}

void fn_dataset_default_norm(const fn_dataset *d, float mean[3], float std[3])
{
    if (d->has_norm) {
        for (int k = 0; k < 3; k++) {
            mean[k] = d->mean[k];
            std[k] = d->std[k];
        }
        return;
    }
    size_t plane = (size_t)d->h * d->w;
    for (int k = 0; k < 3; k++) {
        int ch = k < d->c ? k : 0;
        double s = 0, s2 = 0;
        for (int i = 0; i < d->n; i++) {
            const uint8_t *p = d->images + ((size_t)i * d->c + ch) * plane;
            uint64_t a = 0, a2 = 0; /* exact per image */
            for (size_t j = 0; j < plane; j++) {
                a += p[j];
                a2 += (uint64_t)p[j] * p[j];
            }
            s += (double)a;
            s2 += (double)a2;
        }
        double cnt = (double)d->n * (double)plane;
        double m = cnt > 0 ? s / cnt / 255.0 : 0.0;
        double var = cnt > 0 ? s2 / cnt / (255.0 * 255.0) - m * m : 1.0;
        double sd = var > 1e-12 ? sqrt(var) : 1.0;
        mean[k] = (float)m;
        std[k] = (float)sd;
    }
}
