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
 * m[n*sn + row*s_row + r*s_col] with col = n*q + r, so NCHW tensors, their
 * transposes and plain matrices all read and write in place.
 *
 * MR is a constant of each kernel (_mr16, _mr8, _mr4): the tile function is
 * forced inline and its loops over MR fully unrolled, so the accumulators
 * live in registers. */

#define NR 16

/* Address of element (row, col) of a view. */
inline size_t view_at(const int row, const int col, const int q, const int sn, const int s_row,
                      const int s_col)
{
    const int n = col / q, r = col - n * q;
    return (size_t)n * sn + (size_t)row * s_row + (size_t)r * s_col;
}

/* Ap (panels of MR rows) from A (M, K); launched over (MR, K, panels). */
__kernel void gemm_pack_a(const int M, const int K, const int MR, __global const float *a,
                          const int q, const int sn, const int s_row, const int s_col,
                          __global float *ap)
{
    const int r = get_global_id(0), k = get_global_id(1), t = get_global_id(2);
    const int i = t * MR + r;
    if (r >= MR || k >= K || i >= (M + MR - 1) / MR * MR)
        return;
    ap[((size_t)t * K + k) * MR + r] = i < M ? a[view_at(i, k, q, sn, s_row, s_col)] : 0.0f;
}

/* Bp (panels of 16 columns) from B (K, N); launched over (16, K, panels). */
__kernel void gemm_pack_b(const int K, const int N, __global const float *b, const int q,
                          const int sn, const int s_row, const int s_col, __global float *bp)
{
    const int l = get_global_id(0), k = get_global_id(1), t = get_global_id(2);
    const int j = t * NR + l;
    if (l >= NR || k >= K || t >= (N + NR - 1) / NR)
        return;
    bp[((size_t)t * K + k) * NR + l] = j < N ? b[view_at(k, j, q, sn, s_row, s_col)] : 0.0f;
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
 * slice s writes C + c_off + s*c_ss. */
static __attribute__((always_inline)) inline void
gemm_tile(const int MR, const int M, const int N, const int K, const int kchunk,
          __global const float *Ap, __global const float *Bp, __global float *C, const int c_off,
          const int q, const int sn, const int s_row, const int s_col, const int c_ss,
          __global const float *bias, const int has_bias, const int accumulate)
{
    const int ti = get_global_id(0), tj = get_global_id(1), s = get_global_id(2);
    const int i0 = ti * MR, j0 = tj * NR, k0 = s * kchunk, k1 = min(K, k0 + kchunk);
    if (i0 >= M || j0 >= N || k0 >= K)
        return;
    float16 acc[16];
#pragma unroll
    for (int r = 0; r < MR; r++)
        acc[r] = (float16)0.0f;
    __global const float *a = Ap + ((size_t)ti * K + k0) * MR;
    __global const float *b = Bp + ((size_t)tj * K + k0) * NR;
    for (int k = k0; k < k1; k++) {
        const float16 bv = vload16(0, b);
#pragma unroll
        for (int r = 0; r < MR; r++)
            acc[r] = fma((float16)a[r], bv, acc[r]);
        a += MR;
        b += NR;
    }
    __global float *c = C + c_off + (size_t)s * c_ss;
    const int lanes = min(NR, N - j0);
#pragma unroll
    for (int r = 0; r < MR; r++)
        if (i0 + r < M)
            store_row(has_bias ? acc[r] + bias[i0 + r] : acc[r], c, i0 + r, j0, lanes, q, sn,
                      s_row, s_col, accumulate);
}

#define GEMM_ARGS                                                                                  \
    const int M, const int N, const int K, const int kchunk, __global const float *Ap,            \
        __global const float *Bp, __global float *C, const int c_off, const int q, const int sn,   \
        const int s_row, const int s_col, const int c_ss, __global const float *bias,             \
        const int has_bias, const int accumulate
#define GEMM_PASS                                                                                  \
    M, N, K, kchunk, Ap, Bp, C, c_off, q, sn, s_row, s_col, c_ss, bias, has_bias, accumulate

__kernel void gemm_mr16(GEMM_ARGS)
{
    gemm_tile(16, GEMM_PASS);
}
__kernel void gemm_mr8(GEMM_ARGS)
{
    gemm_tile(8, GEMM_PASS);
}
__kernel void gemm_mr4(GEMM_ARGS)
{
    gemm_tile(4, GEMM_PASS);
}

/* C (view) [+]= the sum of S slices part + part_off (S, M, N) [+ bias per
 * row]; launched over (N, M). */
__kernel void gemm_sum_slices(const int M, const int N, const int S, __global const float *part,
                              const int part_off, __global float *C, const int q, const int sn, const int s_row,
                              const int s_col, __global const float *bias, const int has_bias,
                              const int accumulate)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (j >= N || i >= M)
        return;
    const size_t plane = (size_t)M * N;
    __global const float *p = part + part_off + (size_t)i * N + j;
    float acc = has_bias ? bias[i] : 0.0f;
    for (int s = 0; s < S; s++)
        acc += p[s * plane];
    __global float *c = C + view_at(i, j, q, sn, s_row, s_col);
    *c = accumulate ? *c + acc : acc;
}
