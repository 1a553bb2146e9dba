/* 2-D convolution on our own GEMM kernels (lib/ops/gemm.c; its own kernels
 * in kernels/conv_implicit.cl), on CPU devices (fn_use_own_gemm), groups == 1.
 * One product per pass over the whole batch, in layouts that need no
 * permutes (views, see ops.h); the column matrix is written straight into
 * the 16-column panels the kernels multiply:
 *   forward   y (OC, N*Q) = W (OC, K) . col (K, N*Q), y viewed in NCHW, bias added
 *   weights   dW (OC, K) += dY (OC, N*Q) . col^T      (fn_gemm_nt, both in panels)
 *   input     dcol (K, N*Q) = W^T (K, OC) . dY, then col2im
 * dY is packed into panels once for both backward products. A 1x1 stride-1
 * unpadded convolution uses x itself and writes dx directly. With few output
 * channels (use_igemm) the forward product, and the input gradient at stride
 * 1 (dY padded, correlated with W rotated), read col from a padded copy
 * instead (conv_igemm).
 * Scratch: slot 0 col in panels, slot 1 dY in panels, slot 3 dcol (N, K, Q)
 * or a padded input, slot 2 packed W and fn_gemm's and fn_gemm_nt's. */
#include <limits.h>

#include "ops.h"

static int is_pointwise(const fn_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pad == 0;
}

/* The (rows, N*Q) matrix of an (N, rows, Q) tensor. */
static fn_view nchw_view(cl_mem m, int rows, int q)
{
    return (fn_view){m, q, rows * q, q, 1, 0};
}

static fn_status conv_args(cl_kernel k, const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    return fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->c), FN_ARG(s->h), FN_ARG(s->w), FN_ARG(s->kh),
                          FN_ARG(s->kw), FN_ARG(s->stride), FN_ARG(s->pad), FN_ARG(oh), FN_ARG(ow),
                          (size_t)0);
}

/* col (K, N*Q) of x in 16-column panels, in scratch slot 0. Layers whose
 * panels cannot all be copied as whole output rows (narrow or strided) first
 * get a zero-padded copy of x with slack after it (slot 3), so that the
 * other copies need no bounds checks. */
static fn_status pack_cols(fn_device *dev, cl_mem x, const fn_conv_shape *s, cl_mem *out)
{
    int q = fn_conv_out_h(s) * fn_conv_out_w(s), kk = s->c * s->kh * s->kw, p = s->n * q;
    size_t panels = ((size_t)p + 15) / 16;
    FN_TRY(fn_scratch(dev, 0, panels * 16 * kk * sizeof(float), out));
    if (is_pointwise(s)) {
        fn_view v = nchw_view(x, s->c, q);
        return fn_gemm_pack_b(dev, kk, p, &v, *out);
    }
    fn_conv_shape ps = *s;
    if (s->stride != 1 || fn_conv_out_w(s) % 16) {
        ps.h = s->h + 2 * s->pad;
        ps.w = s->w + 2 * s->pad;
        ps.pad = 0;
        FN_TRY(fn_conv_pad_planes(dev, 3, x, s->n * s->c, s->h, s->w, ps.h, ps.w, s->pad, s->pad, 1,
                                  &x));
    }
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_implicit", "conv_pack_cols", &k));
    FN_TRY(conv_args(k, &ps));
    FN_CL(clSetKernelArg(k, 10, sizeof x, &x));
    FN_CL(clSetKernelArg(k, 11, sizeof *out, out));
    size_t global[2] = {(size_t)s->c, panels};
    return fn_launch_auto(dev, k, 2, global);
}

/* Few output rows (channels): packing col costs about as much as the
 * product, so the implicit GEMM wins (LeNet: 13000 images/s against 9800).
 * With more, reading packed panels beats the implicit loads by ~10%
 * (ResNet-18's layers, 64 channels and up). */
static int use_igemm(int m, size_t padded_floats)
{
    return m <= 32 && padded_floats < INT_MAX / 2; /* the kernel indexes with int */
}

/* y (M, N*OH*OW) in NCHW = W (M, C*KH*KW) . col of the zero-padded planes xp
 * (N, C, hp, wp): conv_igemm reads col straight from xp. W is packed into
 * scratch slot 2. */
static fn_status igemm(fn_device *dev, cl_mem y, cl_mem xp, const fn_view *w, cl_mem e, int epi,
                       int m, int n, int c, int hp, int wp, int kh, int kw, int stride, int oh,
                       int ow)
{
    int mr = fn_gemm_rows(dev, m), ti = (m + mr - 1) / mr, k = c * kh * kw, p = n * oh * ow;
    cl_mem ap;
    FN_TRY(fn_scratch(dev, 2, (size_t)ti * mr * k * sizeof(float), &ap));
    FN_TRY(fn_gemm_pack_a(dev, m, k, w, ap));
    cl_mem bb = e ? e : ap; /* never read when epi reads nothing */
    char name[24];
    snprintf(name, sizeof name, "conv_igemm_mr%d", mr);
    cl_kernel kern;
    FN_TRY(fn_kernel_get(dev, "conv_implicit", name, &kern));
    FN_TRY(fn_kernel_args(kern, FN_ARG(m), FN_ARG(p), FN_ARG(c), FN_ARG(hp), FN_ARG(wp), FN_ARG(kh),
                          FN_ARG(kw), FN_ARG(stride), FN_ARG(oh), FN_ARG(ow), FN_ARG(ap),
                          FN_ARG(xp), FN_ARG(y), FN_ARG(bb), FN_ARG(epi), (size_t)0));
    size_t global[2] = {(size_t)ti, ((size_t)p + 15) / 16};
    return fn_launch_auto(dev, kern, 2, global);
}

fn_status fn_conv_implicit_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                   const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, kk = s->c * s->kh * s->kw;
    fn_view wv = {w, kk, 0, kk, 1, 0};
    int hp = fn_conv_padded(s->h, s->pad, oh, s->kh, s->stride);
    int wp = fn_conv_padded(s->w, s->pad, ow, s->kw, s->stride);
    if (!is_pointwise(s) && use_igemm(s->oc, (size_t)s->n * s->c * hp * wp)) {
        cl_mem xp;
        FN_TRY(
            fn_conv_pad_planes(dev, 3, x, s->n * s->c, s->h, s->w, hp, wp, s->pad, s->pad, 1, &xp));
        return igemm(dev, y, xp, &wv, e, epi, s->oc, s->n, s->c, hp, wp, s->kh, s->kw, s->stride,
                     oh, ow);
    }
    fn_gemm_args g = {.m = s->oc,
                      .n = s->n * q,
                      .k = kk,
                      .a = wv,
                      .b = nchw_view(x, s->c, q),
                      .c = nchw_view(y, s->oc, q),
                      .bias = e,
                      .epi = epi};
    if (!is_pointwise(s)) FN_TRY(pack_cols(dev, x, s, &g.b_packed));
    return fn_gemm(dev, &g);
}

fn_status fn_conv_implicit_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                    cl_mem w, const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, p = s->n * q;
    int kk = s->c * s->kh * s->kw;
    cl_mem dyp;
    fn_view dyv = nchw_view(dy, s->oc, q);
    FN_TRY(fn_scratch(dev, 1, ((size_t)p + 15) / 16 * 16 * s->oc * sizeof(float), &dyp));
    FN_TRY(fn_gemm_pack_b(dev, s->oc, p, &dyv, dyp));
    if (dw) {
        fn_gemm_nt_args g = {
            .m = s->oc, .n = kk, .p = p, .a = dyp, .c = {dw, kk, 0, kk, 1, 0}, .accumulate = 1};
        FN_TRY(pack_cols(dev, x, s, &g.b));
        FN_TRY(fn_gemm_nt(dev, &g));
    }
    if (!dx) return FN_OK;
    int taps = s->kh * s->kw, hp = s->h + s->kh - 1, wp = s->w + s->kw - 1;
    if (s->stride == 1 && !is_pointwise(s) && use_igemm(s->c, (size_t)s->n * s->oc * hp * wp)) {
        /* dx = dY padded by K-1-pad, correlated with W rotated by 180 degrees
         * and transposed: W'(c, (o, kh, kw)) = W(o, c, KH-1-kh, KW-1-kw). */
        fn_view wt = {w, taps, s->c * taps, taps, -1, taps - 1};
        cl_mem dyp;
        FN_TRY(fn_conv_pad_planes(dev, 3, dy, s->n * s->oc, oh, ow, hp, wp, s->kh - 1 - s->pad,
                                  s->kw - 1 - s->pad, 1, &dyp));
        return igemm(dev, dx, dyp, &wt, NULL, 0, s->c, s->n, s->oc, hp, wp, s->kh, s->kw, 1, s->h,
                     s->w);
    }
    fn_gemm_args g = {.m = kk,
                      .n = p,
                      .k = s->oc,
                      .a = {w, s->oc, 0, 1, kk, 0}, /* W^T: element (r, o) at o*K + r */
                      .b_packed = dyp,
                      .c = nchw_view(dx, s->c, q)};
    if (is_pointwise(s)) return fn_gemm(dev, &g);
    /* dcol 32 floats into its buffer, with slack after: see conv_col2im_img. */
    cl_mem dcol;
    FN_TRY(fn_scratch(dev, 3, ((size_t)s->n * kk * q + 64 + 2 * s->kw) * sizeof(float), &dcol));
    g.c = nchw_view(dcol, kk, q);
    g.c.off = 32;
    FN_TRY(fn_gemm(dev, &g));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_implicit", "conv_col2im_img", &k));
    FN_TRY(conv_args(k, s));
    FN_CL(clSetKernelArg(k, 10, sizeof dcol, &dcol));
    FN_CL(clSetKernelArg(k, 11, sizeof dx, &dx));
    size_t global[2] = {(size_t)s->h, (size_t)s->n * s->c};
    return fn_launch_auto(dev, k, 2, global);
}
