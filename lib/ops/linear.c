/* Fully connected layer: three GEMMs (CLBlast, or fn_gemm on CPU devices)
 * and two small kernels. Scratch: fn_gemm's (slots 2 and 3) on CPUs. */
#include "../core/blas.h"
#include "ops.h"

static fn_status check_sizes(int n, int in, int out)
{
    if (n < 0 || in < 1 || out < 1)
        return fn_error(FN_ERR_ARG, "linear: bad sizes n=%d in=%d out=%d", n, in, out);
    return FN_OK;
}

/* The three products with fn_gemm, each matrix viewed in place:
 *   y^T (OUT, N) = w (OUT, IN) . x^T (IN, N) + b per row
 *   dx (N, IN)   = dy (N, OUT) . w (OUT, IN)
 *   dw (OUT, IN) += dy^T (OUT, N) . x (N, IN) */
static fn_status own_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int n, int in,
                             int out)
{
    fn_gemm_args g = {.m = out,
                      .n = n,
                      .k = in,
                      .a = {w, in, 0, in, 1, 0},
                      .b = {x, n, 0, 1, in, 0},
                      .c = {y, n, 0, 1, out, 0},
                      .bias = b};
    return fn_gemm(dev, &g);
}

static fn_status own_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x, cl_mem w,
                              int n, int in, int out)
{
    if (dx) {
        fn_gemm_args g = {.m = n,
                          .n = in,
                          .k = out,
                          .a = {dy, out, 0, out, 1, 0},
                          .b = {w, in, 0, in, 1, 0},
                          .c = {dx, in, 0, in, 1, 0}};
        FN_TRY(fn_gemm(dev, &g));
    }
    if (dw) {
        fn_gemm_args g = {.m = out,
                          .n = in,
                          .k = n,
                          .a = {dy, n, 0, 1, out, 0},
                          .b = {x, in, 0, in, 1, 0},
                          .c = {dw, in, 0, in, 1, 0},
                          .accumulate = 1};
        FN_TRY(fn_gemm(dev, &g));
    }
    return FN_OK;
}

fn_status fn_linear_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int n, int in,
                            int out)
{
    FN_TRY(check_sizes(n, in, out));
    if (n == 0) return FN_OK;
    if (fn_use_own_gemm(dev)) return own_forward(dev, y, x, w, b, n, in, out);
    /* y (N, OUT) = x (N, IN) . w^T, w stored (OUT, IN) */
    cl_event *ev = fn_prof_begin(dev, 1);
    FN_BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                (size_t)n, (size_t)out, (size_t)in, 1.0f, x, 0, (size_t)in, w, 0,
                                (size_t)in, 0.0f, y, 0, (size_t)out, &dev->queue, ev),
                   "CLBlastSgemm");
    fn_prof_end(dev, ev, "CLBlast linear SgemmNT");
    if (!b) return FN_OK;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "linear", "bias_add", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(b), FN_ARG(n), FN_ARG(out), (size_t)0));
    return fn_launch1(dev, k, (size_t)n * out);
}

static fn_status clblast_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                  cl_mem w, int n, int in, int out);

fn_status fn_linear_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                             cl_mem w, int n, int in, int out)
{
    FN_TRY(check_sizes(n, in, out));
    if (n == 0) return FN_OK;
    if (fn_use_own_gemm(dev))
        FN_TRY(own_backward(dev, dx, dw, dy, x, w, n, in, out));
    else
        FN_TRY(clblast_backward(dev, dx, dw, dy, x, w, n, in, out));
    if (!db) return FN_OK;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "linear", "bias_grad", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(db), FN_ARG(dy), FN_ARG(n), FN_ARG(out), (size_t)0));
    return fn_launch1(dev, k, (size_t)out);
}

static fn_status clblast_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem dy, cl_mem x,
                                  cl_mem w, int n, int in, int out)
{
    /* dx (N, IN) = dy (N, OUT) . w (OUT, IN); beta 0 overwrites */
    if (dx) {
        cl_event *ev = fn_prof_begin(dev, 1);
        FN_BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                                    (size_t)n, (size_t)in, (size_t)out, 1.0f, dy, 0, (size_t)out, w,
                                    0, (size_t)in, 0.0f, dx, 0, (size_t)in, &dev->queue, ev),
                       "CLBlastSgemm");
        fn_prof_end(dev, ev, "CLBlast linear SgemmNN");
    }
    /* dw (OUT, IN) += dy^T (OUT, N) . x (N, IN); beta 1 accumulates */
    if (dw) {
        cl_event *ev = fn_prof_begin(dev, 1);
        FN_BLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo,
                                    (size_t)out, (size_t)in, (size_t)n, 1.0f, dy, 0, (size_t)out, x,
                                    0, (size_t)in, 1.0f, dw, 0, (size_t)in, &dev->queue, ev),
                       "CLBlastSgemm");
        fn_prof_end(dev, ev, "CLBlast linear SgemmTN");
    }
    return FN_OK;
}
