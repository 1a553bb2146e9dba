/* Matrix products with our own register-blocked kernels (kernels/gemm.cl),
 * used instead of CLBlast on CPU devices, where they run several times
 * faster (POCL on two cores: CLBlast's kernels reach 10-20 GFLOP/s, these
 * about as much as OpenBLAS). GPUs keep CLBlast (fn_use_own_gemm).
 *
 * Every product packs A (unless it reads A in place, direct_a) and B (unless
 * given packed or read in place) into panels, then runs one launch over the
 * tiles of C. When C has too few tiles to keep every
 * core busy, K is split into slices whose partial products are summed by a
 * second kernel.
 * Scratch: slot 2 holds packed A followed by the partial sums, slot 3 packed B. */
#include <limits.h>

#include "ops.h"

#define NR 16

int fn_use_own_gemm(const fn_device *dev)
{
    if (dev->gemm_path) return dev->gemm_path == FN_GEMM_OWN;
    return dev->info.is_cpu && !dev->info.is_gpu;
}

/* Rows per tile: as many as the problem has, up to what the registers hold.
 * An MR x 16 tile keeps MR float16 accumulators, 2*MR SIMD registers of 8
 * floats: with AVX-512's 32 registers of 16 floats MR = 16 fits (16 + the B
 * row + a broadcast), with AVX2's 16 registers of 8 floats MR = 6 (12 + 2 +
 * 1). MR = 16 there spills the accumulators on every k: 60 against 139
 * GFLOP/s for 128 x 4096 x 1152 on 2 Zen 3 cores. */
static int pick_mr(const fn_device *dev, int m)
{
    if (dev->simd_floats < 16) return m > 4 ? 6 : 4;
    return m > 8 ? 16 : m > 4 ? 8 : 4;
}

static fn_status view_args(cl_kernel k, const fn_view *v, int first)
{
    cl_int err = CL_SUCCESS;
    err |= clSetKernelArg(k, (cl_uint)first, sizeof v->q, &v->q);
    err |= clSetKernelArg(k, (cl_uint)first + 1, sizeof v->sn, &v->sn);
    err |= clSetKernelArg(k, (cl_uint)first + 2, sizeof v->s_row, &v->s_row);
    err |= clSetKernelArg(k, (cl_uint)first + 3, sizeof v->s_col, &v->s_col);
    err |= clSetKernelArg(k, (cl_uint)first + 4, sizeof v->off, &v->off);
    return err == CL_SUCCESS ? FN_OK : fn_error(FN_ERR_CL, "gemm: setting view arguments failed");
}

static fn_status check(const fn_gemm_args *g)
{
    const fn_view *v[3] = {&g->a, &g->b, &g->c};
    if (g->m < 1 || g->n < 1 || g->k < 1 || !g->a.mem || !g->c.mem || (!g->b.mem && !g->b_packed))
        return fn_error(FN_ERR_ARG, "gemm: bad sizes m=%d n=%d k=%d", g->m, g->n, g->k);
    for (int i = 0; i < 3; i++)
        if (v[i]->q < 1 && (i != 1 || !g->b_packed))
            return fn_error(FN_ERR_ARG, "gemm: a view needs q >= 1");
    double ap = (double)(g->m + 15) * g->k, bp = (double)(g->n + NR) * g->k;
    if (ap > INT_MAX || bp > INT_MAX || (double)g->m * g->n > INT_MAX)
        return fn_error(FN_ERR_ARG, "gemm: %dx%dx%d is too large", g->m, g->n, g->k);
    return FN_OK;
}

fn_status fn_gemm_pack_b(fn_device *dev, int k, int n, const fn_view *b, cl_mem dst)
{
    if (k < 1 || n < 1 || b->q < 1 || !b->mem || !dst)
        return fn_error(FN_ERR_ARG, "gemm_pack_b: bad sizes k=%d n=%d", k, n);
    int kchunk = 256;
    cl_kernel kern;
    FN_TRY(fn_kernel_get(dev, "gemm", "gemm_pack_b", &kern));
    FN_TRY(fn_kernel_args(kern, FN_ARG(k), FN_ARG(n), FN_ARG(kchunk), FN_ARG(b->mem), (size_t)0));
    FN_TRY(view_args(kern, b, 4));
    FN_CL(clSetKernelArg(kern, 9, sizeof dst, &dst));
    size_t global[2] = {((size_t)n + NR - 1) / NR, ((size_t)k + kchunk - 1) / kchunk};
    return fn_launch_auto(dev, kern, 2, global);
}

/* Adds S slices of partial sums, element (i, j) of slice s at
 * part[off + (i*N + j)*es + s*ss], into the view c (or stores them, unless
 * accumulate), through the epilogue epi (fn_conv_epi: bias per row, ...) if any. */
static fn_status sum_slices(fn_device *dev, int m, int n, int slices, cl_mem part, int off, int es,
                            int ss, const fn_view *c, cl_mem bias, int epi, int accumulate)
{
    cl_mem bb = bias ? bias : part; /* never read when epi reads nothing */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "gemm", "gemm_sum_slices", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(m), FN_ARG(n), FN_ARG(slices), FN_ARG(part), FN_ARG(off),
                          FN_ARG(es), FN_ARG(ss), FN_ARG(c->mem), (size_t)0));
    FN_TRY(view_args(k, c, 8));
    FN_CL(clSetKernelArg(k, 13, sizeof bb, &bb));
    FN_CL(clSetKernelArg(k, 14, sizeof epi, &epi));
    FN_CL(clSetKernelArg(k, 15, sizeof accumulate, &accumulate));
    size_t sg[2] = {((size_t)n + NR - 1) / NR, (size_t)m};
    return fn_launch_auto(dev, k, 2, sg);
}

fn_status fn_gemm_nt(fn_device *dev, const fn_gemm_nt_args *g)
{
    if (g->m < 1 || g->n < 1 || g->p < 1 || !g->a || !g->b || !g->c.mem || g->c.q < 1)
        return fn_error(FN_ERR_ARG, "gemm_nt: bad sizes m=%d n=%d p=%d", g->m, g->n, g->p);
    /* Slices of 64 panels: the panels of A and B that neighbouring tiles share
     * stay in cache (whole-length slices run several times slower). */
    int panels = (g->p + NR - 1) / NR, tchunk = 64;
    int slices = (panels + tchunk - 1) / tchunk;
    while (slices > 256 || (double)slices * g->m * g->n > (1 << 24)) {
        tchunk *= 2;
        slices = (panels + tchunk - 1) / tchunk;
        if (slices == 1) break;
    }
    if ((double)slices * g->m * g->n > INT_MAX / 2)
        return fn_error(FN_ERR_ARG, "gemm_nt: %dx%d is too large", g->m, g->n);
    cl_mem part;
    FN_TRY(fn_scratch(dev, 2, (size_t)slices * g->m * g->n * sizeof(float), &part));
    cl_kernel k;
    int w8 = dev->simd_floats < 16;
    FN_TRY(fn_kernel_get(dev, "gemm", w8 ? "gemm_nt8" : "gemm_nt", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(g->m), FN_ARG(g->n), FN_ARG(panels), FN_ARG(tchunk),
                          FN_ARG(g->a), FN_ARG(g->b), FN_ARG(part), FN_ARG(slices), (size_t)0));
    /* Tiles of 4 x 6, or 3 x 4 for 8-float SIMD (kernels/gemm.cl, TA x TB);
     * gemm_nt8 runs jpi column tiles per item, 8 while that leaves 8 items
     * per core: on the Winograd weight gradients of ResNet-18 (64 to 512
     * channels over 2048 to 256 tiles) 13-25% more GFLOP per CPU second
     * than one (2 Zen 3 cores, 5 rounds each, interleaved). */
    size_t ta = w8 ? 3 : 4, tb = w8 ? 4 : 6;
    size_t ti = ((size_t)g->m + ta - 1) / ta, tj = ((size_t)g->n + tb - 1) / tb;
    size_t want = 8 * (size_t)(dev->info.compute_units ? dev->info.compute_units : 1);
    int jpi = w8 ? 8 : 1;
    while (jpi > 1 && ti * ((tj + jpi - 1) / jpi) * (size_t)slices < want)
        jpi /= 2;
    if (w8) FN_CL(clSetKernelArg(k, 8, sizeof jpi, &jpi));
    size_t global[3] = {ti, (tj + jpi - 1) / jpi, (size_t)slices};
    FN_TRY(fn_launch_auto(dev, k, 3, global));
    return sum_slices(dev, g->m, g->n, slices, part, 0, slices, 1, &g->c, NULL, 0, g->accumulate);
}

int fn_gemm_rows(const fn_device *dev, int m)
{
    return pick_mr(dev, m);
}

fn_status fn_gemm_pack_a(fn_device *dev, int m, int k, const fn_view *a, cl_mem dst)
{
    if (m < 1 || k < 1 || a->q < 1 || !a->mem || !dst)
        return fn_error(FN_ERR_ARG, "gemm_pack_a: bad sizes m=%d k=%d", m, k);
    int mr = pick_mr(dev, m), ti = (m + mr - 1) / mr, pchunk = 256;
    cl_kernel kern;
    FN_TRY(fn_kernel_get(dev, "gemm", "gemm_pack_a", &kern));
    FN_TRY(fn_kernel_args(kern, FN_ARG(m), FN_ARG(k), FN_ARG(mr), FN_ARG(pchunk), FN_ARG(a->mem),
                          (size_t)0));
    FN_TRY(view_args(kern, a, 5));
    FN_CL(clSetKernelArg(kern, 10, sizeof dst, &dst));
    size_t pa[2] = {(size_t)ti, ((size_t)k + pchunk - 1) / pchunk};
    return fn_launch_auto(dev, kern, 2, pa);
}

/* Whether gemm_mr* reads A in place (a_ld): A a plain row-major matrix (no
 * image split along K, at the start of its buffer) and C at most 64 panels
 * wide, where packing A costs a sizeable share of the product (ResNet-18 at
 * batch 1: 71 of 136 ms per forward went to packing the weights; 512 x 16 x
 * 4608 runs 3 to 10 times faster in place). Wider products keep packing,
 * whose single stream suits the long walks over A. */
static int direct_a(const fn_gemm_args *g)
{
    return g->a.s_col == 1 && g->a.q >= g->k && g->a.off == 0 && g->n <= 64 * NR;
}

fn_status fn_gemm(fn_device *dev, const fn_gemm_args *g)
{
    FN_TRY(check(g));
    int mr = pick_mr(dev, g->m), ti = (g->m + mr - 1) / mr, tj = (g->n + NR - 1) / NR;
    size_t tiles = (size_t)ti * tj;

    /* Slices of K when C alone has too few tiles for the cores. */
    size_t want = 8 * (size_t)(dev->info.compute_units ? dev->info.compute_units : 1);
    int slices = 1;
    if (tiles < want && g->k >= 128) {
        size_t s = (want + tiles - 1) / tiles, cap = (size_t)g->k / 64;
        slices = (int)(s < cap ? s : cap);
        if (slices > 64) slices = 64;
        while (slices > 1 && (double)slices * g->m * g->n > INT_MAX / 2)
            slices /= 2;
    }
    int kchunk = (g->k + slices - 1) / slices;
    slices = (g->k + kchunk - 1) / kchunk;

    int a_ld = direct_a(g) ? g->a.s_row : 0;
    size_t ap_len = a_ld ? 0 : (size_t)ti * mr * g->k,
           part_len = slices > 1 ? (size_t)slices * g->m * g->n : 0;
    cl_mem ap, bp = g->b_packed;
    FN_TRY(fn_scratch(dev, 2, (ap_len + part_len + 1) * sizeof(float), &ap));
    cl_kernel k;
    if (!a_ld) FN_TRY(fn_gemm_pack_a(dev, g->m, g->k, &g->a, ap));
    /* B read in place where its images are whole tiles wide (1x1
     * convolutions in NCHW, 16 | H*W): packing would only copy it (32 x
     * 16384 x 96: 1.4 to 4 times faster in place, here). */
    fn_view bv = {0};
    if (!bp && g->b.s_col == 1 && g->b.q % NR == 0 && g->n % NR == 0) {
        bv = g->b;
        bp = g->b.mem;
    }
    if (!bp) {
        FN_TRY(fn_scratch(dev, 3, (size_t)tj * NR * g->k * sizeof(float), &bp));
        FN_TRY(fn_gemm_pack_b(dev, g->k, g->n, &g->b, bp));
    }

    char name[16];
    snprintf(name, sizeof name, "gemm_mr%d", mr);
    FN_TRY(fn_kernel_get(dev, "gemm", name, &k));
    /* The epilogue in the tiles' store, or after the slices are summed. */
    int epi = g->epi ? g->epi : g->bias ? FN_EPI_BIAS : 0, acc = g->accumulate;
    int tile_epi = slices == 1 ? epi : 0;
    cl_mem bias = g->bias ? g->bias : ap; /* never read when epi reads nothing */
    fn_view c = g->c;
    int c_ss = 0;
    if (slices > 1) { /* partial sums: (slices, M, N) row-major after packed A */
        c = (fn_view){ap, g->n, 0, g->n, 1, (int)ap_len};
        c_ss = g->m * g->n;
        acc = 0;
    }
    FN_TRY(fn_kernel_args(k, FN_ARG(g->m), FN_ARG(g->n), FN_ARG(g->k), FN_ARG(kchunk), FN_ARG(ap),
                          FN_ARG(bp), FN_ARG(c.mem), FN_ARG(c.q), FN_ARG(c.sn), FN_ARG(c.s_row),
                          FN_ARG(c.s_col), FN_ARG(c.off), FN_ARG(c_ss), FN_ARG(bias),
                          FN_ARG(tile_epi), FN_ARG(acc), FN_ARG(a_ld), FN_ARG(bv.q), FN_ARG(bv.sn),
                          FN_ARG(bv.s_row), FN_ARG(bv.off), (size_t)0));
    if (a_ld) FN_CL(clSetKernelArg(k, 4, sizeof g->a.mem, &g->a.mem));
    /* Row tiles vary fastest: tiles that share a B panel run together. */
    size_t global[3] = {(size_t)ti, (size_t)tj, (size_t)slices};
    FN_TRY(fn_launch_auto(dev, k, 3, global));
    if (slices == 1) return FN_OK;

    return sum_slices(dev, g->m, g->n, slices, ap, (int)ap_len, 1, c_ss, &g->c, g->bias, epi,
                      g->accumulate);
}
