/* conv on the device against the plain-C twin, and the twin's backward
 * against finite differences. */
#include <time.h>

#include "check.h"
#include "ops/ops.h"
#include "ref/ref.h"

static size_t x_len(const fn_conv_shape *s)
{
    return (size_t)s->n * s->c * s->h * s->w;
}
static size_t w_len(const fn_conv_shape *s)
{
    return (size_t)s->oc * (s->c / s->groups) * s->kh * s->kw;
}
static size_t y_len(const fn_conv_shape *s)
{
    return (size_t)s->n * s->oc * fn_conv_out_h(s) * fn_conv_out_w(s);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Host and device copies of every tensor of one layer. */
typedef struct {
    fn_conv_shape s;
    float *x, *w, *b, *dy, *dw0, *db0;
    cl_mem gx, gw, gb, gy, gdy, gdx, gdw, gdb;
} layer;

static void layer_init(fn_device *dev, fn_rng *r, layer *L, fn_conv_shape s)
{
    L->s = s;
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    L->x = malloc(nx * sizeof(float));
    L->w = malloc(nw * sizeof(float));
    L->b = malloc(s.oc * sizeof(float));
    L->dy = malloc(ny * sizeof(float));
    L->dw0 = malloc(nw * sizeof(float));
    L->db0 = malloc(s.oc * sizeof(float));
    fill_uniform(r, L->x, nx, -1, 1);
    fill_uniform(r, L->w, nw, -1, 1);
    fill_uniform(r, L->b, s.oc, -1, 1);
    fill_uniform(r, L->dy, ny, -1, 1);
    fill_uniform(r, L->dw0, nw, -1, 1); /* gradients accumulate onto these */
    fill_uniform(r, L->db0, s.oc, -1, 1);
    L->gx = dev_upload(dev, L->x, nx);
    L->gw = dev_upload(dev, L->w, nw);
    L->gb = dev_upload(dev, L->b, s.oc);
    L->gy = dev_upload(dev, NULL, ny);
    L->gdy = dev_upload(dev, L->dy, ny);
    L->gdx = dev_upload(dev, NULL, nx);
    L->gdw = dev_upload(dev, NULL, nw);
    L->gdb = dev_upload(dev, NULL, s.oc);
}

static void layer_free(layer *L)
{
    free(L->x), free(L->w), free(L->b), free(L->dy), free(L->dw0), free(L->db0);
    cl_mem m[] = {L->gx, L->gw, L->gb, L->gy, L->gdy, L->gdx, L->gdw, L->gdb};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
}

static void shape_name(char *buf, size_t n, const fn_conv_shape *s, int bias)
{
    snprintf(buf, n, "n%d c%d %dx%d oc%d k%dx%d s%d p%d g%d%s", s->n, s->c, s->h, s->w, s->oc,
             s->kh, s->kw, s->stride, s->pad, s->groups, bias ? " +b" : "");
}

/* Fills the scratch slots conv uses with NaN: a GEMM with beta = 0 must not
 * let stale scratch contents through. */
static void poison_scratch(fn_device *dev, const fn_conv_shape *s)
{
    size_t p = (size_t)s->n * fn_conv_out_h(s) * fn_conv_out_w(s);
    size_t rows = ((size_t)s->c * s->kh * s->kw + 15) / 16 * 16; /* own GEMM: padded rows */
    size_t bytes[4] = {rows * p * 4, (size_t)s->c * s->kh * s->kw * p * 4, rows * s->oc * 4,
                       rows * s->oc * 64 * 4};
    for (int slot = 0; slot < 4; slot++) {
        cl_mem m;
        CHECK_OK(fn_scratch(dev, slot, bytes[slot], &m));
        fn_buffer_fill(dev, m, 0, bytes[slot], NAN);
    }
}

/* Forward and backward of one shape against the reference, with and without
 * bias. Backward starts dx from garbage and dw, db from random values. */
static void check_shape(fn_device *dev, fn_rng *r, fn_conv_shape s)
{
    layer L;
    layer_init(dev, r, &L, s);
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    float *y = malloc(ny * sizeof(float)), *got = malloc((ny + nx + nw) * sizeof(float));
    float *dx = malloc(nx * sizeof(float)), *dw = malloc(nw * sizeof(float));
    float db[4096];
    char name[160], what[200];
    for (int bias = 0; bias <= 1; bias++) {
        shape_name(name, sizeof name, &s, bias);
        fn_ref_conv_forward(y, L.x, L.w, bias ? L.b : NULL, &s);
        poison_scratch(dev, &s);
        CHECK_OK(fn_conv_forward(dev, L.gy, L.gx, L.gw, bias ? L.gb : NULL, &s));
        dev_download(dev, L.gy, got, ny);
        snprintf(what, sizeof what, "forward %s", name);
        check_close(what, got, y, ny, 1e-4f, 1e-4f);

        memcpy(dw, L.dw0, nw * sizeof(float));
        memcpy(db, L.db0, s.oc * sizeof(float));
        fn_ref_conv_backward(dx, dw, bias ? db : NULL, L.dy, L.x, L.w, &s);
        fn_buffer_fill(dev, L.gdx, 0, nx * sizeof(float), 1e30f);
        fn_buffer_write(dev, L.gdw, 0, nw * sizeof(float), L.dw0);
        fn_buffer_write(dev, L.gdb, 0, s.oc * sizeof(float), L.db0);
        poison_scratch(dev, &s);
        CHECK_OK(fn_conv_backward(dev, L.gdx, L.gdw, bias ? L.gdb : NULL, L.gdy, L.gx, L.gw, &s));
        dev_download(dev, L.gdx, got, nx);
        snprintf(what, sizeof what, "dx %s", name);
        check_close(what, got, dx, nx, 1e-4f, 1e-4f);
        dev_download(dev, L.gdw, got, nw);
        snprintf(what, sizeof what, "dw %s", name);
        check_close(what, got, dw, nw, 2e-4f, 1e-4f);
        if (bias) {
            dev_download(dev, L.gdb, got, s.oc);
            snprintf(what, sizeof what, "db %s", name);
            check_close(what, got, db, s.oc, 1e-4f, 1e-4f);
        }
    }
    free(y), free(got), free(dx), free(dw);
    layer_free(&L);
}

/* The gradient rule: dw and db accumulate over two calls, dx is overwritten
 * (not doubled), and dx == NULL still yields dw and db. */
static void check_rule(fn_device *dev, fn_rng *r, fn_conv_shape s)
{
    layer L;
    layer_init(dev, r, &L, s);
    size_t nx = x_len(&s), nw = w_len(&s);
    float *dx = malloc(nx * sizeof(float)), *dw = calloc(nw, sizeof(float));
    float *got = malloc((nx + nw) * sizeof(float)), db[256] = {0};
    char name[160], what[200];
    shape_name(name, sizeof name, &s, 1);
    fn_ref_conv_backward(dx, dw, db, L.dy, L.x, L.w, &s);
    fn_ref_conv_backward(dx, dw, db, L.dy, L.x, L.w, &s);
    for (int pass = 0; pass < 2; pass++) {
        cl_mem gdx = pass == 0 ? L.gdx : NULL; /* the second pass drops dx */
        fn_buffer_fill(dev, L.gdx, 0, nx * sizeof(float), -7.0f);
        fn_buffer_fill(dev, L.gdw, 0, nw * sizeof(float), 0.0f);
        fn_buffer_fill(dev, L.gdb, 0, s.oc * sizeof(float), 0.0f);
        for (int call = 0; call < 2; call++)
            CHECK_OK(fn_conv_backward(dev, gdx, L.gdw, L.gdb, L.gdy, L.gx, L.gw, &s));
        if (gdx) {
            dev_download(dev, gdx, got, nx);
            snprintf(what, sizeof what, "rule: dx overwritten %s", name);
            check_close(what, got, dx, nx, 1e-4f, 1e-4f);
        } else {
            dev_download(dev, L.gdx, got, nx);
            int untouched = 1;
            for (size_t i = 0; i < nx; i++)
                untouched &= got[i] == -7.0f;
            CHECK(untouched, "rule: dx == NULL wrote to some buffer %s", name);
        }
        dev_download(dev, L.gdw, got, nw);
        snprintf(what, sizeof what, "rule: dw accumulates %s (pass %d)", name, pass);
        check_close(what, got, dw, nw, 2e-4f, 1e-4f);
        dev_download(dev, L.gdb, got, s.oc);
        snprintf(what, sizeof what, "rule: db accumulates %s (pass %d)", name, pass);
        check_close(what, got, db, s.oc, 1e-4f, 1e-4f);
    }
    free(dx), free(dw), free(got);
    layer_free(&L);
}

/* ---- Finite differences of the reference --------------------------------- */

typedef struct {
    fn_conv_shape s;
    float *x, *w, *b, *y, *r; /* r: the fixed random weights of the scalar */
} fd_ctx;

/* sum(y * r) */
static double fd_loss(void *p)
{
    fd_ctx *c = p;
    fn_ref_conv_forward(c->y, c->x, c->w, c->b, &c->s);
    double acc = 0;
    for (size_t i = 0; i < y_len(&c->s); i++)
        acc += (double)c->y[i] * c->r[i];
    return acc;
}

static void check_ref_fd(fn_rng *r, fn_conv_shape s)
{
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    fd_ctx c = {.s = s};
    c.x = malloc(nx * sizeof(float)), c.w = malloc(nw * sizeof(float));
    c.b = malloc(s.oc * sizeof(float)), c.y = malloc(ny * sizeof(float));
    c.r = malloc(ny * sizeof(float));
    fill_uniform(r, c.x, nx, -1, 1);
    fill_uniform(r, c.w, nw, -1, 1);
    fill_uniform(r, c.b, s.oc, -1, 1);
    fill_uniform(r, c.r, ny, -1, 1);
    float *dx = malloc(nx * sizeof(float)), *dw = calloc(nw, sizeof(float));
    float *db = calloc(s.oc, sizeof(float));
    fn_ref_conv_backward(dx, dw, db, c.r, c.x, c.w, &s);
    char name[160], what[200];
    shape_name(name, sizeof name, &s, 1);
    /* Convolution is linear in each argument, so the only error is float
     * rounding of y: a wide step keeps it small relative to the quotient. */
    snprintf(what, sizeof what, "fd dx %s", name);
    check_fd(what, c.x, dx, nx, fd_loss, &c, 0.05, 1e-3);
    snprintf(what, sizeof what, "fd dw %s", name);
    check_fd(what, c.w, dw, nw, fd_loss, &c, 0.05, 1e-3);
    snprintf(what, sizeof what, "fd db %s", name);
    check_fd(what, c.b, db, s.oc, fd_loss, &c, 0.05, 1e-3);
    free(c.x), free(c.w), free(c.b), free(c.y), free(c.r), free(dx), free(dw), free(db);
}

/* ---- A ResNet-18 layer at a real batch ------------------------------------
 * N = 64, 64 -> 64 channels, 32x32, 3x3 s1 p1. The batch repeats `base`
 * distinct images (and output gradients), so the reference runs on `base`
 * images only: per-image outputs and dx match them, and dw, db are
 * N/base times the reference's. */
static void check_resnet_layer(fn_device *dev, fn_rng *r)
{
    const int base = 2;
    fn_conv_shape s = {64, 64, 32, 32, 64, 3, 3, 1, 1, 1}, sb = s;
    sb.n = base;
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    size_t bx = x_len(&sb), by = y_len(&sb);
    float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float));
    float *w = malloc(nw * sizeof(float)), b[64];
    fill_uniform(r, x, bx, -1, 1);
    fill_uniform(r, dy, by, -1, 1);
    fill_uniform(r, w, nw, -0.1f, 0.1f);
    fill_uniform(r, b, 64, -1, 1);
    for (int n = base; n < s.n; n++) {
        memcpy(x + n * bx / base, x + (n % base) * bx / base, bx / base * sizeof(float));
        memcpy(dy + n * by / base, dy + (n % base) * by / base, by / base * sizeof(float));
    }
    cl_mem gx = dev_upload(dev, x, nx), gw = dev_upload(dev, w, nw), gb = dev_upload(dev, b, 64);
    cl_mem gy = dev_upload(dev, NULL, ny), gdy = dev_upload(dev, dy, ny);
    cl_mem gdx = dev_upload(dev, NULL, nx), gdw = dev_upload(dev, NULL, nw);
    cl_mem gdb = dev_upload(dev, NULL, 64);

    /* The first calls compile kernels; time the second. */
    double t_fwd = 0, t_bwd = 0;
    for (int rep = 0; rep < 2; rep++) {
        fn_buffer_fill(dev, gdw, 0, nw * sizeof(float), 0.0f);
        fn_buffer_fill(dev, gdb, 0, 64 * sizeof(float), 0.0f);
        CHECK_OK(fn_finish(dev));
        double t0 = now();
        CHECK_OK(fn_conv_forward(dev, gy, gx, gw, gb, &s));
        CHECK_OK(fn_finish(dev));
        double t1 = now();
        CHECK_OK(fn_conv_backward(dev, gdx, gdw, gdb, gdy, gx, gw, &s));
        CHECK_OK(fn_finish(dev));
        t_fwd = t1 - t0, t_bwd = now() - t1;
    }
    printf("resnet layer n64 c64 32x32 oc64 3x3: forward %.3f s, backward %.3f s\n", t_fwd, t_bwd);

    float *ry = malloc(by * sizeof(float)), *rdx = malloc(bx * sizeof(float));
    float *rdw = calloc(nw, sizeof(float)), rdb[64] = {0};
    fn_ref_conv_forward(ry, x, w, b, &sb);
    fn_ref_conv_backward(rdx, rdw, rdb, dy, x, w, &sb);
    for (size_t i = 0; i < nw; i++)
        rdw[i] *= s.n / base;
    for (int i = 0; i < 64; i++)
        rdb[i] *= s.n / base;
    float *got = malloc(ny * sizeof(float));
    dev_download(dev, gy, got, ny);
    for (int n = 0; n < s.n; n += 21) /* a few images of the batch, last included */
        check_close("resnet forward", got + (n / base * base) * by / base, ry, by, 1e-4f, 1e-4f);
    check_close("resnet forward (last images)", got + ny - by, ry, by, 1e-4f, 1e-4f);
    dev_download(dev, gdx, got, nx);
    check_close("resnet dx (last images)", got + nx - bx, rdx, bx, 1e-4f, 1e-4f);
    dev_download(dev, gdw, got, nw);
    check_close("resnet dw", got, rdw, nw, 1e-2f, 1e-3f);
    dev_download(dev, gdb, got, 64);
    check_close("resnet db", got, rdb, 64, 1e-2f, 1e-4f);

    free(x), free(dy), free(w), free(ry), free(rdx), free(rdw), free(got);
    cl_mem m[] = {gx, gw, gb, gy, gdy, gdx, gdw, gdb};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
}

static void check_errors(fn_device *dev)
{
    cl_mem m = dev_upload(dev, NULL, 16);
    fn_conv_shape bad_groups = {1, 6, 4, 4, 4, 3, 3, 1, 1, 4};
    CHECK(fn_conv_forward(dev, m, m, m, NULL, &bad_groups) == FN_ERR_ARG, "groups must divide");
    fn_conv_shape too_big = {1, 1, 2, 2, 1, 5, 5, 1, 1, 1};
    CHECK(fn_conv_out_h(&too_big) == 0, "out_h of a kernel larger than the input");
    CHECK(fn_conv_backward(dev, m, m, m, m, m, m, &too_big) == FN_ERR_ARG, "kernel too large");
    fn_buffer_free(m);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);

    /* n, c, h, w, oc, kh, kw, stride, pad, groups */
    const fn_conv_shape shapes[] = {
        {2, 5, 6, 7, 9, 1, 1, 1, 0, 1},      /* 1x1 */
        {2, 8, 7, 7, 6, 1, 1, 2, 0, 1},      /* 1x1 stride 2: a ResNet shortcut */
        {2, 3, 8, 8, 17, 3, 3, 1, 1, 1},     /* 3x3 s1 p1 */
        {3, 6, 7, 7, 10, 3, 3, 2, 1, 1},     /* 3x3 s2 p1, odd input */
        {2, 3, 19, 17, 8, 7, 7, 2, 3, 1},    /* 7x7 s2 p3: a ResNet stem */
        {4, 1, 28, 28, 6, 5, 5, 1, 0, 1},    /* LeNet conv1 */
        {3, 6, 14, 14, 16, 5, 5, 1, 0, 1},   /* LeNet conv2 */
        {1, 13, 9, 11, 70, 3, 3, 1, 1, 1},   /* batch 1 */
        {3, 20, 1, 1, 33, 1, 1, 1, 0, 1},    /* 1x1 spatial */
        {2, 7, 1, 1, 5, 3, 3, 1, 1, 1},      /* 1x1 spatial, 3x3 padded */
        {2, 3, 8, 10, 4, 1, 3, 1, 1, 1},     /* non-square kernel */
        {2, 1, 5, 5, 1, 3, 3, 1, 1, 1},      /* one channel in and out */
        {2, 37, 16, 15, 67, 3, 3, 1, 1, 1},  /* channels off every power of two */
        {2, 6, 9, 9, 10, 3, 3, 1, 1, 2},     /* groups 2 */
        {3, 4, 8, 7, 6, 3, 3, 2, 1, 2},      /* groups 2, stride 2 */
        {2, 9, 5, 5, 12, 1, 1, 1, 0, 3},     /* groups 3, 1x1 */
        {2, 4, 6, 6, 8, 3, 3, 1, 1, 4},      /* groups == C, OC = 2C: not depthwise */
        {2, 12, 9, 9, 12, 3, 3, 1, 1, 12},   /* depthwise 3x3 s1 */
        {3, 7, 7, 9, 7, 3, 3, 2, 1, 7},      /* depthwise 3x3 s2, odd input */
        {1, 5, 11, 11, 5, 5, 5, 2, 2, 5},    /* depthwise 5x5, batch 1 */
        {2, 33, 1, 1, 33, 3, 3, 1, 1, 33},   /* depthwise, 1x1 spatial */
        {2, 70, 20, 20, 70, 3, 3, 1, 1, 70}, /* depthwise, wide */
        {2, 6, 40, 40, 6, 3, 3, 2, 1, 6},    /* depthwise s2, rows of 16 outputs */
        {2, 5, 18, 36, 5, 3, 3, 1, 1, 5},    /* depthwise, rows of 16 and ragged */
        {1, 4, 20, 33, 4, 5, 5, 1, 2, 4},    /* depthwise 5x5: dx by the flipped kernel */
        {2, 3, 9, 40, 3, 3, 3, 1, 0, 3},     /* depthwise unpadded */
        {2, 3, 7, 9, 3, 1, 3, 1, 1, 3},      /* depthwise 1x3: padding beyond the window's rows */
        {2, 3, 8, 8, 3, 3, 3, 2, 1, 3},      /* depthwise s2 on 8x8: 4-wide rows */
        {2, 3, 8, 8, 3, 3, 3, 2, 0, 3},
        {2, 3, 12, 16, 3, 3, 3, 2, 1, 3}, /* depthwise s2: 8-wide rows */
        {2, 5, 6, 20, 7, 3, 3, 1, 1, 1},  /* rows of 16 outputs and ragged ends */
        {2, 4, 33, 35, 5, 3, 3, 1, 1, 1},
        {2, 3, 40, 40, 8, 3, 3, 2, 1, 1},   /* stride 2, rows of 16 outputs */
        {2, 40, 12, 12, 36, 3, 3, 1, 1, 1}, /* more than 32 channels each way */
    };
    /* Both GEMM paths, whatever the device: CLBlast (GPUs) and our own (CPUs). */
    const int paths[2] = {FN_GEMM_CLBLAST, FN_GEMM_OWN};
    for (int pi = 0; pi < 2; pi++) {
        dev->gemm_path = paths[pi];
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check_shape(dev, &r, shapes[i]);
        check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 2, 1, 1});
        check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 1, 1, 2});
        check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 6, 3, 3, 2, 1, 6});
        check_rule(dev, &r, (fn_conv_shape){3, 5, 6, 6, 7, 1, 1, 1, 0, 1});
    }
    dev->gemm_path = FN_GEMM_AUTO;
    /* Depthwise planes as separate passes (GPUs) as well as whole in local memory (CPUs). */
    int long_runs = dev->long_runs;
    dev->long_runs = !long_runs;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (shapes[i].groups == shapes[i].c && shapes[i].c == shapes[i].oc)
            check_shape(dev, &r, shapes[i]);
    check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 6, 3, 3, 2, 1, 6});
    dev->long_runs = long_runs;

    check_ref_fd(&r, (fn_conv_shape){2, 3, 5, 5, 4, 3, 3, 2, 1, 1});
    check_ref_fd(&r, (fn_conv_shape){1, 2, 4, 5, 3, 1, 1, 1, 0, 1});
    check_ref_fd(&r, (fn_conv_shape){1, 4, 5, 4, 6, 3, 3, 1, 1, 2});
    check_ref_fd(&r, (fn_conv_shape){2, 3, 5, 6, 3, 3, 3, 2, 1, 3});

    check_errors(dev);
    check_resnet_layer(dev, &r);

    fn_device_free(dev);
    return check_summary("test_conv");
}
