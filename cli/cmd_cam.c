/* focusnet cam: an image with the class activation map of one or more classes
 * over it, for one checkpoint or two side by side (--compare), as a PNG.
 *
 * Plain CAM where the model ends in global average pooling and a linear layer,
 * Grad-CAM otherwise (LeNet-5) or with --grad-cam. The two models of a row
 * share one colour scale, drawn beside the row. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "draw.h"

enum { MARGIN = 16, GAP = 16, TITLE_H = 22, LABEL_H = 38, BAR_LABEL_W = 64 };

typedef struct {
    const char *path;
    fn_model *m;
    int grad_cam;
    int c, h, w;
    float *input, *pixels; /* (C, H, W) */
    float *logits, *prob;  /* (K) */
    float *heat;           /* (H, W) */
} cam_model;

static void cam_model_free(cam_model *cm)
{
    fn_model_free(cm->m);
    free(cm->input);
    free(cm->pixels);
    free(cm->logits);
    free(cm->prob);
    free(cm->heat);
}

/* Loads a checkpoint for CAM (built for training, batch 1, so Grad-CAM can run
 * backward), reads the image as it sees it and predicts. */
static fn_status cam_model_open(fn_device *dev, const char *path, const char *image, int grad_cam,
                                cam_model *cm)
{
    memset(cm, 0, sizeof *cm);
    cm->path = path;
    if (fn_checkpoint_load(dev, path, NULL, 1, 1, &cm->m) != FN_OK) return FN_ERR_IO;
    const fn_model_config *c = fn_model_get_config(cm->m);
    cm->c = c->channels, cm->h = c->height, cm->w = c->width_px;
    cm->grad_cam = grad_cam || !fn_cam_available(cm->m);
    size_t n = (size_t)cm->c * cm->h * cm->w, k = (size_t)c->classes;
    cm->input = malloc(n * sizeof(float));
    cm->pixels = malloc(n * sizeof(float));
    cm->logits = malloc(k * sizeof(float));
    cm->prob = malloc(k * sizeof(float));
    cm->heat = malloc((size_t)cm->h * cm->w * sizeof(float));
    if (!cm->input || !cm->pixels || !cm->logits || !cm->prob || !cm->heat) {
        fprintf(stderr, "focusnet cam: out of memory\n");
        return FN_ERR_NOMEM;
    }
    fn_status st = fn_model_load_image(cm->m, image, cm->input, cm->pixels);
    if (st == FN_OK) st = fn_model_predict(cm->m, cm->input, 1, cm->logits);
    if (st != FN_OK) return st;
    fn_softmax(cm->logits, (int)k, cm->prob);
    return FN_OK;
}

static int argmax(const float *x, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

/* "runs/demo/baseline/best.safetensors" -> "baseline/best.safetensors" */
static const char *short_name(const char *path)
{
    const char *last = strrchr(path, '/');
    if (!last) return path;
    const char *p = last;
    while (p > path && p[-1] != '/')
        p--;
    return p > path || path[0] != '/' ? p : last + 1;
}

static int find_class(const fn_model *m, const char *spec)
{
    int k = fn_model_get_config(m)->classes;
    for (int j = 0; j < k; j++)
        if (strcmp(fn_model_class_name(m, j), spec) == 0) return j;
    char *end;
    long v = strtol(spec, &end, 10);
    return *spec && !*end && v >= 0 && v < k ? (int)v : -1;
}

typedef struct {
    unsigned char *data;
    size_t n, cap;
} png_buf;

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int len)
{
    png_buf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *nd = realloc(b->data, cap);
        if (!nd) return CAIRO_STATUS_NO_MEMORY;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

int cmd_cam(int argc, char **argv)
{
    cli_opt opts[] = {
        {"class", "C", "the class to map: an index or a name (default: the top class)", NULL},
        {"top", "K", "map the K most probable classes, one row each (1)", NULL},
        {"compare", "CKPT2", "a second checkpoint, side by side with one colour scale", NULL},
        {"colormap", "NAME", "viridis, jet or inferno (viridis)", NULL},
        {"opacity", "A", "heatmap opacity from 0 to 1 (0.5)", NULL},
        {"grad-cam", NULL, "Grad-CAM even where plain CAM applies (LeNet-5 always uses it)", NULL},
        {"size", "PX", "side of each image in the PNG (224)", NULL},
        {"out", "FILE.png", "where to write the picture (required)", NULL},
        {"device", "N|NAME", "OpenCL device", NULL},
        {NULL, NULL, NULL, NULL}};
    const char *pos[2];
    int n_pos, rc = cli_parse("cam", "CHECKPOINT IMAGE --out FILE.png [options]", opts, argc, argv,
                              pos, 2, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    if (n_pos != 2) {
        fprintf(stderr, "focusnet cam: needs a checkpoint and an image (see 'focusnet cam "
                        "--help')\n");
        return EXIT_USAGE;
    }
    const char *out = cli_get(opts, "out");
    if (!out) {
        fprintf(stderr, "focusnet cam: needs --out FILE.png\n");
        return EXIT_USAGE;
    }
    long top = 1, size = 224;
    double opacity = 0.5;
    if ((rc = cli_int("cam", opts, "top", 1, 1000, &top)) ||
        (rc = cli_int("cam", opts, "size", 16, 4096, &size)) ||
        (rc = cli_float("cam", opts, "opacity", 0, 1, &opacity)))
        return rc;
    if (cli_get(opts, "class") && cli_get(opts, "top")) {
        fprintf(stderr, "focusnet cam: choose --class or --top, not both\n");
        return EXIT_USAGE;
    }
    fn_colormap map = FN_COLORMAP_VIRIDIS;
    if (cli_get(opts, "colormap") && fn_colormap_parse(cli_get(opts, "colormap"), &map) != FN_OK) {
        fprintf(stderr, "focusnet cam: option '--colormap' %s\n", fn_last_error());
        return EXIT_USAGE;
    }
    int grad_cam = cli_get(opts, "grad-cam") != NULL;

    fn_device *dev = NULL;
    if (fn_device_open(cli_get(opts, "device"), &dev) != FN_OK) return cli_fail("cam");
    cam_model models[2];
    memset(models, 0, sizeof models);
    int n_models = cli_get(opts, "compare") ? 2 : 1;
    const char *paths[2] = {pos[0], cli_get(opts, "compare")};
    int *rows = NULL;
    cairo_surface_t *surface = NULL;
    rc = 0;
    for (int i = 0; i < n_models && !rc; i++)
        if (cam_model_open(dev, paths[i], pos[1], grad_cam, &models[i]) != FN_OK)
            rc = cli_fail("cam");
    if (rc) goto done;
    int k = fn_model_get_config(models[0].m)->classes;
    if (n_models == 2 && fn_model_get_config(models[1].m)->classes != k) {
        fprintf(stderr,
                "focusnet cam: %s has %d classes but %s has %d: compare models of one "
                "dataset\n",
                paths[0], k, paths[1], fn_model_get_config(models[1].m)->classes);
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (n_models == 2 && fn_model_check_classes(models[0].m, paths[0], models[1].m, paths[1]) !=
                             FN_OK) {
        rc = cli_fail("cam");
        goto done;
    }
    if (top > k) top = k;
    int n_rows = cli_get(opts, "class") ? 1 : (int)top;
    rows = malloc((size_t)n_rows * sizeof *rows);
    if (!rows) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (cli_get(opts, "class")) {
        rows[0] = find_class(models[0].m, cli_get(opts, "class"));
        if (rows[0] < 0) {
            fprintf(stderr,
                    "focusnet cam: option '--class' needs an index from 0 to %d or a class "
                    "name, not '%s'\n",
                    k - 1, cli_get(opts, "class"));
            rc = EXIT_USAGE;
            goto done;
        }
    } else { /* the first model's most probable classes */
        float *p = malloc((size_t)k * sizeof *p);
        if (!p) {
            rc = EXIT_RUNTIME;
            goto done;
        }
        memcpy(p, models[0].prob, (size_t)k * sizeof *p);
        for (int r = 0; r < n_rows; r++) {
            rows[r] = argmax(p, k);
            p[rows[r]] = -1;
        }
        free(p);
    }

    double cell = (double)size;
    int width = (int)(2 * MARGIN + n_models * cell + (n_models - 1) * GAP + GAP + FNV_COLORBAR_W +
                      BAR_LABEL_W);
    int row_h = (int)(TITLE_H + cell + LABEL_H + GAP);
    int height = 2 * MARGIN + 24 + n_rows * row_h;
    surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    const char *base = strrchr(pos[1], '/');
    char line[512];
    snprintf(line, sizeof line, "%s  (%s, opacity %.2g)", base ? base + 1 : pos[1],
             fn_colormap_name(map), opacity);
    fnv_draw_text(cr, MARGIN, MARGIN + 14, 15, line);

    for (int r = 0; r < n_rows && !rc; r++) {
        int cls = rows[r];
        float lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < n_models && !rc; i++) {
            cam_model *cm = &models[i];
            if (fn_cam_compute(cm->m, cm->input, cls, cm->grad_cam, cm->heat, NULL) != FN_OK)
                rc = cli_fail("cam");
            else
                fn_heatmap_range(cm->heat, (size_t)cm->h * cm->w, &lo, &hi);
        }
        if (rc) break;
        double y = MARGIN + 24 + r * row_h;
        for (int i = 0; i < n_models; i++) {
            cam_model *cm = &models[i];
            double x = MARGIN + i * (cell + GAP);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            fnv_draw_text(cr, x, y + 15, 13, short_name(cm->path));
            cairo_save(cr);
            cairo_translate(cr, x, y + TITLE_H);
            fnv_draw_overlay(cr, cell, cell, cm->pixels, cm->c, cm->h, cm->w, cm->heat, lo, hi, map,
                             opacity);
            cairo_restore(cr);
            int best = argmax(cm->prob, k);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            snprintf(line, sizeof line, "%s  %.1f%%", fn_model_class_name(cm->m, cls),
                     100.0 * cm->prob[cls]);
            fnv_draw_text(cr, x, y + TITLE_H + cell + 16, 14, line);
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
            snprintf(line, sizeof line, "%s; predicts %s %.1f%%", cm->grad_cam ? "Grad-CAM" : "CAM",
                     fn_model_class_name(cm->m, best), 100.0 * cm->prob[best]);
            fnv_draw_text(cr, x, y + TITLE_H + cell + 33, 11, line);
        }
        cairo_save(cr);
        cairo_translate(cr, MARGIN + n_models * (cell + GAP), y + TITLE_H);
        fnv_draw_colorbar_vertical(cr, FNV_COLORBAR_W + BAR_LABEL_W, cell, map, lo, hi);
        cairo_restore(cr);
    }
    cairo_destroy(cr);
    if (!rc) {
        /* Encoded in memory, then written as checkpoints are (temporary
         * file, fsync, rename): a full disk keeps the previous picture. */
        png_buf b = {0};
        cairo_status_t cs = cairo_surface_write_to_png_stream(surface, png_append, &b);
        if (cs != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "focusnet cam: cannot encode %s: %s\n", out,
                    cairo_status_to_string(cs));
            rc = EXIT_RUNTIME;
        } else if (fn_write_file_atomic(out, b.data, b.n) != FN_OK) {
            rc = cli_fail("cam");
        } else {
            printf("%s\n", out);
        }
        free(b.data);
    }
done:
    if (surface) cairo_surface_destroy(surface);
    free(rows);
    for (int i = 0; i < 2; i++)
        cam_model_free(&models[i]);
    fn_device_free(dev);
    return rc;
}
