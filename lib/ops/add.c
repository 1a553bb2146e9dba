/* Element-wise sum, the forward of a residual connection (kernels/add.cl). */
#include "ops.h"

fn_status fn_add(fn_device *dev, cl_mem y, cl_mem a, cl_mem b, int n)
{
    if (n < 0) return fn_error(FN_ERR_ARG, "add: negative size %d", n);
    cl_kernel k;
    if (dev->long_runs) { /* CPUs: runs of floats per work-item */
        if (n == 0) return FN_OK;
        int run = fn_run_length(dev, n);
        FN_TRY(fn_kernel_get(dev, "add", "add_runs", &k));
        FN_TRY(
            fn_kernel_args(k, FN_ARG(n), FN_ARG(run), FN_ARG(y), FN_ARG(a), FN_ARG(b), (size_t)0));
        return fn_launch_runs(dev, k, n, 1, run);
    }
    FN_TRY(fn_kernel_get(dev, "add", "add", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(y), FN_ARG(a), FN_ARG(b), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}
