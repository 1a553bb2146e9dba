/* Batch normalization, PyTorch's BatchNorm2d semantics (kernels/batchnorm.cl).
 * Per-channel statistics and gradient sums take one work-group per channel;
 * the element-wise passes one item per element.
 * Scratch: backward uses slot 0 for sum(dy) and sum(dy * xhat) per channel.
 *
 * One departure: with a single value per channel (N * HW == 1) PyTorch refuses
 * to train; here the running variance then moves toward the biased variance
 * (0) instead of dividing by M - 1 = 0. */
#include <limits.h>

#include "ops.h"

/* A power-of-two work-group no larger than 256 (the kernels' local arrays),
 * the device's limit or what this kernel can run with. */
static fn_status group_size(fn_device *dev, cl_kernel k, size_t *out)
{
    size_t kmax = 0, lim = 256;
    FN_CL(clGetKernelWorkGroupInfo(k, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                                   NULL));
    if (dev->info.max_work_group && dev->info.max_work_group < lim) lim = dev->info.max_work_group;
    if (kmax && kmax < lim) lim = kmax;
    size_t p = 1;
    while (p * 2 <= lim)
        p *= 2;
    *out = p;
    return FN_OK;
}

/* Kernels index with int: the whole tensor must fit. */
static fn_status check_shape(const char *what, int n, int c, int hw)
{
    if (n <= 0 || c <= 0 || hw <= 0)
        return fn_error(FN_ERR_ARG, "%s: bad shape (%d, %d, %d)", what, n, c, hw);
    if ((long long)n * c * hw > INT_MAX)
        return fn_error(FN_ERR_ARG, "%s: (%d, %d, %d) is too large", what, n, c, hw);
    return FN_OK;
}

/* Launches one work-group per channel. */
static fn_status per_channel(fn_device *dev, cl_kernel k, int c)
{
    size_t local, global;
    FN_TRY(group_size(dev, k, &local));
    global = (size_t)c * local;
    return fn_launch(dev, k, 1, &global, &local);
}

fn_status fn_batchnorm_forward_train(fn_device *dev, cl_mem y, cl_mem save_mean, cl_mem save_invstd,
                                     cl_mem x, cl_mem gamma, cl_mem beta, cl_mem running_mean,
                                     cl_mem running_var, int n, int c, int hw, float momentum,
                                     float eps)
{
    FN_TRY(check_shape("batchnorm_forward_train", n, c, hw));
    cl_kernel ks, ka;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_stats", &ks));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_apply", &ka));
    FN_TRY(fn_kernel_args(ks, FN_ARG(n), FN_ARG(c), FN_ARG(hw), FN_ARG(x), FN_ARG(save_mean),
                          FN_ARG(save_invstd), FN_ARG(running_mean), FN_ARG(running_var),
                          FN_ARG(momentum), FN_ARG(eps), (size_t)0));
    FN_TRY(per_channel(dev, ks, c));
    int total = n * c * hw;
    FN_TRY(fn_kernel_args(ka, FN_ARG(total), FN_ARG(c), FN_ARG(hw), FN_ARG(y), FN_ARG(x),
                          FN_ARG(save_mean), FN_ARG(save_invstd), FN_ARG(gamma), FN_ARG(beta),
                          (size_t)0));
    return fn_launch1(dev, ka, (size_t)total);
}

fn_status fn_batchnorm_forward_eval(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma, cl_mem beta,
                                    cl_mem running_mean, cl_mem running_var, int n, int c, int hw,
                                    float eps)
{
    FN_TRY(check_shape("batchnorm_forward_eval", n, c, hw));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_eval", &k));
    int total = n * c * hw;
    FN_TRY(fn_kernel_args(k, FN_ARG(total), FN_ARG(c), FN_ARG(hw), FN_ARG(y), FN_ARG(x),
                          FN_ARG(gamma), FN_ARG(beta), FN_ARG(running_mean), FN_ARG(running_var),
                          FN_ARG(eps), (size_t)0));
    return fn_launch1(dev, k, (size_t)total);
}

fn_status fn_batchnorm_backward(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta, cl_mem dy,
                                cl_mem x, cl_mem save_mean, cl_mem save_invstd, cl_mem gamma, int n,
                                int c, int hw)
{
    FN_TRY(check_shape("batchnorm_backward", n, c, hw));
    if (!dgamma || !dbeta)
        return fn_error(FN_ERR_ARG, "batchnorm_backward: dgamma and dbeta are required");
    cl_kernel kr, kd;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_backward_reduce", &kr));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_backward_dx", &kd));
    cl_mem sums;
    FN_TRY(fn_scratch(dev, 0, 2 * (size_t)c * sizeof(float), &sums));
    FN_TRY(fn_kernel_args(kr, FN_ARG(n), FN_ARG(c), FN_ARG(hw), FN_ARG(dy), FN_ARG(x),
                          FN_ARG(save_mean), FN_ARG(save_invstd), FN_ARG(sums), FN_ARG(dgamma),
                          FN_ARG(dbeta), (size_t)0));
    FN_TRY(per_channel(dev, kr, c));
    if (!dx) return FN_OK;
    int total = n * c * hw, m = n * hw;
    FN_TRY(fn_kernel_args(kd, FN_ARG(total), FN_ARG(c), FN_ARG(hw), FN_ARG(m), FN_ARG(dx),
                          FN_ARG(dy), FN_ARG(x), FN_ARG(save_mean), FN_ARG(save_invstd),
                          FN_ARG(gamma), FN_ARG(sums), (size_t)0));
    return fn_launch1(dev, kd, (size_t)total);
}
