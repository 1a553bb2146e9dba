/* axpy and scale: the element-wise updates the optimizer and losses use. */
#include "ops.h"

fn_status fn_axpy(fn_device *dev, int n, float alpha, cl_mem x, cl_mem y)
{
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "axpy", "axpy", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(alpha), FN_ARG(x), FN_ARG(y), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}

fn_status fn_scale(fn_device *dev, int n, float alpha, cl_mem x)
{
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "axpy", "scale", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(alpha), FN_ARG(x), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}
