/* 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) (kernels/conv_winograd.cl
 * for the transforms and the layouts), on CPU devices with our own GEMM:
 * 16 products of (Co, Ci) . (Ci, P/4 tiles) instead of one (Co, 9 Ci) .
 * (9 Ci, P): 2.25 times fewer multiplies, and no column matrix (9 floats per
 * output position) but V (4 per position). Used for the forward pass and the
 * input gradient (the same convolution of dY, padded by 2 - pad, with the
 * filters rotated and transposed); the weight gradient stays on
 * conv_implicit's gemm_nt.
 *
 * The batch runs in chunks of images whose V and M fit in about 8 MB each,
 * so what the input transform writes the products read from cache, and
 * every view offset stays an int. Scratch: slot 0 V, slot 1 M, slot 3 U;
 * fn_gemm takes slot 2 and, B being read in place (panels 16 wide, q 16),
 * never slot 3. */
#include <limits.h>

#include "ops.h"

/* Floats of V (16 * tiles * Ci) per chunk; a chunk has at least one image. */
#ifndef CHUNK_FLOATS
#define CHUNK_FLOATS (2 << 20)
#endif


static int tiles(int out)
{
    return (out + 1) / 2;
}

int fn_conv_winograd_applies(const fn_device *dev, const fn_conv_shape *s)
{
    if (!dev->winograd || !fn_use_own_gemm(dev) || s->groups != 1 || s->kh != 3 || s->kw != 3 ||
        s->stride != 1 || s->pad > 2)
        return 0;
    /* Few channels: the 16 products are too thin (a stem's 3 inputs: 3
     * multiply-adds per stored output), the column matrix is small anyway. */
    if (s->c < 16 || s->oc < 16) return 0;
    /* Tiles pad to panels of 16: at a batch of one on 4x4 planes (ResNet-18's
     * last layers) 16 products of 16 columns cost more than one of 9 Ci rows. */
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    double p = (double)s->n * oh * ow, pt = (double)s->n * tiles(oh) * tiles(ow);
    double wino = 16.0 * ((pt + 15) / 16), direct = 9.0 * ((p + 15) / 16);
    return wino < 0.8 * direct;
}

/* out (N, Co, OH, OW) = conv of in (N, Ci, H, W), pad `pad`, with the 3x3
 * filters at w[o*s_o + c*s_c] (rotated when rot), + bias. */
static fn_status winograd(fn_device *dev, cl_mem out, cl_mem in, cl_mem w, int s_o, int s_c,
                          int rot, cl_mem bias, int n, int ci, int h, int wd, int co, int pad)
{
    int oh = h + 2 * pad - 2, ow = wd + 2 * pad - 2, th = tiles(oh), tw = tiles(ow), t = th * tw;
    int wide = ci > co ? ci : co;
    double per_image = 16.0 * t * wide;
    int nb = (int)(CHUNK_FLOATS / per_image);
    if (nb < 1) nb = 1;
    if (nb > n) nb = n;
    double pp_max = ((double)nb * t + 15) / 16 * 16;
    if (16.0 * pp_max * wide > INT_MAX / 2 || (double)co * ci * 16 > INT_MAX / 2)
        return fn_error(FN_ERR_ARG, "conv: %dx%d planes of %d channels too large for Winograd", h,
                        wd, wide);

    cl_mem u, v, m;
    FN_TRY(fn_scratch(dev, 3, (size_t)16 * co * ci * sizeof(float), &u));
    FN_TRY(fn_scratch(dev, 0, (size_t)16 * pp_max * ci * sizeof(float), &v));
    FN_TRY(fn_scratch(dev, 1, (size_t)16 * pp_max * co * sizeof(float), &m));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_weights", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(co), FN_ARG(ci), FN_ARG(s_o), FN_ARG(s_c), FN_ARG(rot),
                          FN_ARG(w), FN_ARG(u), (size_t)0));
    size_t gw[2] = {((size_t)ci + 63) / 64, (size_t)co};
    FN_TRY(fn_launch_auto(dev, k, 2, gw));

    int has_bias = bias != NULL;
    cl_mem bb = bias ? bias : u; /* never read when has_bias is 0 */
    for (int n0 = 0; n0 < n; n0 += nb) {
        int cn = n - n0 < nb ? n - n0 : nb, p = cn * t, pp = (p + 15) / 16 * 16;
        fn_status st = fn_kernel_get(dev, "conv_winograd", "wino_input", &k);
        if (st == FN_OK)
            st = fn_kernel_args(k, FN_ARG(cn), FN_ARG(ci), FN_ARG(h), FN_ARG(wd), FN_ARG(pad),
                                FN_ARG(th), FN_ARG(tw), FN_ARG(pp), FN_ARG(n0), FN_ARG(in),
                                FN_ARG(v), (size_t)0);
        size_t gi[2] = {(size_t)ci, (size_t)pp / 16};
        if (st == FN_OK) st = fn_launch_auto(dev, k, 2, gi);
        for (int xi = 0; xi < 16 && st == FN_OK; xi++) {
            fn_gemm_args g = {.m = co,
                              .n = pp,
                              .k = ci,
                              .a = {u, ci, 0, ci, 1, xi * co * ci},
                              .b = {v, 16, ci * 16, 16, 1, xi * pp * ci},
                              .c = {m, 16, co * 16, 16, 1, xi * pp * co}};
            st = fn_gemm(dev, &g);
        }
        if (st == FN_OK) st = fn_kernel_get(dev, "conv_winograd", "wino_output", &k);
        if (st == FN_OK)
            st = fn_kernel_args(k, FN_ARG(cn), FN_ARG(co), FN_ARG(oh), FN_ARG(ow), FN_ARG(th),
                                FN_ARG(tw), FN_ARG(pp), FN_ARG(n0), FN_ARG(m), FN_ARG(bb),
                                FN_ARG(has_bias), FN_ARG(out), (size_t)0);
        size_t go[2] = {(size_t)co, (size_t)pp / 16};
        if (st == FN_OK) st = fn_launch_auto(dev, k, 2, go);
        FN_TRY(st);
    }
    return FN_OK;
}

fn_status fn_conv_winograd_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                                   const fn_conv_shape *s)
{
    return winograd(dev, y, x, w, s->c * 9, 9, 0, b, s->n, s->c, s->h, s->w, s->oc, s->pad);
}

fn_status fn_conv_winograd_backward_data(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem w,
                                         const fn_conv_shape *s)
{
    /* dx = dY padded by 2 - pad, correlated with W'(c, o) = W(o, c) rotated. */
    return winograd(dev, dx, dy, w, 9, s->c * 9, 1, NULL, s->n, s->oc, fn_conv_out_h(s),
                    fn_conv_out_w(s), s->c, 2 - s->pad);
}
