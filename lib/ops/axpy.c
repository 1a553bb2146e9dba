/* axpy and scale: the element-wise updates the optimizer and losses use, and
 * the residual gradients' sums (kernels/axpy.cl). On CPUs (dev->long_runs)
 * the NAME_runs twins take a run of floats per work-item. */
#include "ops.h"

fn_status fn_axpy(fn_device *dev, int n, float alpha, cl_mem x, cl_mem y)
{
    cl_kernel k;
    if (dev->long_runs) {
        if (n <= 0) return n < 0 ? fn_error(FN_ERR_ARG, "axpy: negative size %d", n) : FN_OK;
        int run = fn_run_length(dev, n);
        FN_TRY(fn_kernel_get(dev, "axpy", "axpy_runs", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(run), FN_ARG(alpha), FN_ARG(x), FN_ARG(y),
                              (size_t)0));
        return fn_launch_runs(dev, k, n, 1, run);
    }
    FN_TRY(fn_kernel_get(dev, "axpy", "axpy", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(alpha), FN_ARG(x), FN_ARG(y), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}

fn_status fn_scale(fn_device *dev, int n, float alpha, cl_mem x)
{
    cl_kernel k;
    if (dev->long_runs) {
        if (n <= 0) return n < 0 ? fn_error(FN_ERR_ARG, "scale: negative size %d", n) : FN_OK;
        int run = fn_run_length(dev, n);
        FN_TRY(fn_kernel_get(dev, "axpy", "scale_runs", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(run), FN_ARG(alpha), FN_ARG(x), (size_t)0));
        return fn_launch_runs(dev, k, n, 1, run);
    }
    FN_TRY(fn_kernel_get(dev, "axpy", "scale", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(alpha), FN_ARG(x), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}
