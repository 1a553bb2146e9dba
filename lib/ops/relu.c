/* ReLU and ReLU6, forward and backward (kernels/relu.cl). */
#include "ops.h"

/* Every kernel here takes (n, out, in1[, in2]); on CPUs (dev->long_runs) the
 * NAME_runs twin takes (n, run, out, x or y, NULL or dy), a run per item. */
static fn_status run(fn_device *dev, const char *name, int n, cl_mem a, cl_mem b, cl_mem c)
{
    if (n < 0) return fn_error(FN_ERR_ARG, "%s: negative size %d", name, n);
    cl_kernel k;
    if (dev->long_runs) {
        if (n == 0) return FN_OK;
        char runs[32];
        snprintf(runs, sizeof runs, "%s_runs", name);
        FN_TRY(fn_kernel_get(dev, "relu", runs, &k));
        int len = fn_run_length(dev, n);
        /* backward: y (c) is the mask, dy (b) the gradient */
        cl_mem x = c ? c : b, g = c ? b : NULL;
        FN_TRY(
            fn_kernel_args(k, FN_ARG(n), FN_ARG(len), FN_ARG(a), FN_ARG(x), FN_ARG(g), (size_t)0));
        return fn_launch_runs(dev, k, n, 1, len);
    }
    FN_TRY(fn_kernel_get(dev, "relu", name, &k));
    if (c)
        FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(a), FN_ARG(b), FN_ARG(c), (size_t)0));
    else
        FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(a), FN_ARG(b), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}

fn_status fn_relu_forward(fn_device *dev, cl_mem y, cl_mem x, int n)
{
    return run(dev, "relu_forward", n, y, x, NULL);
}

fn_status fn_relu_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int n)
{
    if (!dx) return FN_OK; /* input gradient not needed */
    return run(dev, "relu_backward", n, dx, dy, y);
}

fn_status fn_relu6_forward(fn_device *dev, cl_mem y, cl_mem x, int n)
{
    return run(dev, "relu6_forward", n, y, x, NULL);
}

fn_status fn_relu6_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int n)
{
    if (!dx) return FN_OK;
    return run(dev, "relu6_backward", n, dx, dy, y);
}
