/* Operations on the device: one operation per file, lib/ops/NAME.c with its
 * kernels in kernels/NAME.cl, its plain-C twin in lib/ref/NAME.c and its test
 * in tests/test_NAME.c.
 *
 * Conventions for every operation here:
 *  - float32, NCHW, contiguous buffers; sizes are plain ints.
 *    N batch, C channels, H x W spatial, K classes, OC output channels.
 *  - forward(out..., saved..., in..., params..., sizes)
 *    backward(grads it produces..., grads it reads, saved/in..., params, sizes)
 *  - THE GRADIENT RULE: parameter gradients ACCUMULATE (dw += ...), so a caller
 *    zeroes them once per step and may accumulate over micro-batches; input
 *    gradients OVERWRITE (dx = ...). A NULL dx means "not needed" (first layer).
 *  - Work buffers come from fn_scratch(); nothing is allocated per call.
 *  - Errors are returned; nothing is printed.
 *
 * THE SCRATCH-SLOT PROTOCOL. fn_scratch (lib/core) keeps four device buffers,
 * slots 0..3, grown on demand and shared by every operation; their contents
 * are undefined when an operation starts and dead when it returns. An
 * operation that calls another keeps live across that call only slots the
 * callee does not take. The slots each one takes:
 *   slot 0  conv (col / dcol, bias-gradient partial sums), conv_implicit (col
 *           in panels), conv_depthwise (weight-gradient partial sums),
 *           conv_winograd (transformed inputs V),
 *           batchnorm (per-plane sums), reduce (partial sums)
 *   slot 1  conv (output or dY in GEMM layout), conv_implicit (dY in panels),
 *           conv_depthwise (padded planes), batchnorm (per-channel sums),
 *           conv_winograd (the 16 products M, or dM)
 *   slot 2  gemm (packed A, then K-slice partial sums), gemm_nt (partial
 *           sums), conv_implicit (packed W for the implicit GEMM)
 *   slot 3  gemm (packed B, only when b_packed is NULL and B is not read
 *           in place), conv_implicit (a padded input, or dcol),
 *           conv_winograd (transformed filters U, or their gradient dU)
 *   slot 4  conv_winograd (the weight gradient's V_xi transposed: packed B)
 * So the matrix products take only slots 2 and 3 (3 not at all when given B
 * packed), and their callers keep what the product reads in slots 0 and 1,
 * or in 3 when they pass b_packed. The pack helpers (fn_gemm_pack_a/_b) and
 * fn_conv_pad_planes write only where they are told. A slot that conv,
 * conv_implicit or conv_depthwise filled before a call into gemm stays
 * valid after it only by this table: add a slot use here before adding one
 * to the code. tests/test_conv*.c fill every slot with NaN before each call,
 * so a result read from a stale slot fails there. */
#ifndef FN_OPS_H
#define FN_OPS_H

#include "../core/core.h"

/* ---- gemm: matrix products on CPU devices ----------------------------------
 * C (M, N) = A (M, K) . B (K, N) [+ bias per row] [+ C], with our own
 * register-blocked kernels; convolutions and linear layers use it where
 * fn_use_own_gemm says so (CPU devices; CLBlast elsewhere).
 * Each matrix is a view, so NCHW tensors and transposes are used in place:
 * element (row, col), col = n*q + r (image n, position r), is at
 *   mem[off + n * sn + row * s_row + r * s_col]
 * e.g. a row-major (R, C) matrix is {mem, q = C, sn = 0, s_row = C, s_col = 1}
 * and the (C, N*H*W) matrix of an NCHW tensor is {mem, H*W, C*H*W, H*W, 1}.
 * B may come already packed (b_packed, then b is not read): panels of 16
 * columns, Bp[(t*K + k)*16 + l] = B(k, 16t + l), zero for columns past N.
 * Scratch: slot 2 (A packed, then partial sums when K is split), slot 3
 * (B packed, unless b_packed). */
typedef struct {
    cl_mem mem;
    int q;
    int sn, s_row, s_col;
    int off; /* floats before element (0, 0) */
} fn_view;

typedef struct {
    int m, n, k;
    fn_view a, b, c;
    cl_mem b_packed; /* or NULL */
    cl_mem bias;     /* (M) added to every column, or NULL; with epi, what epi reads */
    int epi;         /* 0, or a conv epilogue (fn_conv_epi) applied to C = A . B */
    int accumulate;  /* C += A . B instead of C = A . B */
} fn_gemm_args;
fn_status fn_gemm(fn_device *dev, const fn_gemm_args *g);
int fn_use_own_gemm(const fn_device *dev);
/* Rows per tile (MR) fn_gemm uses for M rows, and A packed in panels of MR
 * rows (Ap[(t*K + k)*MR + r] = A(t*MR + r, k), zero past M; dst holds
 * ceil(M/MR)*MR*K floats), for kernels that reuse fn_gemm's tiles. */
int fn_gemm_rows(const fn_device *dev, int m);
fn_status fn_gemm_pack_a(fn_device *dev, int m, int k, const fn_view *a, cl_mem dst);
/* Packs B (K, N) into the b_packed layout; dst holds ceil(N/16)*16*K floats. */
fn_status fn_gemm_pack_b(fn_device *dev, int k, int n, const fn_view *b, cl_mem dst);

/* C (M, N) = A (M, P) . B (N, P)^T [+ C], A and B in the b_packed layout
 * (panels of 16 of their P columns, zero past P): weight gradients,
 * dW += dY . col^T, with the reduction along the panels. Scratch: slot 2
 * (partial sums of slices of P). */
typedef struct {
    int m, n, p;
    cl_mem a, b; /* packed */
    fn_view c;
    int accumulate;
} fn_gemm_nt_args;
fn_status fn_gemm_nt(fn_device *dev, const fn_gemm_nt_args *g);

/* ---- axpy: y += alpha * x (n floats); scale: x *= alpha ------------------- */
fn_status fn_axpy(fn_device *dev, int n, float alpha, cl_mem x, cl_mem y);
fn_status fn_scale(fn_device *dev, int n, float alpha, cl_mem x);

/* ---- conv: 2-D convolution ------------------------------------------------
 * x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC) or NULL, y (N, OC, OH, OW)
 * OH = (H + 2*pad - KH) / stride + 1. groups divides C and OC; groups == C == OC
 * is depthwise and runs a direct kernel, the rest one GEMM per layer (CLBlast). */
typedef struct {
    int n, c, h, w;  /* input */
    int oc, kh, kw;  /* filters */
    int stride, pad; /* same along both axes */
    int groups;
} fn_conv_shape;
int fn_conv_out_h(const fn_conv_shape *s);
int fn_conv_out_w(const fn_conv_shape *s);
fn_status fn_conv_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b,
                          const fn_conv_shape *s);
/* The forward with what follows it done in its store (evaluation: fewer
 * passes over the output): ab (2*OC floats from fn_batchnorm_fold, or NULL)
 * a batch norm at evaluation folded in (b must then be NULL: the bias goes
 * into ab), then act (0 none, 1 ReLU, 2 ReLU6). y = act(bn(conv(x) + b)). */
fn_status fn_conv_forward_fused(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, cl_mem ab,
                                int act, const fn_conv_shape *s);
/* The epilogue word the conv kernels take where they took has_bias
 * (kernels/epilogue.clh), and the buffer it reads: b, ab or NULL. */
#define FN_EPI_BIAS 1
#define FN_EPI_AFFINE 2
static inline int fn_conv_epi(cl_mem b, cl_mem ab, int act)
{
    return (ab ? FN_EPI_AFFINE : b ? FN_EPI_BIAS : 0) | act << 2;
}
/* dx (N,C,H,W) overwritten unless NULL; dw (OC,C/g,KH,KW) and db (OC, or NULL) accumulate. */
fn_status fn_conv_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                           cl_mem w, const fn_conv_shape *s);

/* The algorithms fn_conv_forward/fn_conv_backward dispatch to, on a checked
 * shape, the bias gradient already done (tests call them through the two
 * entry points above, with dev->gemm_path and dev->long_runs set):
 *   conv (lib/ops/conv.c): im2col + CLBlast GEMM, any groups
 *   conv_implicit: our own GEMM kernels, groups == 1 (CPU devices)
 *   conv_depthwise: direct kernels, groups == C == OC (every device)
 *   conv_winograd: F(2x2, 3x3) on our own GEMM, 3x3 stride 1 groups 1, the
 *     forward and both gradients (CPU devices, where
 *     fn_conv_winograd_applies: dev->winograd set, enough channels and
 *     output positions; the entry points themselves take any such shape
 *     with pad <= 2)
 * Their forwards take the epilogue: e (the bias or the folded batch norm's
 * ab, or NULL) and epi (fn_conv_epi). */
fn_status fn_conv_implicit_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                   const fn_conv_shape *s);
fn_status fn_conv_implicit_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                    cl_mem w, const fn_conv_shape *s);
int fn_conv_winograd_applies(const fn_device *dev, const fn_conv_shape *s);
fn_status fn_conv_winograd_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                   const fn_conv_shape *s);
fn_status fn_conv_winograd_backward_data(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem w,
                                         const fn_conv_shape *s);
/* dw += the weight gradient (3x3 stride 1, groups 1, pad <= 2). */
fn_status fn_conv_winograd_backward_filter(fn_device *dev, cl_mem dw, cl_mem dy, cl_mem x,
                                           const fn_conv_shape *s);
fn_status fn_conv_depthwise_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                    const fn_conv_shape *s);
/* conv_pointwise: the forward of a 1x1 stride-1 convolution with few input
 * channels on CPUs (fn_conv_pointwise_applies: dev->pointwise set, our own
 * GEMM, 16 | H*W, C <= 128); the entry point takes any 1x1 stride-1
 * unpadded shape with 16 | H*W and C <= 128. */
int fn_conv_pointwise_applies(const fn_device *dev, const fn_conv_shape *s);
fn_status fn_conv_pointwise_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem e, int epi,
                                    const fn_conv_shape *s);
fn_status fn_conv_depthwise_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                     cl_mem w, const fn_conv_shape *s);
/* Padded planes (kernels/conv.cl, conv_pad), shared by the two above:
 * (planes, h, w) into (planes, hp, wp) in scratch `slot`, at offset (lead_h,
 * lead_w) (negative crops), every up-th row and column, zeros elsewhere,
 * with 32 floats of slack after. fn_conv_padded: the padded size an output
 * of `out` at `stride` with a k-wide window reads, at least in + 2*pad. */
fn_status fn_conv_pad_planes(fn_device *dev, int slot, cl_mem in, int planes, int h, int w, int hp,
                             int wp, int lead_h, int lead_w, int up, cl_mem *out);
int fn_conv_padded(int in, int pad, int out, int k, int stride);

/* ---- batchnorm: per-channel normalization over (N, H*W) -------------------
 * x, y (N, C, HW); gamma, beta, running_mean, running_var (C).
 * Training: batch mean and biased variance normalize; the running estimates
 * move by momentum (0.1 in PyTorch) using the UNBIASED variance; save_mean and
 * save_invstd (C) keep what backward needs. Evaluation uses the running ones. */
fn_status fn_batchnorm_forward_train(fn_device *dev, cl_mem y, cl_mem save_mean, cl_mem save_invstd,
                                     cl_mem x, cl_mem gamma, cl_mem beta, cl_mem running_mean,
                                     cl_mem running_var, int n, int c, int hw, float momentum,
                                     float eps);
fn_status fn_batchnorm_forward_eval(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma, cl_mem beta,
                                    cl_mem running_mean, cl_mem running_var, int n, int c, int hw,
                                    float eps);
/* The same with the activation that follows fused in: act 0 none, 1 ReLU,
 * 2 ReLU6 (y = relu(batchnorm(x)) in one pass). */
fn_status fn_batchnorm_forward_train_ex(fn_device *dev, cl_mem y, cl_mem save_mean,
                                        cl_mem save_invstd, cl_mem x, cl_mem gamma, cl_mem beta,
                                        cl_mem running_mean, cl_mem running_var, int n, int c,
                                        int hw, float momentum, float eps, int act);
fn_status fn_batchnorm_forward_eval_ex(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma,
                                       cl_mem beta, cl_mem running_mean, cl_mem running_var, int n,
                                       int c, int hw, float eps, int act);
/* ab (2*c floats): evaluation's batch norm as a per-channel affine y = a x +
 * b, a then b (the same a and b fn_batchnorm_forward_eval uses), with a
 * convolution's bias (or NULL) folded into b, for fn_conv_forward_fused. */
fn_status fn_batchnorm_fold(fn_device *dev, cl_mem ab, cl_mem bias, cl_mem gamma, cl_mem beta,
                            cl_mem running_mean, cl_mem running_var, int c, float eps);
/* dx overwritten (unless NULL); dgamma, dbeta accumulate. */
fn_status fn_batchnorm_backward(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta, cl_mem dy,
                                cl_mem x, cl_mem save_mean, cl_mem save_invstd, cl_mem gamma, int n,
                                int c, int hw);
/* The same with the ReLU (act 1) or ReLU6 (act 2) that followed batch norm
 * in a fn_batchnorm_forward_train_ex of the same act folded in: dy is the
 * gradient of the activation's output, masked where the activation was flat
 * (as fn_relu_backward / fn_relu6_backward would, recomputed from x, gamma,
 * beta and the saved statistics, which must be unchanged since the forward).
 * act 0: fn_batchnorm_backward (beta may be NULL). */
fn_status fn_batchnorm_backward_ex(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                   cl_mem dy, cl_mem x, cl_mem save_mean, cl_mem save_invstd,
                                   cl_mem gamma, cl_mem beta, int n, int c, int hw, int act);

/* Synchronized batch norm (--sync-bn): the statistics and gradient sums of
 * the rows of every rank of comm, `count` values per channel in all (N*HW
 * summed over the ranks), so that N ranks step as one process on the global
 * batch. Each makes one allreduce of 2C doubles (sums over the ranks in
 * double: see batchnorm.c) through host (3C doubles, the caller's). dgamma and dbeta accumulate this rank's own part, as the
 * gradient allreduce expects. A rank with no rows in a batch makes the same
 * allreduces with fn_batchnorm_forward_sync_idle and fn_batchnorm_sync_idle
 * (backward; C: the layer's channels). */
fn_status fn_batchnorm_forward_train_sync(fn_device *dev, cl_mem y, cl_mem save_mean,
                                          cl_mem save_invstd, cl_mem x, cl_mem gamma, cl_mem beta,
                                          cl_mem running_mean, cl_mem running_var, int n, int c,
                                          int hw, float momentum, float eps, int act,
                                          const fn_comm *comm, int count, double *host);
fn_status fn_batchnorm_backward_sync(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                     cl_mem dy, cl_mem x, cl_mem save_mean, cl_mem save_invstd,
                                     cl_mem gamma, int n, int c, int hw, const fn_comm *comm,
                                     int count, double *host);
fn_status fn_batchnorm_sync_idle(const fn_comm *comm, int c, double *host);
/* The forward's counterpart on a rank without rows: its allreduce with
 * nothing, and the running estimates (and saved statistics) updated from
 * the others' statistics as they update theirs. */
fn_status fn_batchnorm_forward_sync_idle(fn_device *dev, cl_mem save_mean, cl_mem save_invstd,
                                         cl_mem gamma, cl_mem beta, cl_mem running_mean,
                                         cl_mem running_var, int c, float momentum, float eps,
                                         const fn_comm *comm, int count, double *host);

/* ---- relu / relu6 (n floats). Backward reads the OUTPUT y, so y may alias x. */
fn_status fn_relu_forward(fn_device *dev, cl_mem y, cl_mem x, int n);
fn_status fn_relu_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int n);
fn_status fn_relu6_forward(fn_device *dev, cl_mem y, cl_mem x, int n);
fn_status fn_relu6_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int n);

/* ---- pool: max and average pooling, square windows -------------------------
 * x (N, C, H, W) -> y (N, C, OH, OW), OH = (H + 2*pad - k) / stride + 1.
 * Max pooling: padding never wins; argmax (int32, one per output, index into
 * the H*W plane) is written when not NULL and is what backward needs.
 * Average pooling counts padding in the divisor (PyTorch's default). */
typedef struct {
    int n, c, h, w;
    int k, stride, pad;
} fn_pool_shape;
int fn_pool_out_h(const fn_pool_shape *s);
int fn_pool_out_w(const fn_pool_shape *s);
fn_status fn_maxpool_forward(fn_device *dev, cl_mem y, cl_mem argmax, cl_mem x,
                             const fn_pool_shape *s);
fn_status fn_maxpool_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem argmax,
                              const fn_pool_shape *s);
fn_status fn_avgpool_forward(fn_device *dev, cl_mem y, cl_mem x, const fn_pool_shape *s);
fn_status fn_avgpool_backward(fn_device *dev, cl_mem dx, cl_mem dy, const fn_pool_shape *s);
/* Global average pooling: x (N, C, HW) -> y (N, C). */
fn_status fn_gap_forward(fn_device *dev, cl_mem y, cl_mem x, int n, int c, int hw);
fn_status fn_gap_backward(fn_device *dev, cl_mem dx, cl_mem dy, int n, int c, int hw);

/* ---- linear: y (N, OUT) = x (N, IN) . w^T + b, w (OUT, IN), b (OUT) or NULL. */
fn_status fn_linear_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int n, int in,
                            int out);
/* dx overwritten unless NULL; dw, db accumulate. */
fn_status fn_linear_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                             cl_mem w, int n, int in, int out);

/* ---- add: y = a + b (n floats; y may alias a or b). A residual's backward
 * is the identity, so it needs no kernel of its own: fn_buffer_copy/fn_axpy. */
fn_status fn_add(fn_device *dev, cl_mem y, cl_mem a, cl_mem b, int n);

/* ---- softmax over the last axis: x, y (rows, cols); numerically stable. ---- */
fn_status fn_softmax_forward(fn_device *dev, cl_mem y, cl_mem x, int rows, int cols);
fn_status fn_softmax_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int rows, int cols);
fn_status fn_log_softmax_forward(fn_device *dev, cl_mem y, cl_mem x, int rows, int cols);
fn_status fn_log_softmax_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int rows,
                                  int cols);

/* ---- reduce: out[0] = sum of x (n floats); out[1] = count of non-finite x. */
fn_status fn_reduce_sum(fn_device *dev, cl_mem out, cl_mem x, int n);
/* out[0] = sum of the squares of all values of the count buffers xs[i] (of
 * ns[i] floats each), out[1] = count of their non-finite values: the squared
 * global L2 norm of a model's gradients, left on the device (the clip of
 * lib/optim/sgd.c reads it there). count 0 or all empty: 0, 0. */
fn_status fn_reduce_sumsq(fn_device *dev, cl_mem out, const cl_mem *xs, const size_t *ns,
                          int count);

#endif
