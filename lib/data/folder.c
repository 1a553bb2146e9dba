/* Image folders: DIR/<split>/<class>/<image>. Classes are the sorted union of
 * the class folders of both splits, so train and test agree on labels even
 * when a class is missing from one of them. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/core.h"
#include "internal.h"

typedef struct {
    char **s;
    int n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int strlist_add(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **ns = realloc(l->s, sizeof(char *) * (size_t)cap);
        if (!ns) return 0;
        l->s = ns;
        l->cap = cap;
    }
    if (!(l->s[l->n] = strdup(s))) return 0;
    l->n++;
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
                   strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".bmp") == 0);
}

/* Lists entries of dir that are folders (want_dirs) or image files, sorted.
 * A missing dir gives an empty list when optional. */
static fn_status list_dir(const char *dir, int want_dirs, int optional, strlist *out)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        if (optional) return FN_OK;
        return fn_error(FN_ERR_IO, "%s: cannot open folder", dir);
    }
    fn_status st = FN_OK;
    struct dirent *e;
    while (st == FN_OK && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (!want_dirs && !has_image_ext(e->d_name)) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        if (want_dirs ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) continue;
        if (!strlist_add(out, e->d_name))
            st = fn_error(FN_ERR_NOMEM, "%s: no memory for the listing", dir);
    }
    closedir(dp);
    if (st == FN_OK && out->n > 1) qsort(out->s, (size_t)out->n, sizeof(char *), cmp_str);
    return st;
}

/* Decodes one file into (c, h, w) uint8 at the dataset's size. */
static fn_status load_one(const char *path, int c, int h, int w, float *tmp, uint8_t *dst)
{
    fn_image img;
    FN_TRY(fn_image_load(path, &img));
    size_t n = (size_t)img.w * img.h, plane = (size_t)h * w;
    if (img.w == w && img.h == h && img.c == c) {
        /* Already the dataset's size (the common case): just (H, W, C) -> (C, H, W). */
        for (int ch = 0; ch < c; ch++)
            for (size_t i = 0; i < plane; i++)
                dst[ch * plane + i] = img.pixels[i * c + ch];
        fn_image_free(&img);
        return FN_OK;
    }
    uint8_t *conv = malloc(n * c);
    if (!conv) {
        fn_image_free(&img);
        return fn_error(FN_ERR_NOMEM, "%s: no memory", path);
    }
    fn_pixels_convert(img.pixels, img.c, conv, c, n);
    int rh, rw, y0, x0;
    fn_cover_size(img.h, img.w, h, w, 1, 1, &rh, &rw, &y0, &x0);
    fn_status st = fn_resample(conv, img.h, img.w, c, rh, rw, y0, x0, h, w, tmp);
    free(conv);
    fn_image_free(&img);
    if (st != FN_OK) return fn_error_prefix(st, "%s: ", path);
    for (int ch = 0; ch < c; ch++) {
        for (size_t i = 0; i < plane; i++) {
            float v = tmp[i * c + ch] + 0.5f;
            dst[ch * plane + i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    return FN_OK;
}

fn_status fn_dataset_open_folder(const char *dir, const char *split, int limit, int channels,
                                 int height, int width, fn_dataset **out)
{
    *out = NULL;
    char split_dir[4200], path[8400];
    snprintf(split_dir, sizeof split_dir, "%s/%s", dir, split);
    strlist classes = {0}, other = {0};
    strlist *files = NULL;
    int *per_class = NULL, *quota = NULL;
    fn_dataset *d = NULL;
    float *tmp = NULL;
    fn_status st = list_dir(split_dir, 1, 0, &classes);
    if (st == FN_OK) {
        snprintf(path, sizeof path, "%s/%s", dir, strcmp(split, "train") == 0 ? "test" : "train");
        st = list_dir(path, 1, 1, &other);
    }
    /* The union of both splits' class folders, sorted and without repeats. */
    for (int i = 0; st == FN_OK && i < other.n; i++)
        if (!strlist_add(&classes, other.s[i])) st = fn_error(FN_ERR_NOMEM, "%s: no memory", dir);
    if (st == FN_OK && classes.n > 1) {
        qsort(classes.s, (size_t)classes.n, sizeof(char *), cmp_str);
        int k = 0;
        for (int i = 0; i < classes.n; i++) {
            if (k > 0 && strcmp(classes.s[k - 1], classes.s[i]) == 0)
                free(classes.s[i]);
            else
                classes.s[k++] = classes.s[i];
        }
        classes.n = k;
    }
    if (st == FN_OK && classes.n == 0)
        st = fn_error(FN_ERR_FORMAT, "%s: no class folders (expected %s/<class>/*.jpg)", split_dir,
                      split_dir);
    if (st == FN_OK) {
        files = calloc((size_t)classes.n, sizeof *files);
        per_class = calloc((size_t)classes.n * 2, sizeof(int));
        if (!files || !per_class)
            st = fn_error(FN_ERR_NOMEM, "%s: no memory", dir);
        else
            quota = per_class + classes.n;
    }
    long total = 0;
    for (int k = 0; st == FN_OK && k < classes.n; k++) {
        snprintf(path, sizeof path, "%s/%s", split_dir, classes.s[k]);
        st = list_dir(path, 0, 1, &files[k]);
        per_class[k] = files[k].n;
        total += files[k].n;
    }
    if (st == FN_OK && total == 0)
        st = fn_error(FN_ERR_FORMAT, "%s: no images (expected %s/<class>/*.{jpg,jpeg,png,bmp})",
                      split_dir, split_dir);
    if (st == FN_OK && total > (1L << 30))
        st = fn_error(FN_ERR_FORMAT, "%s: too many images", split_dir);
    int n = 0, first_class = -1;
    if (st == FN_OK) {
        fn_limit_quotas(per_class, classes.n, limit, quota);
        for (int k = 0; k < classes.n; k++) {
            n += quota[k];
            if (first_class < 0 && quota[k] > 0) first_class = k;
        }
    }
    /* The first image sets whatever size or channel count was left open. */
    if (st == FN_OK && (!channels || !height || !width)) {
        snprintf(path, sizeof path, "%s/%s/%s", split_dir, classes.s[first_class],
                 files[first_class].s[0]);
        fn_image first;
        st = fn_image_load(path, &first);
        if (st == FN_OK) {
            if (!channels) channels = first.c >= 3 ? 3 : 1;
            if (!height || !width) {
                height = first.h;
                width = first.w;
            }
            fn_image_free(&first);
        }
    }
    if (st == FN_OK)
        st = fn_dataset_alloc(fn_basename(dir), n, channels, height, width, classes.n, &d);
    if (st == FN_OK) {
        tmp = malloc(sizeof(float) * (size_t)channels * height * width);
        if (!tmp) st = fn_error(FN_ERR_NOMEM, "%s: no memory", dir);
    }
    if (st == FN_OK) st = fn_dataset_set_class_names(d, (const char *const *)classes.s);
    size_t per = (size_t)channels * height * width;
    int i = 0;
    for (int k = 0; st == FN_OK && k < classes.n; k++) {
        for (int f = 0; st == FN_OK && f < quota[k]; f++, i++) {
            snprintf(path, sizeof path, "%s/%s/%s", split_dir, classes.s[k], files[k].s[f]);
            st = load_one(path, channels, height, width, tmp, d->images + (size_t)i * per);
            d->labels[i] = k;
        }
    }
    free(tmp);
    if (files)
        for (int k = 0; k < classes.n; k++)
            strlist_free(&files[k]);
    free(files);
    free(per_class);
    strlist_free(&classes);
    strlist_free(&other);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    *out = d;
    return FN_OK;
}
