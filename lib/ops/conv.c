/* 2-D convolution on the device: the entry points, which pick one of three
 * algorithms, and the first of them.
 *
 * GPUs (CLBlast), and CPUs for groups > 1: im2col + ONE GEMM per layer over
 * the whole batch, here: im2col builds col (C*KH*KW, N*OH*OW), CLBlast
 * multiplies W (OC, C/g*KH*KW) by it into (OC, N*OH*OW), and a small kernel
 * permutes that to (N, OC, OH, OW) adding the bias. With groups > 1 the
 * per-group products are one strided-batched GEMM (rows of col, W and the
 * output are grouped contiguously, so each group is a fixed stride on).
 * Scratch: slot 0 col, in backward first col then dcol; slot 1 the output
 * or its gradient in GEMM layout.
 *
 * CPUs (fn_use_own_gemm), groups == 1: our own GEMM kernels, packed column
 * panels or the implicit GEMM (lib/ops/conv_implicit.c); 3x3 stride 1 with
 * enough channels by Winograd F(2x2, 3x3) (lib/ops/conv_winograd.c).
 *
 * Depthwise convolutions (groups == C == OC), everywhere: direct kernels on
 * padded planes (lib/ops/conv_depthwise.c).
 *
 * The bias gradient and padded planes (conv_pad) serve all three and live
 * here. CLBlast is called from the caller's thread on the device queue only,
 * never concurrently. Scratch contents never survive a call; ops.h lists
 * which slots each algorithm takes. */
#include <limits.h>
#include <string.h>

#include "../core/blas.h"
#include "ops.h"

static int out_size(int in, int k, int stride, int pad)
{
    int span = in + 2 * pad - k;
    return (span < 0 || stride < 1) ? 0 : span / stride + 1;
}

int fn_conv_out_h(const fn_conv_shape *s)
{
    return out_size(s->h, s->kh, s->stride, s->pad);
}

int fn_conv_out_w(const fn_conv_shape *s)
{
    return out_size(s->w, s->kw, s->stride, s->pad);
}

static fn_status check_shape(const fn_conv_shape *s)
{
    if (!s || s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->oc < 1 || s->kh < 1 || s->kw < 1 ||
        s->stride < 1 || s->pad < 0 || s->groups < 1)
        return fn_error(FN_ERR_ARG, "conv: bad shape");
    if (s->c % s->groups || s->oc % s->groups)
        return fn_error(FN_ERR_ARG, "conv: groups %d must divide channels %d and %d", s->groups,
                        s->c, s->oc);
    if (fn_conv_out_h(s) < 1 || fn_conv_out_w(s) < 1)
        return fn_error(FN_ERR_ARG, "conv: %dx%d kernel larger than padded %dx%d input", s->kh,
                        s->kw, s->h, s->w);
    /* Kernels index rows, columns and planes with ints. */
    double p = (double)s->n * fn_conv_out_h(s) * fn_conv_out_w(s);
    double rows = (double)s->c * s->kh * s->kw;
    if (p > INT_MAX || rows > INT_MAX || (double)s->n * s->c * s->h * s->w > (double)SIZE_MAX / 4)
        return fn_error(FN_ERR_ARG, "conv: shape too large");
    return FN_OK;
}

static int is_depthwise(const fn_conv_shape *s)
{
    return s->groups == s->c && s->groups == s->oc;
}

/* db (OC) += sums of dy (N, OC, OH*OW) over batch and space: per plane, then
 * per channel (scratch slot 0: N*OC floats). */
static fn_status bias_grad(fn_device *dev, cl_mem db, cl_mem dy, int n, int oc, int q)
{
    int planes = n * oc;
    cl_mem part;
    cl_kernel k;
    FN_TRY(fn_scratch(dev, 0, (size_t)planes * sizeof(float), &part));
    FN_TRY(fn_kernel_get(dev, "conv", "conv_bias_plane", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(q), FN_ARG(dy), FN_ARG(part), (size_t)0));
    size_t global = (size_t)planes;
    FN_TRY(fn_launch_auto(dev, k, 1, &global));
    FN_TRY(fn_kernel_get(dev, "conv", "conv_bias_sum", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(oc), FN_ARG(part), FN_ARG(db), (size_t)0));
    return fn_launch1(dev, k, (size_t)oc);
}

/* col (C*KH*KW, N*OH*OW) from x; see kernels/conv.cl for the layout. */
static fn_status im2col(fn_device *dev, cl_mem col, cl_mem x, const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    int rows = s->c * s->kh * s->kw, p = s->n * oh * ow;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_im2col", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(rows), FN_ARG(p), FN_ARG(s->c), FN_ARG(s->h), FN_ARG(s->w),
                          FN_ARG(s->kh), FN_ARG(s->kw), FN_ARG(s->stride), FN_ARG(s->pad),
                          FN_ARG(oh), FN_ARG(ow), FN_ARG(x), FN_ARG(col), (size_t)0));
    return fn_launch1(dev, k, (size_t)rows * p);
}

/* Zero-pads (N*C, h, w) planes by lead_h rows and lead_w columns before and
 * enough after to give (hp, wp), inserting up-1 zeros between inputs (a
 * negative lead crops), into scratch `slot`.
 * The 32 floats of slack let stride-2 vector loads read past the last row. */
fn_status fn_conv_pad_planes(fn_device *dev, int slot, cl_mem in, int planes, int h, int w, int hp,
                             int wp, int lead_h, int lead_w, int up, cl_mem *out)
{
    FN_TRY(fn_scratch(dev, slot, ((size_t)planes * hp * wp + 32) * sizeof(float), out));
    cl_kernel k;
    /* CPUs: a plane per work-item; GPUs: a float per work-item. */
    FN_TRY(fn_kernel_get(dev, "conv", dev->long_runs ? "conv_pad" : "conv_pad_items", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(h), FN_ARG(w), FN_ARG(hp), FN_ARG(wp),
                          FN_ARG(lead_h), FN_ARG(lead_w), FN_ARG(up), FN_ARG(in), FN_ARG(*out),
                          (size_t)0));
    if (!dev->long_runs) return fn_launch1(dev, k, (size_t)planes * hp * wp);
    size_t global[2] = {1, (size_t)planes}, local[2] = {1, 1};
    return fn_launch(dev, k, 2, global, local);
}

/* The padded size an OH x OW output at stride s with a k x k window reads:
 * (O-1)*s + k, at least the input with its padding. */
int fn_conv_padded(int in, int pad, int out, int k, int stride)
{
    int need = (out - 1) * stride + k, have = in + 2 * pad;
    return need > have ? need : have;
}

/* ---- Grouped: im2col + one GEMM ------------------------------------------
 * Per group g, with cg = C/groups, ocg = OC/groups, kg = cg*KH*KW, P = N*OH*OW:
 *   W_g   rows g*ocg.. of w (OC, kg)           offset g*ocg*kg
 *   col_g rows g*kg..  of col (C*KH*KW, P)     offset g*kg*P
 *   Y_g   rows g*ocg.. of yt (OC, P)           offset g*ocg*P
 * so groups are one strided batch; groups == 1 is a plain SGEMM. */
typedef struct {
    size_t m, n, k;
    float alpha;
    cl_mem a;
    size_t a_ld, a_stride;
    cl_mem b;
    size_t b_ld, b_stride;
    float beta;
    cl_mem c;
    size_t c_ld, c_stride;
    CLBlastTranspose ta, tb;
} gemm_args;

static fn_status gemm(fn_device *dev, const gemm_args *g, int groups)
{
    cl_event *ev = fn_prof_begin(dev, 1);
    if (groups == 1) {
        FN_BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, g->alpha,
                                    g->a, 0, g->a_ld, g->b, 0, g->b_ld, g->beta, g->c, 0, g->c_ld,
                                    &dev->queue, ev),
                       "CLBlastSgemm");
    } else {
        FN_BLAST_CHECK(CLBlastSgemmStridedBatched(
                           CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, 0,
                           g->a_ld, g->a_stride, g->b, 0, g->b_ld, g->b_stride, g->beta, g->c, 0,
                           g->c_ld, g->c_stride, (size_t)groups, &dev->queue, ev),
                       "CLBlastSgemmStridedBatched");
    }
    char name[48];
    snprintf(name, sizeof name, "CLBlast conv %s%c%c", groups == 1 ? "Sgemm" : "SgemmBatched",
             g->ta == CLBlastTransposeNo ? 'N' : 'T', g->tb == CLBlastTransposeNo ? 'N' : 'T');
    fn_prof_end(dev, ev, name);
    return FN_OK;
}

fn_status fn_conv_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                          const fn_conv_shape *s)
{
    return fn_conv_forward_fused(dev, y, x, w, b, NULL, 0, s);
}

/* Every algorithm applies the epilogue in its store (kernels/epilogue.clh). */
fn_status fn_conv_forward_fused(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, cl_mem ab,
                                int act, const fn_conv_shape *s)
{
    FN_TRY(check_shape(s));
    if ((ab && b) || act < 0 || act > 2)
        return fn_error(FN_ERR_ARG, "conv: a folded batch norm takes the bias; act %d", act);
    cl_mem e = ab ? ab : b;
    int epi = fn_conv_epi(b, ab, act);
    if (is_depthwise(s)) return fn_conv_depthwise_forward(dev, y, x, w, e, epi, s);
    if (fn_conv_winograd_applies(dev, s))
        return fn_conv_winograd_forward(dev, y, x, w, e, epi, s);
    if (fn_conv_pointwise_applies(dev, s))
        return fn_conv_pointwise_forward(dev, y, x, w, e, epi, s);
    if (s->groups == 1 && fn_use_own_gemm(dev))
        return fn_conv_implicit_forward(dev, y, x, w, e, epi, s);

    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, p = s->n * q;
    size_t kg = (size_t)(s->c / s->groups) * s->kh * s->kw, ocg = (size_t)(s->oc / s->groups);
    cl_mem col, yt;
    FN_TRY(fn_scratch(dev, 0, (size_t)s->c * s->kh * s->kw * p * sizeof(float), &col));
    FN_TRY(fn_scratch(dev, 1, (size_t)s->oc * p * sizeof(float), &yt));
    FN_TRY(im2col(dev, col, x, s));

    /* yt_g (ocg, P) = W_g (ocg, kg) . col_g (kg, P) */
    gemm_args g = {.m = ocg,
                   .n = (size_t)p,
                   .k = kg,
                   .alpha = 1.0f,
                   .a = w,
                   .a_ld = kg,
                   .a_stride = ocg * kg,
                   .b = col,
                   .b_ld = (size_t)p,
                   .b_stride = kg * p,
                   .beta = 0.0f,
                   .c = yt,
                   .c_ld = (size_t)p,
                   .c_stride = ocg * p,
                   .ta = CLBlastTransposeNo,
                   .tb = CLBlastTransposeNo};
    FN_TRY(gemm(dev, &g, s->groups));

    cl_mem bb = e ? e : yt; /* never read when epi reads nothing */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_to_nchw", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->oc), FN_ARG(q), FN_ARG(epi), FN_ARG(yt),
                          FN_ARG(bb), FN_ARG(y), (size_t)0));
    return fn_launch1(dev, k, (size_t)s->oc * p);
}

fn_status fn_conv_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                           cl_mem w, const fn_conv_shape *s)
{
    FN_TRY(check_shape(s));
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, p = s->n * q;
    if (db) FN_TRY(bias_grad(dev, db, dy, s->n, s->oc, q));
    if (is_depthwise(s)) return fn_conv_depthwise_backward(dev, dx, dw, dy, x, w, s);
    if (!dx && !dw) return FN_OK;
    if (fn_conv_winograd_applies(dev, s)) {
        if (dw) FN_TRY(fn_conv_winograd_backward_filter(dev, dw, dy, x, s));
        return dx ? fn_conv_winograd_backward_data(dev, dx, dy, w, s) : FN_OK;
    }
    if (s->groups == 1 && fn_use_own_gemm(dev))
        return fn_conv_implicit_backward(dev, dx, dw, dy, x, w, s);

    size_t kg = (size_t)(s->c / s->groups) * s->kh * s->kw, ocg = (size_t)(s->oc / s->groups);
    cl_mem col, dyt;
    FN_TRY(fn_scratch(dev, 0, (size_t)s->c * s->kh * s->kw * p * sizeof(float), &col));
    FN_TRY(fn_scratch(dev, 1, (size_t)s->oc * p * sizeof(float), &dyt));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_from_nchw", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->oc), FN_ARG(q), FN_ARG(dy), FN_ARG(dyt),
                          (size_t)0));
    FN_TRY(fn_launch1(dev, k, (size_t)s->oc * p));

    if (dw) {
        /* dW_g (ocg, kg) += dY_g (ocg, P) . col_g^T (P, kg) */
        FN_TRY(im2col(dev, col, x, s));
        gemm_args g = {.m = ocg,
                       .n = kg,
                       .k = (size_t)p,
                       .alpha = 1.0f,
                       .a = dyt,
                       .a_ld = (size_t)p,
                       .a_stride = ocg * p,
                       .b = col,
                       .b_ld = (size_t)p,
                       .b_stride = kg * p,
                       .beta = 1.0f,
                       .c = dw,
                       .c_ld = kg,
                       .c_stride = ocg * kg,
                       .ta = CLBlastTransposeNo,
                       .tb = CLBlastTransposeYes};
        FN_TRY(gemm(dev, &g, s->groups));
    }
    if (dx) {
        /* dcol_g (kg, P) = W_g^T (kg, ocg) . dY_g (ocg, P); the queue is in
         * order, so this may overwrite col once the dW product has read it. */
        gemm_args g = {.m = kg,
                       .n = (size_t)p,
                       .k = ocg,
                       .alpha = 1.0f,
                       .a = w,
                       .a_ld = kg,
                       .a_stride = ocg * kg,
                       .b = dyt,
                       .b_ld = (size_t)p,
                       .b_stride = ocg * p,
                       .beta = 0.0f,
                       .c = col,
                       .c_ld = (size_t)p,
                       .c_stride = kg * p,
                       .ta = CLBlastTransposeYes,
                       .tb = CLBlastTransposeNo};
        FN_TRY(gemm(dev, &g, s->groups));
        FN_TRY(fn_kernel_get(dev, "conv", "conv_col2im", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->c), FN_ARG(s->h), FN_ARG(s->w),
                              FN_ARG(s->kh), FN_ARG(s->kw), FN_ARG(s->stride), FN_ARG(s->pad),
                              FN_ARG(oh), FN_ARG(ow), FN_ARG(col), FN_ARG(dx), (size_t)0));
        FN_TRY(fn_launch1(dev, k, (size_t)s->n * s->c * s->h * s->w));
    }
    return FN_OK;
}
