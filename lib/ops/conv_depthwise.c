/* Depthwise 2-D convolution (groups == C == OC) on every device: direct
 * kernels (kernels/conv_depthwise.cl), where a GEMM would be a batch of
 * 1-row products. Valid correlations of padded planes, 16 outputs per
 * work-item. Scratch: slot 1 the padded plane, slot 0 the weight gradient's
 * per-plane sums (N*C*KH*KW floats). fn_conv_forward/fn_conv_backward
 * (lib/ops/conv.c) check the shape and add the bias gradient. */
#include <stdio.h>
#include <string.h>

#include "ops.h"

static fn_status pad_planes(fn_device *dev, cl_mem in, int planes, int h, int w, int hp, int wp,
                            int lead_h, int lead_w, int up, cl_mem *out)
{
    return fn_conv_pad_planes(dev, 1, in, planes, h, w, hp, wp, lead_h, lead_w, up, out);
}

static fn_status correlate(fn_device *dev, cl_mem out, cl_mem in, int hp, int wp, cl_mem w,
                           cl_mem e, int epi, const fn_conv_shape *s, int stride, int oh, int ow,
                           int flip)
{
    int planes = s->n * s->c;
    cl_mem bb = e ? e : w; /* never read when epi reads nothing */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_depthwise", "conv_dw_correlate", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(s->c), FN_ARG(hp), FN_ARG(wp), FN_ARG(s->kh),
                          FN_ARG(s->kw), FN_ARG(stride), FN_ARG(oh), FN_ARG(ow), FN_ARG(flip),
                          FN_ARG(epi), FN_ARG(in), FN_ARG(w), FN_ARG(bb), FN_ARG(out), (size_t)0));
    size_t global[2] = {((size_t)oh * ow + 15) / 16, (size_t)planes};
    return fn_launch_auto(dev, k, 2, global);
}

/* A padded (h, w) input plane read by correlate, as pad_planes would write it. */
typedef struct {
    cl_mem in;
    int h, w, hp, wp, lead_h, lead_w, up;
} padded_input;

/* x (N*C planes of H x W) as the forward correlation reads it: zero-padded
 * by pad on each side, to the size an oh x ow output at the stride needs.
 * The forward pass and the weight gradient read the same padded input. */
static padded_input input_padding(cl_mem x, const fn_conv_shape *s, int oh, int ow)
{
    return (padded_input){x,
                          s->h,
                          s->w,
                          fn_conv_padded(s->h, s->pad, oh, s->kh, s->stride),
                          fn_conv_padded(s->w, s->pad, ow, s->kw, s->stride),
                          s->pad,
                          s->pad,
                          1};
}

/* Bytes of local memory a whole padded plane takes (with the slack that
 * stride-2 vector loads read past the end), or 0 when the device runs
 * planes as separate passes (not a CPU, or too little local memory). */
static size_t plane_local(const fn_device *dev, const padded_input *p)
{
    size_t bytes = ((size_t)p->hp * p->wp + 32) * sizeof(float);
    if (!dev->long_runs || bytes > dev->info.local_mem / 2) return 0;
    return bytes;
}

/* The 3x3 CPU kernel for this output (conv_dw3_*), or NULL: stride 1 or 2,
 * and 16 outputs are part of one row (OW a multiple of 16) or whole rows
 * (OW 8 or 4, OH a multiple of 16 / OW). */
static const char *dw3_kernel(const fn_conv_shape *s, int stride, int oh, int ow)
{
    if (s->kh != 3 || s->kw != 3 || (stride != 1 && stride != 2)) return NULL;
    int wc = ow % 16 == 0 ? 16 : (ow == 8 || ow == 4) && oh % (16 / ow) == 0 ? ow : 0;
    if (!wc) return NULL;
    static const char *const names[2][3] = {
        {"conv_dw3_s1_w16", "conv_dw3_s1_w8", "conv_dw3_s1_w4"},
        {"conv_dw3_s2_w16", "conv_dw3_s2_w8", "conv_dw3_s2_w4"}};
    return names[stride - 1][wc == 16 ? 0 : wc == 8 ? 1 : 2];
}

/* out = valid correlation of the padded input with w (flipped: rotated by
 * 180 degrees) at the given stride, through the epilogue (e, epi: bias or a
 * folded batch norm, then an activation): one plane per work-item in local
 * memory on CPUs, else a padding pass and one segment per item. */
static fn_status dw_apply(fn_device *dev, cl_mem out, const padded_input *p, cl_mem w, cl_mem e,
                          int epi, const fn_conv_shape *s, int stride, int oh, int ow, int flip)
{
    int planes = s->n * s->c;
    size_t lbytes = plane_local(dev, p);
    if (!lbytes) {
        cl_mem pp;
        FN_TRY(pad_planes(dev, p->in, planes, p->h, p->w, p->hp, p->wp, p->lead_h, p->lead_w, p->up,
                          &pp));
        return correlate(dev, out, pp, p->hp, p->wp, w, e, epi, s, stride, oh, ow, flip);
    }
    cl_mem bb = e ? e : w; /* never read when epi reads nothing */
    cl_kernel k;
    const char *dw3 = dw3_kernel(s, stride, oh, ow);
    if (dw3) {
        int ppi = fn_planes_per_item(dev, planes, oh * ow);
        FN_TRY(fn_kernel_get(dev, "conv_depthwise", dw3, &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(ppi), FN_ARG(s->c), FN_ARG(p->h),
                              FN_ARG(p->w), FN_ARG(p->hp), FN_ARG(p->wp), FN_ARG(p->lead_h),
                              FN_ARG(p->lead_w), FN_ARG(p->up), FN_ARG(oh), FN_ARG(ow),
                              FN_ARG(flip), FN_ARG(epi), FN_ARG(p->in), FN_ARG(w), FN_ARG(bb),
                              FN_ARG(out), (size_t)0));
        FN_CL(clSetKernelArg(k, 18, lbytes, NULL));
        size_t global = ((size_t)planes + ppi - 1) / ppi, local = 1;
        return fn_launch(dev, k, 1, &global, &local);
    }
    FN_TRY(fn_kernel_get(dev, "conv_depthwise", "conv_dw_plane", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(s->c), FN_ARG(p->h), FN_ARG(p->w),
                          FN_ARG(p->hp), FN_ARG(p->wp), FN_ARG(p->lead_h), FN_ARG(p->lead_w),
                          FN_ARG(p->up), FN_ARG(s->kh), FN_ARG(s->kw), FN_ARG(stride), FN_ARG(oh),
                          FN_ARG(ow), FN_ARG(flip), FN_ARG(epi), FN_ARG(p->in), FN_ARG(w),
                          FN_ARG(bb), FN_ARG(out), (size_t)0));
    FN_CL(clSetKernelArg(k, 20, lbytes, NULL));
    size_t global = (size_t)planes, local = 1;
    return fn_launch(dev, k, 1, &global, &local);
}

fn_status fn_conv_depthwise_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                    const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    padded_input p = input_padding(x, s, oh, ow);
    return dw_apply(dev, y, &p, w, e, epi, s, s->stride, oh, ow, 0);
}

fn_status fn_conv_depthwise_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                     cl_mem w, const fn_conv_shape *s)
{
    int oh = fn_conv_out_h(s), ow = fn_conv_out_w(s), taps = s->kh * s->kw, planes = s->n * s->c;
    cl_kernel k;
    if (dw) {
        padded_input p = input_padding(x, s, oh, ow);
        cl_mem part;
        FN_TRY(fn_scratch(dev, 0, (size_t)planes * taps * sizeof(float), &part));
        size_t lbytes = plane_local(dev, &p);
        const char *dw3 = lbytes ? dw3_kernel(s, s->stride, oh, ow) : NULL;
        if (dw3) {
            char name[32];
            snprintf(name, sizeof name, "conv_dw3_dw_%s", dw3 + strlen("conv_dw3_"));
            int ppi = fn_planes_per_item(dev, planes, oh * ow);
            FN_TRY(fn_kernel_get(dev, "conv_depthwise", name, &k));
            FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(ppi), FN_ARG(s->h), FN_ARG(s->w),
                                  FN_ARG(p.hp), FN_ARG(p.wp), FN_ARG(s->pad), FN_ARG(oh),
                                  FN_ARG(ow), FN_ARG(dy), FN_ARG(x), FN_ARG(part), (size_t)0));
            FN_CL(clSetKernelArg(k, 12, lbytes, NULL));
            size_t global = ((size_t)planes + ppi - 1) / ppi, local = 1;
            FN_TRY(fn_launch(dev, k, 1, &global, &local));
        } else if (lbytes) {
            FN_TRY(fn_kernel_get(dev, "conv_depthwise", "conv_dw_plane_dw", &k));
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
            FN_TRY(fn_kernel_get(dev, "conv_depthwise", "conv_dw_dw", &k));
            FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(p.hp), FN_ARG(p.wp), FN_ARG(s->kh),
                                  FN_ARG(s->kw), FN_ARG(s->stride), FN_ARG(oh), FN_ARG(ow),
                                  FN_ARG(dy), FN_ARG(pp), FN_ARG(part), (size_t)0));
            size_t global[2] = {(size_t)taps, (size_t)planes};
            FN_TRY(fn_launch_auto(dev, k, 2, global));
        }
        FN_TRY(fn_kernel_get(dev, "conv_depthwise", "conv_dw_dw_sum", &k));
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
    return dw_apply(dev, dx, &p, w, NULL, 0, s, 1, s->h, s->w, 1);
}
