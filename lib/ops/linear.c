/* Fully connected layer: three CLBlast GEMMs and two small kernels.
 * No scratch buffers. */
#include <clblast_c.h>

#include "ops.h"

/* CLBlast returns its own status codes (some of them OpenCL's), so they are
 * reported as numbers rather than through fn_cl_error_name. */
static fn_status clblast_fail(CLBlastStatusCode st, const char *file, int line)
{
    fn_status s = (st == CLBlastOpenCLOutOfResources || st == CLBlastOpenCLOutOfHostMemory ||
                   st == CLBlastTempBufferAllocFailure)
                      ? FN_ERR_NOMEM
                      : FN_ERR_CL;
    return fn_error(s, "CLBlastSgemm failed: status %d (%s:%d)", (int)st, file, line);
}

#define FN_CLBLAST(call)                                                                           \
    do {                                                                                           \
        CLBlastStatusCode fn_blast_st_ = (call);                                                   \
        if (fn_blast_st_ != CLBlastSuccess) return clblast_fail(fn_blast_st_, __FILE__, __LINE__); \
    } while (0)

static fn_status check_sizes(int n, int in, int out)
{
    if (n < 0 || in < 1 || out < 1)
        return fn_error(FN_ERR_ARG, "linear: bad sizes n=%d in=%d out=%d", n, in, out);
    return FN_OK;
}

fn_status fn_linear_forward(fn_device *dev, cl_mem y, cl_mem x, cl_mem w, cl_mem b, int n, int in,
                            int out)
{
    FN_TRY(check_sizes(n, in, out));
    if (n == 0) return FN_OK;
    /* y (N, OUT) = x (N, IN) . w^T, w stored (OUT, IN) */
    cl_event *ev = fn_prof_begin(dev, 1);
    FN_CLBLAST(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                            (size_t)n, (size_t)out, (size_t)in, 1.0f, x, 0, (size_t)in, w, 0,
                            (size_t)in, 0.0f, y, 0, (size_t)out, &dev->queue, ev));
    fn_prof_end(dev, ev, "CLBlast linear SgemmNT");
    if (!b) return FN_OK;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "linear", "bias_add", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(b), FN_ARG(n), FN_ARG(out), (size_t)0));
    return fn_launch1(dev, k, (size_t)n * out);
}

fn_status fn_linear_backward(fn_device *dev, cl_mem dx, cl_mem dw, cl_mem db, cl_mem dy, cl_mem x,
                             cl_mem w, int n, int in, int out)
{
    FN_TRY(check_sizes(n, in, out));
    if (n == 0) return FN_OK;
    /* dx (N, IN) = dy (N, OUT) . w (OUT, IN); beta 0 overwrites */
    if (dx) {
        cl_event *ev = fn_prof_begin(dev, 1);
        FN_CLBLAST(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                                (size_t)n, (size_t)in, (size_t)out, 1.0f, dy, 0, (size_t)out, w, 0,
                                (size_t)in, 0.0f, dx, 0, (size_t)in, &dev->queue, ev));
        fn_prof_end(dev, ev, "CLBlast linear SgemmNN");
    }
    /* dw (OUT, IN) += dy^T (OUT, N) . x (N, IN); beta 1 accumulates */
    if (dw) {
        cl_event *ev = fn_prof_begin(dev, 1);
        FN_CLBLAST(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo,
                                (size_t)out, (size_t)in, (size_t)n, 1.0f, dy, 0, (size_t)out, x, 0,
                                (size_t)in, 1.0f, dw, 0, (size_t)in, &dev->queue, ev));
        fn_prof_end(dev, ev, "CLBlast linear SgemmTN");
    }
    if (!db) return FN_OK;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "linear", "bias_grad", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(db), FN_ARG(dy), FN_ARG(n), FN_ARG(out), (size_t)0));
    return fn_launch1(dev, k, (size_t)out);
}
