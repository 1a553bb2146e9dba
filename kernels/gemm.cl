/* Register-blocked matrix products for CPU devices (lib/ops/gemm.c).
 *
 * C (M, N) = A (M, K) . B (K, N) runs on packed copies of A and B, the
 * layout of an optimized BLAS: A in panels of MR rows, Ap[(t*K + k)*MR + r] =
 * A(t*MR + r, k); B in panels of 16 columns, Bp[(t*K + k)*16 + l] =
 * B(k, 16t + l); entries past M or N are zero. A work-item (work-groups of
 * one) owns an MR x 16 tile of C in MR float16 accumulators and walks both
 * panels front to back: per k one float16 of B, MR broadcasts of A, MR fused
 * multiply-adds. On a CPU a float16 is one or two SIMD registers, so this is
 * a BLAS micro-kernel in OpenCL C; sequential panels keep the hardware
 * prefetchers and the TLB happy where the unpacked matrices would stride.
 *
 * Matrices outside the panels are "views" (see ops.h): element (row, col) at
 * m[off + n*sn + row*s_row + r*s_col] with col = n*q + r, so NCHW tensors, their
 * transposes and plain matrices all read and write in place.
 *
 * MR is a constant of each kernel (_mr16, _mr8, _mr6, _mr4; 6 for AVX2, see
 * pick_mr in lib/ops/gemm.c): the tile function is
 * forced inline and its loops over MR fully unrolled, so the accumulators
 * live in registers.
 *
 * On a GPU: our own GEMM kernels are the CPU path (fn_use_own_gemm); on GPUs
 * CLBlast multiplies. Launched with fn_launch_auto: on CPUs single items, on
 * a GPU (tests force this path there) groups of about 64 along dimension 0
 * (row tiles, or columns of panels). gemm_mr*: a work-item owns an MR x 16
 * tile of C for one slice of K; gemm_nt: a 4 x 6 tile for one slice of P;
 * gemm_pack_a/_b: a panel's rows for one chunk of K; gemm_sum_slices: 16
 * columns of one row of C. */

#define NR 16

#include "epilogue.clh"

/* Address of element (row, col) of a view. */
inline size_t view_at(const int row, const int col, const int q, const int sn, const int s_row,
                      const int s_col)
{
    const int n = col / q, r = col - n * q;
    return (size_t)n * sn + (size_t)row * s_row + (size_t)r * s_col;
}

/* Ap (panels of MR rows) from A (M, K); launched over (panels, slices of
 * kchunk columns). Rows past M are zero. */
__kernel void gemm_pack_a(const int M, const int K, const int MR, const int kchunk,
                          __global const float *a, const int q, const int sn, const int s_row,
                          const int s_col, const int off, __global float *ap)
{
    const int t = get_global_id(0), s = get_global_id(1);
    const int i0 = t * MR, k0 = s * kchunk, k1 = min(K, k0 + kchunk);
    if (i0 >= M || k0 >= K)
        return;
    const int rows = min(MR, M - i0);
    __global float *out = ap + ((size_t)t * K + k0) * MR;
    int n = k0 / q, r = k0 - n * q;
    __global const float *rowp = a + off + (size_t)i0 * s_row;
    for (int k = k0; k < k1; k++, out += MR) {
        __global const float *col = rowp + (size_t)n * sn + (size_t)r * s_col;
        for (int j = 0; j < rows; j++)
            out[j] = col[(size_t)j * s_row];
        for (int j = rows; j < MR; j++)
            out[j] = 0.0f;
        if (++r == q) {
            r = 0;
            n++;
        }
    }
}

/* Bp (panels of 16 columns) from B (K, N); launched over (panels, slices of
 * kchunk rows). A panel whose 16 columns are contiguous in B (one image,
 * s_col 1) copies one float16 per row; others gather their columns. */
__kernel void gemm_pack_b(const int K, const int N, const int kchunk, __global const float *b,
                          const int q, const int sn, const int s_row, const int s_col, const int off,
                          __global float *bp)
{
    b += off;
    const int t = get_global_id(0), s = get_global_id(1);
    const int j0 = t * NR, k0 = s * kchunk, k1 = min(K, k0 + kchunk);
    if (j0 >= N || k0 >= K)
        return;
    __global float *out = bp + ((size_t)t * K + k0) * NR;
    const int n0 = j0 / q, r0 = j0 - n0 * q;
    if (s_col == 1 && j0 + NR <= N && r0 + NR <= q) {
        __global const float *in = b + (size_t)n0 * sn + (size_t)k0 * s_row + r0;
        for (int k = k0; k < k1; k++, in += s_row, out += NR)
            vstore16(vload16(0, in), 0, out);
        return;
    }
    size_t cols[NR];
    for (int l = 0; l < NR; l++)
        cols[l] = view_at(0, min(j0 + l, N - 1), q, sn, s_row, s_col);
    float t16[NR];
    for (int k = k0; k < k1; k++, out += NR) {
        const size_t row = (size_t)k * s_row;
        for (int l = 0; l < NR; l++)
            t16[l] = j0 + l < N ? b[cols[l] + row] : 0.0f;
        vstore16(vload16(0, t16), 0, out);
    }
}

/* Stores one row of a tile through a view: v (16 lanes, `lanes` valid) to
 * columns j0.. of row i, adding the old value when accumulate. */
inline void store_row(float16 v, __global float *c, const int i, const int j0, const int lanes,
                      const int q, const int sn, const int s_row, const int s_col,
                      const int accumulate)
{
    const int n0 = j0 / q, r0 = j0 - n0 * q;
    if (s_col == 1 && lanes == NR && r0 + NR <= q) { /* 16 contiguous columns */
        __global float *p = c + (size_t)n0 * sn + (size_t)i * s_row + r0;
        vstore16(accumulate ? v + vload16(0, p) : v, 0, p);
        return;
    }
    float t[NR];
    vstore16(v, 0, t);
    for (int l = 0; l < lanes; l++) {
        __global float *p = c + view_at(i, j0 + l, q, sn, s_row, s_col);
        *p = accumulate ? *p + t[l] : t[l];
    }
}

/* One MR x 16 tile of C over k in [s*kchunk, (s+1)*kchunk), s = get_global_id(2);
 * slice s writes C + c_off + s*c_ss. With a_ld > 0, A is not packed but a
 * plain row-major matrix with rows a_ld floats apart, read in place: MR
 * sequential streams instead of one, and no packing pass, which costs as
 * much as the product when C has few columns (a batch of one image: the
 * weights of every convolution packed for a single use). With b_q > 0, B is
 * not packed but a view (b_q, b_sn, b_srow, s_col 1, b_off) whose images are
 * whole tiles wide (b_q a multiple of 16), read in place: the tile's 16
 * columns of row k are one vector b_srow floats after row k-1's (a 1x1
 * convolution's input in NCHW, which packing would only copy). */
static __attribute__((always_inline)) inline void
gemm_tile(const int MR, const int M, const int N, const int K, const int kchunk,
          __global const float *Ap, __global const float *Bp, __global float *C, const int q,
          const int sn, const int s_row, const int s_col, const int c_off, const int c_ss,
          __global const float *bias, const int epi, const int accumulate, const int a_ld,
          const int b_q, const int b_sn, const int b_srow, const int b_off)
{
    const int ti = get_global_id(0), tj = get_global_id(1), s = get_global_id(2);
    const int i0 = ti * MR, j0 = tj * NR, k0 = s * kchunk, k1 = min(K, k0 + kchunk);
    if (i0 >= M || j0 >= N || k0 >= K)
        return;
    float16 acc[16];
#pragma unroll
    for (int r = 0; r < MR; r++)
        acc[r] = (float16)0.0f;
    __global const float *b = Bp + ((size_t)tj * K + k0) * NR;
    int b_step = NR;
    if (b_q > 0) {
        const int n0 = j0 / b_q;
        b = Bp + b_off + (size_t)n0 * b_sn + (j0 - n0 * b_q) + (size_t)k0 * b_srow;
        b_step = b_srow;
    }
    if (a_ld > 0) {
        __global const float *ar[16]; /* rows past M repeat the last; not stored */
#pragma unroll
        for (int r = 0; r < MR; r++)
            ar[r] = Ap + (size_t)min(i0 + r, M - 1) * a_ld + k0;
        for (int k = 0; k < k1 - k0; k++) {
            const float16 bv = vload16(0, b);
#pragma unroll
            for (int r = 0; r < MR; r++)
                acc[r] = fma((float16)ar[r][k], bv, acc[r]);
            b += b_step;
        }
    } else {
        __global const float *a = Ap + ((size_t)ti * K + k0) * MR;
        for (int k = k0; k < k1; k++) {
            const float16 bv = vload16(0, b);
#pragma unroll
            for (int r = 0; r < MR; r++)
                acc[r] = fma((float16)a[r], bv, acc[r]);
            a += MR;
            b += b_step;
        }
    }
    __global float *c = C + c_off + (size_t)s * c_ss;
    const int lanes = min(NR, N - j0);
#pragma unroll
    for (int r = 0; r < MR; r++)
        if (i0 + r < M)
            store_row(epi16(acc[r], epi, bias, i0 + r, M), c, i0 + r, j0, lanes, q, sn, s_row,
                      s_col, accumulate);
}

#define GEMM_ARGS                                                                                  \
    const int M, const int N, const int K, const int kchunk, __global const float *Ap,            \
        __global const float *Bp, __global float *C, const int q, const int sn, const int s_row,  \
        const int s_col, const int c_off, const int c_ss, __global const float *bias,             \
        const int epi, const int accumulate, const int a_ld, const int b_q, const int b_sn,        \
        const int b_srow, const int b_off
#define GEMM_PASS                                                                                  \
    M, N, K, kchunk, Ap, Bp, C, q, sn, s_row, s_col, c_off, c_ss, bias, epi, accumulate,           \
        a_ld, b_q, b_sn, b_srow, b_off

__kernel void gemm_mr16(GEMM_ARGS)
{
    gemm_tile(16, GEMM_PASS);
}
__kernel void gemm_mr6(GEMM_ARGS)
{
    gemm_tile(6, GEMM_PASS); /* AVX2 */
}
__kernel void gemm_mr8(GEMM_ARGS)
{
    gemm_tile(8, GEMM_PASS);
}
__kernel void gemm_mr4(GEMM_ARGS)
{
    gemm_tile(4, GEMM_PASS);
}

/* C (view) [+]= the sum over s < S of part[part_off + (i*N + j)*es + s*ss]
 * through the epilogue epi (epilogue.clh; the bias, if any, starts the sum);
 * launched over (ceil(N/16), M), 16 columns per item. */
__kernel void gemm_sum_slices(const int M, const int N, const int S, __global const float *part,
                              const int part_off, const int es, const int ss, __global float *C,
                              const int q, const int sn, const int s_row, const int s_col,
                              const int off, __global const float *bias, const int epi,
                              const int accumulate)
{
    const int j0 = get_global_id(0) * NR, i = get_global_id(1);
    if (j0 >= N || i >= M)
        return;
    const float b = (epi & EPI_BIAS) ? bias[i] : 0.0f;
    for (int j = j0; j < min(N, j0 + NR); j++) {
        __global const float *p = part + part_off + ((size_t)i * N + j) * es;
        float acc = b;
        for (int s = 0; s < S; s++)
            acc += p[(size_t)s * ss];
        acc = epi1(acc, epi & ~EPI_BIAS, bias, i, M);
        __global float *c = C + off + view_at(i, j, q, sn, s_row, s_col);
        *c = accumulate ? *c + acc : acc;
    }
}

/* ---- Products whose reduction runs along the panels --------------------------
 * C (M, N) = sum over p of A(i, p) B(j, p), with A and B both in panels of 16
 * columns (A[(t*M + i)*16 + l] = A(i, 16t + l), the b_packed layout, zero
 * past P): weight gradients, dW = dY . col^T. A work-item owns a 4 x 6 tile
 * of C in 24 float16 accumulators; per panel it loads 4 + 6 float16 for 24
 * fused multiply-adds and sums the lanes at the end. Slice s of S covers
 * panels [s*tchunk, (s+1)*tchunk) and writes C[(i*N + j)*S + s], so each
 * element's slices lie together for gemm_sum_slices; short slices keep the
 * panels that neighbouring tiles share in cache. */
#define TA 4
#define TB 6
__kernel void gemm_nt(const int M, const int N, const int T, const int tchunk,
                      __global const float *A, __global const float *B, __global float *C,
                      const int S)
{
    const int ti = get_global_id(0), tj = get_global_id(1), s = get_global_id(2);
    const int i0 = ti * TA, j0 = tj * TB, t0 = s * tchunk, t1 = min(T, t0 + tchunk);
    if (i0 >= M || j0 >= N || t0 >= T)
        return;
    float16 acc[TA][TB];
    int ia[TA], jb[TB];
#pragma unroll
    for (int a = 0; a < TA; a++) {
        ia[a] = min(i0 + a, M - 1) * NR; /* rows past the end repeat the last; not stored */
#pragma unroll
        for (int b = 0; b < TB; b++)
            acc[a][b] = (float16)0.0f;
    }
#pragma unroll
    for (int b = 0; b < TB; b++)
        jb[b] = min(j0 + b, N - 1) * NR;
    for (int t = t0; t < t1; t++) {
        __global const float *ap = A + (size_t)t * M * NR, *bp = B + (size_t)t * N * NR;
        float16 av[TA];
#pragma unroll
        for (int a = 0; a < TA; a++)
            av[a] = vload16(0, ap + ia[a]);
#pragma unroll
        for (int b = 0; b < TB; b++) {
            const float16 bv = vload16(0, bp + jb[b]);
#pragma unroll
            for (int a = 0; a < TA; a++)
                acc[a][b] = fma(av[a], bv, acc[a][b]);
        }
    }
#pragma unroll
    for (int a = 0; a < TA; a++)
#pragma unroll
        for (int b = 0; b < TB; b++)
            if (i0 + a < M && j0 + b < N) {
                const float8 h = acc[a][b].lo + acc[a][b].hi;
                const float4 f = h.lo + h.hi;
                const float2 w = f.lo + f.hi;
                C[((size_t)(i0 + a) * N + j0 + b) * S + s] = w.x + w.y;
            }
}

/* The same product for 8-float SIMD (AVX2: 16 registers of 8 floats): each
 * 16-float panel row is taken as two halves of 8, and a work-item owns a
 * 3 x 4 tile in 12 float8 accumulators, so that with the 3 + 1 loaded
 * vectors everything stays in registers (the 4 x 6 float16 tile above needs
 * 68 such registers there and spills). */
#define TA8 3
#define TB8 4
/* One 3 x 4 tile of gemm_nt8 (below). */
static __attribute__((always_inline)) inline void
nt8_tile(const int M, const int N, const int T, const int tchunk, __global const float *A,
         __global const float *B, __global float *C, const int S, const int ti, const int tj,
         const int s)
{
    const int i0 = ti * TA8, j0 = tj * TB8, t0 = s * tchunk, t1 = min(T, t0 + tchunk);
    if (i0 >= M || j0 >= N || t0 >= T)
        return;
    float8 acc[TA8][TB8];
    int ia[TA8], jb[TB8];
#pragma unroll
    for (int a = 0; a < TA8; a++) {
        ia[a] = min(i0 + a, M - 1) * NR; /* rows past the end repeat the last; not stored */
#pragma unroll
        for (int b = 0; b < TB8; b++)
            acc[a][b] = (float8)0.0f;
    }
#pragma unroll
    for (int b = 0; b < TB8; b++)
        jb[b] = min(j0 + b, N - 1) * NR;
    for (int t = t0; t < t1; t++) {
        __global const float *ap = A + (size_t)t * M * NR, *bp = B + (size_t)t * N * NR;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float8 av[TA8];
#pragma unroll
            for (int a = 0; a < TA8; a++)
                av[a] = vload8(h, ap + ia[a]);
#pragma unroll
            for (int b = 0; b < TB8; b++) {
                const float8 bv = vload8(h, bp + jb[b]);
#pragma unroll
                for (int a = 0; a < TA8; a++)
                    acc[a][b] = fma(av[a], bv, acc[a][b]);
            }
        }
    }
#pragma unroll
    for (int a = 0; a < TA8; a++)
#pragma unroll
        for (int b = 0; b < TB8; b++)
            if (i0 + a < M && j0 + b < N) {
                const float4 f = acc[a][b].lo + acc[a][b].hi;
                const float2 w = f.lo + f.hi;
                C[((size_t)(i0 + a) * N + j0 + b) * S + s] = w.x + w.y;
            }
}

/* jpi column tiles per work-item (lib/ops/gemm.c): short reductions (a
 * Winograd weight gradient of 512 x 512 channels over 256 tiles: 16 panels
 * per tile) leave each item little work beside POCL's cost per work-group. */
__kernel void gemm_nt8(const int M, const int N, const int T, const int tchunk,
                       __global const float *A, __global const float *B, __global float *C,
                       const int S, const int jpi)
{
    const int ti = get_global_id(0), tj = get_global_id(1) * jpi, s = get_global_id(2);
    for (int j = tj; j < tj + jpi; j++)
        nt8_tile(M, N, T, tchunk, A, B, C, S, ti, j, s);
}
