/* 2-D convolution on the device, three ways.
 *
 * GPUs (CLBlast): grouped convolutions (groups == 1 included) run as ONE GEMM
 * per layer over the whole batch: im2col builds col (C*KH*KW, N*OH*OW),
 * CLBlast multiplies W (OC, C/g*KH*KW) by it into (OC, N*OH*OW), and a small
 * kernel permutes that to (N, OC, OH, OW) adding the bias. With groups > 1
 * the per-group products are one strided-batched GEMM (rows of col, W and
 * the output are grouped contiguously, so each group is a fixed stride on).
 * Scratch: slot 0 col, in backward first col then dcol; slot 1 the output
 * or its gradient in GEMM layout.
 *
 * CPUs (fn_use_own_gemm), groups == 1: our own GEMM kernels on layouts that
 * need no permutes, or the implicit GEMM that reads col straight from a
 * padded input; see "Our own GEMM kernels" below for the choice and slots.
 *
 * Depthwise convolutions (groups == C == OC), everywhere: direct kernels on
 * padded planes (slots 0 and 1, see "Depthwise").
 *
 * CLBlast is called from the caller's thread on the device queue only,
 * never concurrently. Scratch contents never survive a call. */
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
    size_t global = (size_t)planes, local = 1;
    FN_TRY(fn_launch(dev, k, 1, &global, &local));
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

/* ---- Depthwise: direct kernels -------------------------------------------
 * Valid correlations of padded planes (kernels/conv.cl), 16 outputs per
 * work-item. Scratch: slot 1 the padded plane, slot 0 the weight gradient's
 * per-plane sums (N*C*KH*KW floats). */

/* Zero-pads (N*C, h, w) planes by lead_h rows and lead_w columns before and
 * enough after to give (hp, wp), inserting up-1 zeros between inputs (a
 * negative lead crops); into slot 1.
 * The 32 floats of slack let stride-2 vector loads read past the last row. */
static fn_status pad_planes_in(fn_device *dev, int slot, cl_mem in, int planes, int h, int w,
                               int hp, int wp, int lead_h, int lead_w, int up, cl_mem *out)
{
    FN_TRY(fn_scratch(dev, slot, ((size_t)planes * hp * wp + 32) * sizeof(float), out));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_pad", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(h), FN_ARG(w), FN_ARG(hp), FN_ARG(wp),
                          FN_ARG(lead_h), FN_ARG(lead_w), FN_ARG(up), FN_ARG(in), FN_ARG(*out),
                          (size_t)0));
    /* CPUs: a plane per work-item; GPUs: a row. */
    size_t global[2] = {dev->long_runs ? 1 : (size_t)hp, (size_t)planes}, local[2] = {1, 1};
    return fn_launch(dev, k, 2, global, local);
}

static fn_status pad_planes(fn_device *dev, cl_mem in, int planes, int h, int w, int hp, int wp,
                            int lead_h, int lead_w, int up, cl_mem *out)
{
    return pad_planes_in(dev, 1, in, planes, h, w, hp, wp, lead_h, lead_w, up, out);
}

/* The padded size an OH x OW output at stride s with a k x k window reads:
 * (O-1)*s + k, at least the input with its padding. */
static int padded(int in, int pad, int out, int k, int stride)
{
    int need = (out - 1) * stride + k, have = in + 2 * pad;
    return need > have ? need : have;
}

static fn_status correlate(fn_device *dev, cl_mem out, cl_mem in, int hp, int wp, cl_mem w,
                           cl_mem b, const fn_conv_shape *s, int stride, int oh, int ow, int flip)
{
    int planes = s->n * s->c, has_bias = b != NULL;
    cl_mem bb = b ? b : w; /* never read when has_bias is 0 */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_dw_correlate", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(s->c), FN_ARG(hp), FN_ARG(wp), FN_ARG(s->kh),
                          FN_ARG(s->kw), FN_ARG(stride), FN_ARG(oh), FN_ARG(ow), FN_ARG(flip),
                          FN_ARG(has_bias), FN_ARG(in), FN_ARG(w), FN_ARG(bb), FN_ARG(out),
                          (size_t)0));
    size_t global[2] = {((size_t)oh * ow + 15) / 16, (size_t)planes}, local[2] = {1, 1};
    return fn_launch(dev, k, 2, global, local);
}

/* A padded (h, w) input plane read by correlate, as pad_planes would write it. */
typedef struct {
    cl_mem in;
    int h, w, hp, wp, lead_h, lead_w, up;
} padded_input;

/* Bytes of local memory a whole padded plane takes (with the slack that
 * stride-2 vector loads read past the end), or 0 when the device runs
 * planes as separate passes (not a CPU, or too little local memory). */
static size_t plane_local(const fn_device *dev, const padded_input *p)
{
    size_t bytes = ((size_t)p->hp * p->wp + 32) * sizeof(float);
    if (!dev->long_runs || bytes > dev->info.local_mem / 2) return 0;
    return bytes;
}

/* out = valid correlation of the padded input with w (flipped: rotated by
 * 180 degrees) at the given stride, plus bias: one plane per work-item in
 * local memory on CPUs, else a padding pass and one segment per item. */
static fn_status dw_apply(fn_device *dev, cl_mem out, const padded_input *p, cl_mem w, cl_mem b,
                          const fn_conv_shape *s, int stride, int oh, int ow, int flip)
{
    int planes = s->n * s->c;
    size_t lbytes = plane_local(dev, p);
    if (!lbytes) {
        cl_mem pp;
        FN_TRY(pad_planes(dev, p->in, planes, p->h, p->w, p->hp, p->wp, p->lead_h, p->lead_w, p->up,
                          &pp));
        return correlate(dev, out, pp, p->hp, p->wp, w, b, s, stride, oh, ow, flip);
    }
    int has_bias = b != NULL;
    cl_mem bb = b ? b : w; /* never read when has_bias is 0 */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_dw_plane", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(s->c), FN_ARG(p->h), FN_ARG(p->w),
                          FN_ARG(p->hp), FN_ARG(p->wp), FN_ARG(p->lead_h), FN_ARG(p->lead_w),
                          FN_ARG(p->up), FN_ARG(s->kh), FN_ARG(s->kw), FN_ARG(stride), FN_ARG(oh),
                          FN_ARG(ow), FN_ARG(flip), FN_ARG(has_bias), FN_ARG(p->in), FN_ARG(w),
                          FN_ARG(bb), FN_ARG(out), (size_t)0));
    FN_CL(clSetKernelArg(k, 20, lbytes, NULL));
    size_t global = (size_t)planes, local = 1;
    return fn_launch(dev, k, 1, &global, &local);
}

static fn_status dw_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                            const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    padded_input p = {x,
                      s->h,
                      s->w,
                      padded(s->h, s->pad, oh, s->kh, s->stride),
                      padded(s->w, s->pad, ow, s->kw, s->stride),
                      s->pad,
                      s->pad,
                      1};
    return dw_apply(dev, y, &p, w, b, s, s->stride, oh, ow, 0);
}

static fn_status dw_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x, cl_mem w,
                             const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), taps = s->kh * s->kw, planes = s->n * s->c;
    cl_kernel k;
    if (dw) {
        padded_input p = {x,
                          s->h,
                          s->w,
                          padded(s->h, s->pad, oh, s->kh, s->stride),
                          padded(s->w, s->pad, ow, s->kw, s->stride),
                          s->pad,
                          s->pad,
                          1};
        cl_mem part;
        FN_TRY(fn_scratch(dev, 0, (size_t)planes * taps * sizeof(float), &part));
        size_t lbytes = plane_local(dev, &p);
        if (lbytes) {
            FN_TRY(fn_kernel_get(dev, "conv", "conv_dw_plane_dw", &k));
            FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(s->h), FN_ARG(s->w), FN_ARG(p.hp),
                                  FN_ARG(p.wp), FN_ARG(s->pad), FN_ARG(s->kh), FN_ARG(s->kw),
                                  FN_ARG(s->stride), FN_ARG(oh), FN_ARG(ow), FN_ARG(dy), FN_ARG(x),
                                  FN_ARG(part), (size_t)0));
            FN_CL(clSetKernelArg(k, 14, lbytes, NULL));
            size_t global = (size_t)planes, local = 1;
            FN_TRY(fn_launch(dev, k, 1, &global, &local));
        } else {
            cl_mem pp;
            FN_TRY(pad_planes(dev, x, planes, s->h, s->w, p.hp, p.wp, s->pad, s->pad, 1, &pp));
            FN_TRY(fn_kernel_get(dev, "conv", "conv_dw_dw", &k));
            FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(p.hp), FN_ARG(p.wp), FN_ARG(s->kh),
                                  FN_ARG(s->kw), FN_ARG(s->stride), FN_ARG(oh), FN_ARG(ow),
                                  FN_ARG(dy), FN_ARG(pp), FN_ARG(part), (size_t)0));
            size_t global[2] = {(size_t)taps, (size_t)planes}, local[2] = {1, 1};
            FN_TRY(fn_launch(dev, k, 2, global, local));
        }
        FN_TRY(fn_kernel_get(dev, "conv", "conv_dw_dw_sum", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->c), FN_ARG(taps), FN_ARG(part), FN_ARG(dw),
                              (size_t)0));
        FN_TRY(fn_launch1(dev, k, (size_t)s->c * taps));
    }
    if (!dx) return FN_OK;
    /* dx[i] = sum over taps t of w[t] dy[(i + pad - t) / stride]: dy with
     * stride-1 zeros between, padded by K-1-pad, correlated with w rotated.
     * The padded plane covers every tap of every dx pixel. */
    padded_input p = {dy,
                      oh,
                      ow,
                      s->h + s->kh - 1,
                      s->w + s->kw - 1,
                      s->kh - 1 - s->pad,
                      s->kw - 1 - s->pad,
                      s->stride};
    return dw_apply(dev, dx, &p, w, NULL, s, 1, s->h, s->w, 1);
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

/* ---- Our own GEMM kernels (CPU devices, groups == 1) -----------------------
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
        FN_TRY(
            pad_planes_in(dev, 3, x, s->n * s->c, s->h, s->w, ps.h, ps.w, s->pad, s->pad, 1, &x));
    }
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_pack_cols", &k));
    FN_TRY(conv_args(k, &ps));
    FN_CL(clSetKernelArg(k, 10, sizeof x, &x));
    FN_CL(clSetKernelArg(k, 11, sizeof *out, out));
    size_t global[2] = {(size_t)s->c, panels}, local[2] = {1, 1};
    return fn_launch(dev, k, 2, global, local);
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
static fn_status igemm(fn_device *dev, cl_mem y, cl_mem xp, const fn_view *w, cl_mem b, int m,
                       int n, int c, int hp, int wp, int kh, int kw, int stride, int oh, int ow)
{
    int mr = fn_gemm_rows(m), ti = (m + mr - 1) / mr, k = c * kh * kw, p = n * oh * ow;
    cl_mem ap;
    FN_TRY(fn_scratch(dev, 2, (size_t)ti * mr * k * sizeof(float), &ap));
    FN_TRY(fn_gemm_pack_a(dev, m, k, w, ap));
    int has_bias = b != NULL;
    cl_mem bb = b ? b : ap; /* never read when has_bias is 0 */
    char name[24];
    snprintf(name, sizeof name, "conv_igemm_mr%d", mr);
    cl_kernel kern;
    FN_TRY(fn_kernel_get(dev, "conv", name, &kern));
    FN_TRY(fn_kernel_args(kern, FN_ARG(m), FN_ARG(p), FN_ARG(c), FN_ARG(hp), FN_ARG(wp), FN_ARG(kh),
                          FN_ARG(kw), FN_ARG(stride), FN_ARG(oh), FN_ARG(ow), FN_ARG(ap),
                          FN_ARG(xp), FN_ARG(y), FN_ARG(bb), FN_ARG(has_bias), (size_t)0));
    size_t global[2] = {(size_t)ti, ((size_t)p + 15) / 16}, local[2] = {1, 1};
    return fn_launch(dev, kern, 2, global, local);
}

static fn_status own_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                             const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, kk = s->c * s->kh * s->kw;
    fn_view wv = {w, kk, 0, kk, 1, 0};
    int hp = padded(s->h, s->pad, oh, s->kh, s->stride);
    int wp = padded(s->w, s->pad, ow, s->kw, s->stride);
    if (!is_pointwise(s) && use_igemm(s->oc, (size_t)s->n * s->c * hp * wp)) {
        cl_mem xp;
        FN_TRY(pad_planes_in(dev, 3, x, s->n * s->c, s->h, s->w, hp, wp, s->pad, s->pad, 1, &xp));
        return igemm(dev, y, xp, &wv, b, s->oc, s->n, s->c, hp, wp, s->kh, s->kw, s->stride, oh,
                     ow);
    }
    fn_gemm_args g = {.m = s->oc,
                      .n = s->n * q,
                      .k = kk,
                      .a = wv,
                      .b = nchw_view(x, s->c, q),
                      .c = nchw_view(y, s->oc, q),
                      .bias = b};
    if (!is_pointwise(s)) FN_TRY(pack_cols(dev, x, s, &g.b_packed));
    return fn_gemm(dev, &g);
}

static fn_status own_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x, cl_mem w,
                              const fn_conv_shape *s)
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
        FN_TRY(pad_planes_in(dev, 3, dy, s->n * s->oc, oh, ow, hp, wp, s->kh - 1 - s->pad,
                             s->kw - 1 - s->pad, 1, &dyp));
        return igemm(dev, dx, dyp, &wt, NULL, s->c, s->n, s->oc, hp, wp, s->kh, s->kw, 1, s->h,
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
    FN_TRY(fn_kernel_get(dev, "conv", "conv_col2im_img", &k));
    FN_TRY(conv_args(k, s));
    FN_CL(clSetKernelArg(k, 10, sizeof dcol, &dcol));
    FN_CL(clSetKernelArg(k, 11, sizeof dx, &dx));
    size_t global[2] = {(size_t)s->h, (size_t)s->n * s->c}, local[2] = {1, 1};
    return fn_launch(dev, k, 2, global, local);
}

fn_status fn_conv_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                          const fn_conv_shape *s)
{
    FN_TRY(check_shape(s));
    if (is_depthwise(s)) return dw_forward(dev, y, x, w, b, s);
    if (s->groups == 1 && fn_use_own_gemm(dev)) return own_forward(dev, y, x, w, b, s);

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

    int has_bias = b != NULL;
    cl_mem bb = b ? b : yt; /* never read when has_bias is 0 */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv", "conv_to_nchw", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(s->n), FN_ARG(s->oc), FN_ARG(q), FN_ARG(has_bias), FN_ARG(yt),
                          FN_ARG(bb), FN_ARG(y), (size_t)0));
    return fn_launch1(dev, k, (size_t)s->oc * p);
}

fn_status fn_conv_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                           cl_mem w, const fn_conv_shape *s)
{
    FN_TRY(check_shape(s));
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), q = oh * ow, p = s->n * q;
    if (db) FN_TRY(bias_grad(dev, db, dy, s->n, s->oc, q));
    if (is_depthwise(s)) return dw_backward(dev, dx, dw, dy, x, w, s);
    if (!dx && !dw) return FN_OK;
    if (s->groups == 1 && fn_use_own_gemm(dev)) return own_backward(dev, dx, dw, dy, x, w, s);

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
