/* 1x1 stride-1 convolutions with few input channels, on CPUs
 * (lib/ops/conv_pointwise.c): y (N, M, Q) = W (M, K) . x (N, K, Q), Q a
 * multiple of 16, K <= KMAX.
 *
 * Why not gemm_mr6 reading x in place: there a work-item owns one 6 x 16
 * tile and reads its 16-column panel of x, K rows Q floats apart, from
 * memory for every 6 output channels. At Q = 1024 (32x32 planes) those rows
 * are 4 KB apart: all of them fall in one set of the 8-way L1 cache and on
 * K different pages, so every row tile fetches the panel again from L2
 * (MobileNetV2's 32x32 1x1 layers ran at 7-15 GFLOP/s, its 8x8 ones, rows
 * 256 B apart, at 30-55). Here a work-item copies its panel once into
 * private memory (contiguous, so it stays in L1) and computes every output
 * channel of those 16 columns from the copy: x is read once per layer.
 *
 * The sums run over k in the same order with the same fma as gemm_tile's
 * (kernels/gemm.cl, one K slice), so the outputs are bit-identical to it. */
#include "epilogue.clh"

#define NR 16
#ifndef KMAX
#define KMAX 128
#endif

/* MR output channels from row i0 for the panel in bp; rows past M are not
 * stored (their weights repeat the last row). */
#define PW_TILE(MR)                                                                                \
    {                                                                                              \
        float16 acc[MR];                                                                           \
        __global const float *ar[MR];                                                              \
        _Pragma("unroll") for (int r = 0; r < MR; r++)                                             \
        {                                                                                          \
            acc[r] = (float16)0.0f;                                                                \
            ar[r] = w + (size_t)min(i0 + r, M - 1) * K;                                            \
        }                                                                                          \
        for (int k = 0; k < K; k++) {                                                              \
            const float16 bv = bp[k];                                                              \
            _Pragma("unroll") for (int r = 0; r < MR; r++) acc[r] = fma((float16)ar[r][k], bv,     \
                                                                         acc[r]);                  \
        }                                                                                          \
        _Pragma("unroll") for (int r = 0; r < MR; r++) if (i0 + r < M)                             \
            vstore16(epi16(acc[r], epi, e, i0 + r, M), 0, yb + (size_t)(i0 + r) * Q);              \
    }

/* global (Q/16 * N): item t owns columns (t % (Q/16)) * 16 .. of image
 * t / (Q/16). */
__kernel void conv_pw_strip(const int M, const int K, const int Q, __global const float *x,
                            __global const float *w, __global float *y, __global const float *e,
                            const int epi)
{
    const int t = get_global_id(0), per = Q / NR;
    const int n = t / per, j0 = (t - n * per) * NR;
    __global const float *xb = x + (size_t)n * K * Q + j0;
    __global float *yb = y + (size_t)n * M * Q + j0;
    float16 bp[KMAX];
    for (int k = 0; k < K; k++)
        bp[k] = vload16(0, xb + (size_t)k * Q);
    int i0 = 0;
    for (; i0 + 6 <= M; i0 += 6)
        PW_TILE(6)
    if (i0 < M) {
        if (M - i0 <= 4)
            PW_TILE(4)
        else
            PW_TILE(6)
    }
}
