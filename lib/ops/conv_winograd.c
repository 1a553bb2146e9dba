/* 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) (kernels/conv_winograd.cl
 * for the transforms and the layouts), on CPU devices with our own GEMM:
 * 16 products of (Co, Ci) . (Ci, P/4 tiles) instead of one (Co, 9 Ci) .
 * (9 Ci, P): 2.25 times fewer multiplies, and no column matrix (9 floats per
 * output position) but V (4 per position). Used for the forward pass and the
 * input gradient (the same convolution of dY, padded by 2 - pad, with the
 * filters rotated and transposed), and the weight gradient: 16 products
 * dU_xi = dM_xi . V_xi^T over the tiles (fn_gemm_nt), dM the adjoint of the
 * output transform of dY, then dW += G^T dU G.
 *
 * The batch runs in chunks of images (chunk_images: V at most 16 MB),
 * so what the input transform writes the products read from cache, and
 * every view offset stays an int. Scratch: slot 0 V, slot 1 M (or dM), slot 3 U (or dU);
 * fn_gemm takes slot 2 and, B being read in place (panels 16 wide, q 16),
 * never slot 3. */
#include <limits.h>
#include <math.h>

#include "ops.h"

/* Floats of V (16 * tiles * Ci) per chunk; a chunk has at least one image. */
#ifndef CHUNK_FLOATS
#define CHUNK_FLOATS (4 << 20)
#endif
#ifndef CHUNK_FWD_FLOATS
#define CHUNK_FWD_FLOATS (2 << 20)
#endif
#ifndef CHUNK_TILES_PER_CHANNEL
#define CHUNK_TILES_PER_CHANNEL 8
#endif

/* Output positions (N*OH*OW) below which the direct path runs. */
#define MIN_POSITIONS 1024

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
    /* Few output positions: the filters' traffic (transformed, 16/9 as many,
     * packed for each of the 16 products) outweighs the multiplies saved.
     * At a batch of one (the viewer's CAM) ResNet-18's forward took 73 ms
     * with Winograd on its 32x32 to 8x8 layers against 47 without; with it
     * on the 32x32 layers alone (1024 positions) 43-59, as without. */
    return (double)s->n * fn_conv_out_h(s) * fn_conv_out_w(s) >= MIN_POSITIONS;
}

/* Images per chunk, at least one: for the weight gradient (dw) enough for
 * CHUNK_TILES_PER_CHANNEL tiles per channel of the wider side, for the
 * forward and the input gradient at least CHUNK_FWD_FLOATS of V (16 *
 * tiles * channels) too, both within CHUNK_FLOATS of V. Measured on
 * ResNet-18 small at batch 64 (2 Zen 3 cores, CPU time per layer): a fixed
 * 2M floats gave the 64-channel layers 2048 tiles per chunk, and 512 (V 2
 * MB) ran their weight gradient 10-30% faster (its products then go to
 * gemm_mr); their forward gained nothing from it and launched four times
 * as many products (a quarter more gemm_mr6 time at evaluation, profiled).
 * 256 channels ran 5-15% faster on the whole batch (V 4M floats) than on
 * half; fewer tiles re-read U (16 * Co * Ci floats) once per chunk. */
static int chunk_images(int n, int t, int wide, int dw)
{
    double want = (double)CHUNK_TILES_PER_CHANNEL * wide, cap = CHUNK_FLOATS / (16.0 * t * wide);
    double nb = ceil(want / t), fwd = floor(CHUNK_FWD_FLOATS / (16.0 * t * wide));
    if (!dw && fwd > nb) nb = fwd;
    if (nb > cap) nb = floor(cap);
    return nb < 1 ? 1 : nb > n ? n : (int)nb;
}

/* Floats from one position's panels to the next: at least `len`, rounded
 * to the device's sub-buffer alignment (the weight gradient multiplies
 * sub-buffers, fn_gemm_nt taking no offsets). */
static int xi_stride(fn_device *dev, size_t len)
{
    cl_uint bits = 1024;
    if (clGetDeviceInfo(dev->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) !=
            CL_SUCCESS ||
        bits < 32)
        bits = 1024;
    size_t a = bits / 32;
    return (int)((len + a - 1) / a * a);
}

static fn_status check_size(int h, int wd, int wide, int nb, int t, int ci, int co)
{
    double pp = ((double)nb * t + 15) / 16 * 16;
    if (16.0 * (pp * wide + 4096) > INT_MAX / 2 || (double)co * ci * 16 > INT_MAX / 2)
        return fn_error(FN_ERR_ARG, "conv: %dx%d planes of %d channels too large for Winograd", h,
                        wd, wide);
    return FN_OK;
}

/* One Winograd convolution's tiling of its oh x ow outputs, the images per
 * chunk and the scratch of a chunk: U (slot 3: the 16 transformed filter
 * matrices, Co x Ci), V (slot 0: the transformed input, position xi at
 * xi*vs) and M (slot 1: the 16 products, at xi*ms). The forward, the input
 * gradient and the weight gradient (dw: its own chunk size) all use it. */
typedef struct {
    int th, tw, t, nb, vs, ms;
    cl_mem u, v, m;
} plan;

static fn_status plan_make(fn_device *dev, int n, int ci, int co, int h, int wd, int oh, int ow,
                           int dw, plan *p)
{
    int wide = ci > co ? ci : co;
    p->th = tiles(oh);
    p->tw = tiles(ow);
    p->t = p->th * p->tw;
    p->nb = chunk_images(n, p->t, wide, dw);
    FN_TRY(check_size(h, wd, wide, p->nb, p->t, ci, co));
    int pp_max = (p->nb * p->t + 15) / 16 * 16;
    p->vs = xi_stride(dev, (size_t)pp_max * ci);
    p->ms = xi_stride(dev, (size_t)pp_max * co);
    FN_TRY(fn_scratch(dev, 3, (size_t)16 * co * ci * sizeof(float), &p->u));
    FN_TRY(fn_scratch(dev, 0, (size_t)16 * p->vs * sizeof(float), &p->v));
    return fn_scratch(dev, 1, (size_t)16 * p->ms * sizeof(float), &p->m);
}

/* The chunk of images from n0 (of n): *cn images, the returned number of
 * tile positions rounded up to whole panels of 16. */
static int plan_chunk(const plan *p, int n, int n0, int *cn)
{
    *cn = n - n0 < p->nb ? n - n0 : p->nb;
    return (*cn * p->t + 15) / 16 * 16;
}

/* V (slot 0, position xi at xi*vs) of images n0..n0+cn-1 of in. */
static fn_status input_tf(fn_device *dev, cl_mem v, int vs, cl_mem in, int n0, int cn, int ci,
                          int h, int wd, int pad, int th, int tw, int pp)
{
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_input", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(cn), FN_ARG(ci), FN_ARG(h), FN_ARG(wd), FN_ARG(pad), FN_ARG(th),
                          FN_ARG(tw), FN_ARG(pp), FN_ARG(n0), FN_ARG(in), FN_ARG(v), FN_ARG(vs),
                          FN_ARG(dev->wino_rows), (size_t)0));
    size_t g[2] = {(size_t)ci, (size_t)pp / 16};
    return fn_launch_auto(dev, k, 2, g);
}

/* out (N, Co, OH, OW) = conv of in (N, Ci, H, W), pad `pad`, with the 3x3
 * filters at w[o*s_o + c*s_c] (rotated when rot), through the epilogue
 * (e, epi: kernels/epilogue.clh). */
static fn_status winograd(fn_device *dev, cl_mem out, cl_mem in, cl_mem w, int s_o, int s_c,
                          int rot, cl_mem e, int epi, int n, int ci, int h, int wd, int co, int pad)
{
    int oh = h + 2 * pad - 2, ow = wd + 2 * pad - 2;
    plan p;
    FN_TRY(plan_make(dev, n, ci, co, h, wd, oh, ow, 0, &p));
    cl_mem u = p.u, v = p.v, m = p.m;
    int th = p.th, tw = p.tw, vs = p.vs, ms = p.ms;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_weights", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(co), FN_ARG(ci), FN_ARG(s_o), FN_ARG(s_c), FN_ARG(rot),
                          FN_ARG(w), FN_ARG(u), (size_t)0));
    size_t gw[2] = {((size_t)ci + 63) / 64, (size_t)co};
    FN_TRY(fn_launch_auto(dev, k, 2, gw));

    cl_mem bb = e ? e : u; /* never read when epi reads nothing */
    for (int n0 = 0; n0 < n; n0 += p.nb) {
        int cn, pp = plan_chunk(&p, n, n0, &cn);
        FN_TRY(input_tf(dev, v, vs, in, n0, cn, ci, h, wd, pad, th, tw, pp));
        for (int xi = 0; xi < 16; xi++) {
            fn_gemm_args g = {.m = co,
                              .n = pp,
                              .k = ci,
                              .a = {u, ci, 0, ci, 1, xi * co * ci},
                              .b = {v, 16, ci * 16, 16, 1, xi * vs},
                              .c = {m, 16, co * 16, 16, 1, xi * ms}};
            FN_TRY(fn_gemm(dev, &g));
        }
        FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_output", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(cn), FN_ARG(co), FN_ARG(oh), FN_ARG(ow), FN_ARG(th),
                              FN_ARG(tw), FN_ARG(pp), FN_ARG(n0), FN_ARG(m), FN_ARG(bb),
                              FN_ARG(epi), FN_ARG(out), FN_ARG(ms), (size_t)0));
        size_t go[2] = {(size_t)co, (size_t)pp / 16};
        FN_TRY(fn_launch_auto(dev, k, 2, go));
    }
    return FN_OK;
}

fn_status fn_conv_winograd_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                   const fn_conv_shape *s)
{
    return winograd(dev, y, x, w, s->c * 9, 9, 0, e, epi, s->n, s->c, s->h, s->w, s->oc, s->pad);
}

fn_status fn_conv_winograd_backward_data(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem w,
                                         const fn_conv_shape *s)
{
    /* dx = dY padded by 2 - pad, correlated with W'(c, o) = W(o, c) rotated. */
    return winograd(dev, dx, dy, w, 9, s->c * 9, 1, NULL, 0, s->n, s->oc, fn_conv_out_h(s),
                    fn_conv_out_w(s), s->c, 2 - s->pad);
}

/* A sub-buffer of `len` floats at `off` (aligned by xi_stride). */
static fn_status sub(cl_mem m, size_t off, size_t len, cl_mem *out)
{
    cl_buffer_region r = {off * sizeof(float), len * sizeof(float)};
    cl_int err;
    *out = clCreateSubBuffer(m, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err);
    return *out ? FN_OK : fn_cl_fail(err, "clCreateSubBuffer", __FILE__, __LINE__);
}

/* Whether the weight gradient's products run as gemm_mr* on V transposed
 * (dw_products) rather than as gemm_nt8 on V in place: where the reduction
 * over the chunk's tiles is short next to the channels (ResNet-18's 8x8 and
 * 4x4 layers: 512 tiles for 256 channels, 256 for 512), and 8-float SIMD
 * (the tiles measured). dev->wino_dw (FOCUSNET_WINO_DW): -1 this rule, 0
 * never, 1 always. */
static int dw_by_gemm(const fn_device *dev, int co, int ci, int pp)
{
    if (dev->wino_dw >= 0) return dev->wino_dw;
    return dev->simd_floats < 16 && pp <= 8 * (co < ci ? co : ci);
}

/* dU_xi (+)= dM_xi . V_xi^T for the 16 positions, through fn_gemm: A = dM_xi
 * row-major (Co x pp, as wino_dy wrote it with lda = pp), a sub-buffer that
 * fn_gemm reads in place (no packing: the panels' layout packed cost as
 * much as the transpose), B = V_xi^T packed by wino_vt into slot 4. */
static fn_status dw_products(fn_device *dev, cl_mem du, cl_mem v, int vs, cl_mem m, int ms, int co,
                             int ci, int pp, int accumulate)
{
    cl_mem bt;
    FN_TRY(fn_scratch(dev, 4, (size_t)(ci + 15) / 16 * 16 * pp * sizeof(float), &bt));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_vt", &k));
    size_t g[2] = {((size_t)ci + 15) / 16, (size_t)pp / 16};
    for (int xi = 0; xi < 16; xi++) {
        int off = xi * vs;
        FN_TRY(fn_kernel_args(k, FN_ARG(ci), FN_ARG(pp), FN_ARG(v), FN_ARG(off), FN_ARG(bt),
                              (size_t)0));
        FN_TRY(fn_launch_auto(dev, k, 2, g));
        fn_gemm_args ga = {.m = co,
                           .n = ci,
                           .k = pp,
                           .a = {NULL, pp, 0, pp, 1, 0},
                           .b_packed = bt,
                           .c = {du, ci, 0, ci, 1, xi * co * ci},
                           .accumulate = accumulate};
        FN_TRY(sub(m, (size_t)xi * ms, (size_t)pp * co, &ga.a.mem));
        fn_status st = fn_gemm(dev, &ga);
        clReleaseMemObject(ga.a.mem); /* the queue keeps what it still reads */
        FN_TRY(st);
    }
    return FN_OK;
}

fn_status fn_conv_winograd_backward_filter(fn_device *dev, cl_mem dw, cl_mem dy, cl_mem x,
                                           const fn_conv_shape *s)
{
    int ci = s->c, co = s->oc, oh = fn_conv_out_h(s), ow = fn_conv_out_w(s);
    plan p;
    FN_TRY(plan_make(dev, s->n, ci, co, s->h, s->w, oh, ow, 1, &p));
    cl_mem du = p.u, v = p.v, m = p.m; /* U's slot holds dU here */
    int th = p.th, tw = p.tw, vs = p.vs, ms = p.ms;
    cl_kernel k;
    for (int n0 = 0; n0 < s->n; n0 += p.nb) {
        int cn, pp = plan_chunk(&p, s->n, n0, &cn), by_gemm = dw_by_gemm(dev, co, ci, pp);
        int lda = by_gemm ? pp : 0;
        FN_TRY(input_tf(dev, v, vs, x, n0, cn, ci, s->h, s->w, s->pad, th, tw, pp));
        FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_dy", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(cn), FN_ARG(co), FN_ARG(oh), FN_ARG(ow), FN_ARG(th),
                              FN_ARG(tw), FN_ARG(n0), FN_ARG(dy), FN_ARG(m), FN_ARG(ms),
                              FN_ARG(dev->wino_rows), FN_ARG(lda), (size_t)0));
        size_t gd[2] = {(size_t)co, (size_t)pp / 16};
        FN_TRY(fn_launch_auto(dev, k, 2, gd));
        /* dU_xi (Co, Ci) (+)= dM_xi . V_xi^T: the first chunk overwrites. */
        if (by_gemm) {
            FN_TRY(dw_products(dev, du, v, vs, m, ms, co, ci, pp, n0 > 0));
            continue;
        }
        for (int xi = 0; xi < 16; xi++) {
            fn_gemm_nt_args g = {.m = co,
                                 .n = ci,
                                 .p = pp,
                                 .c = {du, ci, 0, ci, 1, xi * co * ci},
                                 .accumulate = n0 > 0};
            FN_TRY(sub(m, (size_t)xi * ms, (size_t)pp * co, &g.a));
            fn_status st = sub(v, (size_t)xi * vs, (size_t)pp * ci, &g.b);
            if (st == FN_OK) st = fn_gemm_nt(dev, &g);
            clReleaseMemObject(g.a); /* the queue keeps what it still reads */
            if (g.b) clReleaseMemObject(g.b);
            FN_TRY(st);
        }
    }
    FN_TRY(fn_kernel_get(dev, "conv_winograd", "wino_dw", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(co), FN_ARG(ci), FN_ARG(du), FN_ARG(dw), (size_t)0));
    size_t gw[2] = {((size_t)ci + 63) / 64, (size_t)co};
    return fn_launch_auto(dev, k, 2, gw);
}
