/* 1x1 stride-1 convolutions with few input channels on CPU devices
 * (kernels/conv_pointwise.cl): each work-item copies one 16-column panel of
 * x (all C input channels) into private memory once and computes every
 * output channel of it, instead of one 6 x 16 GEMM tile per work-item
 * reading the panel again for every 6 outputs (lib/ops/gemm.c, which the
 * other 1x1 convolutions keep). No scratch. Same sums in the same order as
 * the GEMM tiles (one K slice: K < 128), so the results are bit-identical. */
#include "ops.h"

/* The kernel's private copy of a panel: KMAX float16, 8 KB at 128. */
#define KMAX 128

static int takes(const fn_conv_shape *s)
{
    int q = fn_conv_out_h(s) * fn_conv_out_w(s);
    return s->groups == 1 && s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pad == 0 &&
           q % 16 == 0 && s->c <= KMAX;
}

/* Where it pays, measured on 2 Zen 3 cores (MobileNetV2 x0.5 shapes at
 * batch 64, process CPU time against the tiles): 16 -> 96 at 32x32 0.58-0.70,
 * 8 -> 48 0.75-0.84, 32 -> 192 and 48 -> 288 at 8x8 0.69-0.73, 80 -> 480 at
 * 4x4 0.83; with 16 outputs (the projections) from 0.85 to 1.5 either way,
 * 8 outputs 1.7: few outputs give the copy too little to amortize. And at
 * least 8 work-items per core (a batch of one at 4x4 is one panel, one
 * item; the tiles split it 80 ways). */
#define MIN_OUTPUTS 32
#define MIN_ITEMS 16

int fn_conv_pointwise_applies(const fn_device *dev, const fn_conv_shape *s)
{
    if (!dev->pointwise || !fn_use_own_gemm(dev) || !takes(s) || s->oc < MIN_OUTPUTS) return 0;
    return (double)s->n * s->h * s->w / 16 >= MIN_ITEMS;
}

fn_status fn_conv_pointwise_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                    const fn_conv_shape *s)
{
    if (!takes(s))
        return fn_error(FN_ERR_ARG, "conv_pointwise: needs 1x1 stride 1, 16 | H*W and C <= %d",
                        KMAX);
    int q = s->h * s->w;
    cl_mem bb = e ? e : w; /* never read when epi reads nothing */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_pointwise", "conv_pw_strip", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(s->oc), FN_ARG(s->c), FN_ARG(q), FN_ARG(x), FN_ARG(w),
                          FN_ARG(y), FN_ARG(bb), FN_ARG(epi), (size_t)0));
    size_t global = (size_t)s->n * (q / 16);
    return fn_launch_auto(dev, k, 1, &global);
}
