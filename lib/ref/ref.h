/* Plain-C twins of the device operations, written for reading: loops spelled
 * out, shapes in comments, double accumulators where it helps. Tests check
 * every kernel against these, and these against finite differences.
 * Same argument order and gradient rule as lib/ops/ops.h (parameter
 * gradients accumulate, input gradients overwrite). */
#ifndef FN_REF_H
#define FN_REF_H

#include "../ops/ops.h"

void fn_ref_axpy(int n, float alpha, const float *x, float *y);
void fn_ref_scale(int n, float alpha, float *x);

/* fn_gemm (ops.h) on host arrays: C (M, N) = A (M, K) . B (K, N) [+ bias per
 * row] [+ C], each matrix a view (element (row, n*q + r) at
 * off + n*sn + row*s_row + r*s_col), accumulated in double. */
typedef struct {
    int q, sn, s_row, s_col;
    int off; /* floats before element (0, 0) */
} fn_ref_view;
void fn_ref_gemm(int m, int n, int k, const float *a, fn_ref_view av, const float *b,
                 fn_ref_view bv, float *c, fn_ref_view cv, const float *bias, int accumulate);

void fn_ref_conv_forward(float *y, const float *x, const float *w, const float *b,
                         const fn_conv_shape *s);
void fn_ref_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, const fn_conv_shape *s);

void fn_ref_batchnorm_forward_train(float *y, float *save_mean, float *save_invstd, const float *x,
                                    const float *gamma, const float *beta, float *running_mean,
                                    float *running_var, int n, int c, int hw, float momentum,
                                    float eps);
void fn_ref_batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int n,
                                   int c, int hw, float eps);
void fn_ref_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *save_mean, const float *save_invstd,
                               const float *gamma, int n, int c, int hw);

void fn_ref_relu_forward(float *y, const float *x, int n);
void fn_ref_relu_backward(float *dx, const float *dy, const float *y, int n);
void fn_ref_relu6_forward(float *y, const float *x, int n);
void fn_ref_relu6_backward(float *dx, const float *dy, const float *y, int n);

void fn_ref_maxpool_forward(float *y, int *argmax, const float *x, const fn_pool_shape *s);
void fn_ref_maxpool_backward(float *dx, const float *dy, const int *argmax, const fn_pool_shape *s);
void fn_ref_avgpool_forward(float *y, const float *x, const fn_pool_shape *s);
void fn_ref_avgpool_backward(float *dx, const float *dy, const fn_pool_shape *s);
void fn_ref_gap_forward(float *y, const float *x, int n, int c, int hw);
void fn_ref_gap_backward(float *dx, const float *dy, int n, int c, int hw);

void fn_ref_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                           int out);
void fn_ref_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                            const float *w, int n, int in, int out);

void fn_ref_add(float *y, const float *a, const float *b, int n);

void fn_ref_softmax_forward(float *y, const float *x, int rows, int cols);
void fn_ref_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols);
void fn_ref_log_softmax_forward(float *y, const float *x, int rows, int cols);
void fn_ref_log_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols);

void fn_ref_reduce_sum(float *out, const float *x, int n);
void fn_ref_reduce_sumsq(float *out, const float *const *xs, const size_t *ns, int count);

#endif
