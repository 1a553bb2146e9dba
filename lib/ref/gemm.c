#include "ref.h"

/* Offset of element (row, col) of a view: col = image n * q + position r. */
static size_t at(fn_ref_view v, int row, int col)
{
    int n = col / v.q, r = col % v.q;
    return (size_t)v.off + (size_t)n * v.sn + (size_t)row * v.s_row + (size_t)r * v.s_col;
}

/* C (M, N) = A (M, K) . B (K, N) [+ bias (M) on every column] [+ C] */
void fn_ref_gemm(int m, int n, int k, const float *a, fn_ref_view av, const float *b,
                 fn_ref_view bv, float *c, fn_ref_view cv, const float *bias, int accumulate)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = bias ? bias[i] : 0.0;
            for (int kk = 0; kk < k; kk++)
                s += (double)a[at(av, i, kk)] * b[at(bv, kk, j)];
            float *out = &c[at(cv, i, j)];
            *out = (float)(accumulate ? *out + s : s);
        }
}
