/* What tests/test_conv.c, test_conv_implicit.c and test_conv_depthwise.c
 * share: one layer's tensors on host and device, and the checks of one shape
 * (forward, backward, the gradient rule) against the plain-C twin
 * (lib/ref/conv.c), with every scratch slot poisoned first. */
#ifndef FN_TEST_CONV_CHECK_H
#define FN_TEST_CONV_CHECK_H

#include <time.h>

#include "check.h"
#include "ops/ops.h"
#include "ref/ref.h"

static inline size_t x_len(const fn_conv_shape *s)
{
    return (size_t)s->n * s->c * s->h * s->w;
}
static inline size_t w_len(const fn_conv_shape *s)
{
    return (size_t)s->oc * (s->c / s->groups) * s->kh * s->kw;
}
static inline size_t y_len(const fn_conv_shape *s)
{
    return (size_t)s->n * s->oc * fn_conv_out_h(s) * fn_conv_out_w(s);
}

static inline double now(void)
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

static inline void layer_init(fn_device *dev, fn_rng *r, layer *L, fn_conv_shape s)
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

static inline void layer_free(layer *L)
{
    free(L->x), free(L->w), free(L->b), free(L->dy), free(L->dw0), free(L->db0);
    cl_mem m[] = {L->gx, L->gw, L->gb, L->gy, L->gdy, L->gdx, L->gdw, L->gdb};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
}

static inline void shape_name(char *buf, size_t n, const fn_conv_shape *s, int bias)
{
    snprintf(buf, n, "n%d c%d %dx%d oc%d k%dx%d s%d p%d g%d%s", s->n, s->c, s->h, s->w, s->oc,
             s->kh, s->kw, s->stride, s->pad, s->groups, bias ? " +b" : "");
}

/* Fills the scratch slots conv uses with NaN: a GEMM with beta = 0 must not
 * let stale scratch contents through. */
static inline void poison_scratch(fn_device *dev, const fn_conv_shape *s)
{
    size_t p = (size_t)s->n * fn_conv_out_h(s) * fn_conv_out_w(s);
    size_t rows = ((size_t)s->c * s->kh * s->kw + 15) / 16 * 16; /* own GEMM: padded rows */
    size_t bytes[FN_SCRATCH_SLOTS] = {rows * p * 4, (size_t)s->c * s->kh * s->kw * p * 4,
                                      rows * s->oc * 4, rows * s->oc * 64 * 4, rows * p * 4};
    for (int slot = 0; slot < FN_SCRATCH_SLOTS; slot++) {
        cl_mem m;
        CHECK_OK(fn_scratch(dev, slot, bytes[slot], &m));
        fn_buffer_fill(dev, m, 0, bytes[slot], NAN);
    }
}

/* The fused forward (fn_conv_forward_fused, evaluation) against the
 * reference followed by batch norm with running statistics and an
 * activation, in double: bias + ReLU, a batch norm + ReLU6, bias folded into
 * a batch norm without activation. y is the reference's output with bias.
 * The output starts as NaN: every value must be written. */
static inline void check_fused(fn_device *dev, fn_rng *r, layer *L, const float *y, float *got)
{
    const fn_conv_shape *s = &L->s;
    int oc = s->oc, q = fn_conv_out_h(s) * fn_conv_out_w(s);
    size_t ny = y_len(s);
    float *bn = malloc(4 * (size_t)oc * sizeof(float)), *want = malloc(ny * sizeof(float));
    fill_uniform(r, bn, oc, 0.5f, 1.5f);             /* gamma */
    fill_uniform(r, bn + oc, 2 * (size_t)oc, -1, 1); /* beta, running mean */
    fill_uniform(r, bn + 3 * oc, oc, 0.2f, 2.0f);    /* running variance */
    cl_mem ab = dev_upload(dev, NULL, 2 * (size_t)oc), part[4];
    for (int i = 0; i < 4; i++)
        part[i] = dev_upload(dev, bn + (size_t)i * oc, oc);
    const struct {
        int bias, bn, act;
    } cases[3] = {{1, 0, 1}, {0, 1, 2}, {1, 1, 0}};
    char name[160], what[220];
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < ny; i++) {
            int ch = (int)(i / q % oc);
            double v = y[i] - (cases[c].bias ? 0.0 : L->b[ch]); /* y has the bias */
            if (cases[c].bn)
                v = (v - bn[2 * oc + ch]) * bn[ch] / sqrt((double)bn[3 * oc + ch] + 1e-5) +
                    bn[oc + ch];
            if (cases[c].act) v = v < 0 ? 0 : v;
            if (cases[c].act == 2) v = v > 6 ? 6 : v;
            want[i] = (float)v;
        }
        cl_mem b = cases[c].bias ? L->gb : NULL;
        if (cases[c].bn) {
            CHECK_OK(fn_batchnorm_fold(dev, ab, b, part[0], part[1], part[2], part[3], oc, 1e-5f));
            b = NULL;
        }
        fn_buffer_fill(dev, L->gy, 0, ny * sizeof(float), NAN);
        CHECK_OK(fn_conv_forward_fused(dev, L->gy, L->gx, L->gw, b, cases[c].bn ? ab : NULL,
                                       cases[c].act, s));
        dev_download(dev, L->gy, got, ny);
        shape_name(name, sizeof name, s, cases[c].bias);
        snprintf(what, sizeof what, "fused forward %s%s act %d", name, cases[c].bn ? " +bn" : "",
                 cases[c].act);
        check_close(what, got, want, ny, 1e-4f, 1e-4f);
    }
    CHECK(fn_conv_forward_fused(dev, L->gy, L->gx, L->gw, L->gb, ab, 0, s) == FN_ERR_ARG,
          "fused: a bias next to a folded batch norm is refused");
    for (int i = 0; i < 4; i++)
        fn_buffer_free(part[i]);
    fn_buffer_free(ab);
    free(bn), free(want);
}

/* Forward and backward of one shape against the reference, with and without
 * bias, and the fused forward. Backward starts dx from garbage and dw, db
 * from random values. */
static inline void check_shape(fn_device *dev, fn_rng *r, fn_conv_shape s)
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
        if (bias) check_fused(dev, r, &L, y, got);

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
static inline void check_rule(fn_device *dev, fn_rng *r, fn_conv_shape s)
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

static inline int is_depthwise_shape(const fn_conv_shape *s)
{
    return s->groups == s->c && s->c == s->oc;
}

/* The shapes every convolution test draws from (each test takes those its
 * algorithm runs): n, c, h, w, oc, kh, kw, stride, pad, groups */
static const fn_conv_shape conv_shapes[] = {
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
    /* conv_dw3_* (3x3 on CPUs): every stride and segment shape, planes shared by items */
    {2, 8, 32, 32, 8, 3, 3, 1, 1, 8},  /* rows of 32: MobileNetV2's 32x32 planes */
    {2, 6, 32, 32, 6, 3, 3, 2, 1, 6},  /* stride 2, 32x32 -> 16x16 */
    {2, 20, 8, 8, 20, 3, 3, 1, 1, 20}, /* 8x8: two rows a segment */
    {3, 37, 4, 4, 37, 3, 3, 1, 1, 37}, /* 4x4: four rows; 111 planes, 4 per item */
    {2, 9, 8, 16, 9, 3, 3, 2, 1, 9},   /* stride 2 to 4x8: two rows of 8 */
    {2, 5, 6, 20, 7, 3, 3, 1, 1, 1},   /* rows of 16 outputs and ragged ends */
    {2, 4, 33, 35, 5, 3, 3, 1, 1, 1},
    {2, 3, 40, 40, 8, 3, 3, 2, 1, 1},   /* stride 2, rows of 16 outputs */
    {2, 40, 12, 12, 36, 3, 3, 1, 1, 1}, /* more than 32 channels each way */
};
#define N_CONV_SHAPES (sizeof conv_shapes / sizeof conv_shapes[0])

/* Multiply-adds of one shape's forward pass. */
static inline double conv_macs(const fn_conv_shape *s)
{
    return (double)s->n * s->oc * fn_conv_out_h(s) * fn_conv_out_w(s) * (s->c / s->groups) * s->kh *
           s->kw;
}

/* Small-shape mode (FOCUSNET_TEST_SMALL=1, for the simulated GPU of
 * tests/oclgrind.sh, an interpreter): shapes over SMALL_MACS multiply-adds
 * are left out, and conv_small_shapes stand in for what only they had (rows
 * of 16 outputs at stride 2, wide depthwise, more than 32 channels for the
 * 16-row tiles). Every kernel and every branch of the launch sizes stays. */
#define SMALL_MACS 80000.0
static const fn_conv_shape conv_small_shapes[] = {
    {1, 3, 9, 9, 4, 7, 7, 2, 3, 1},    /* 7x7 s2 p3: a ResNet stem */
    {1, 1, 12, 20, 6, 5, 5, 1, 0, 1},  /* LeNet conv1, rows of 16 outputs */
    {1, 6, 7, 7, 16, 5, 5, 1, 0, 1},   /* LeNet conv2 */
    {1, 5, 4, 5, 40, 3, 3, 1, 1, 1},   /* batch 1, 40 output channels */
    {1, 19, 3, 3, 35, 3, 3, 1, 1, 1},  /* channels off every power of two */
    {1, 2, 4, 35, 3, 3, 3, 1, 1, 1},   /* rows of 16 outputs and ragged ends */
    {1, 2, 5, 33, 3, 3, 3, 2, 1, 1},   /* stride 2, rows of 16 outputs */
    {1, 33, 2, 3, 34, 3, 3, 1, 1, 1},  /* more than 32 channels each way */
    {1, 70, 3, 5, 70, 3, 3, 1, 1, 70}, /* depthwise, wide */
    {1, 4, 16, 16, 4, 3, 3, 1, 1, 4},  /* conv_dw3: rows of 16 */
    {1, 3, 32, 32, 3, 3, 3, 2, 1, 3},  /* conv_dw3: stride 2, rows of 16 */
};
#define N_CONV_SMALL (sizeof conv_small_shapes / sizeof conv_small_shapes[0])

/* Calls f on every shape of the mode the test runs in that keep() accepts. */
static inline void for_conv_shapes(fn_device *dev, fn_rng *r, int (*keep)(const fn_conv_shape *),
                                   void (*f)(fn_device *, fn_rng *, fn_conv_shape))
{
    int small = test_small();
    for (size_t i = 0; i < N_CONV_SHAPES; i++)
        if (keep(&conv_shapes[i]) && (!small || conv_macs(&conv_shapes[i]) <= SMALL_MACS))
            f(dev, r, conv_shapes[i]);
    for (size_t i = 0; small && i < N_CONV_SMALL; i++)
        if (keep(&conv_small_shapes[i])) f(dev, r, conv_small_shapes[i]);
}

static inline int not_depthwise(const fn_conv_shape *s)
{
    return !is_depthwise_shape(s);
}

/* Every non-depthwise shape and the gradient rule on one GEMM path
 * (test_conv: CLBlast, test_conv_implicit: our own kernels); the path is
 * left set for the caller. */
static inline void check_gemm_path(fn_device *dev, fn_rng *r, int path)
{
    dev->gemm_path = path;
    for_conv_shapes(dev, r, not_depthwise, check_shape);
    check_rule(dev, r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 2, 1, 1});
    check_rule(dev, r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 1, 1, 2});
    check_rule(dev, r, (fn_conv_shape){3, 5, 6, 6, 7, 1, 1, 1, 0, 1});
}

#endif
