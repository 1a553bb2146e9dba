/* Batch normalization, PyTorch's BatchNorm2d semantics (kernels/batchnorm.cl).
 * Statistics and gradient sums are summed per (n, c) plane, then per channel;
 * the element-wise passes work in runs (fn_launch_runs).
 * Scratch: slot 0 per-plane partial sums (2 per plane), slot 1 per-channel
 * values (forward: scale and shift; backward: sum(dy), sum(dy * xhat)).
 *
 * One departure: with a single value per channel (N * HW == 1) PyTorch refuses
 * to train; here the running variance then moves toward the biased variance
 * (0) instead of dividing by M - 1 = 0. */
#include <limits.h>

#include "ops.h"

/* Kernels index with int: the whole tensor must fit. */
static fn_status check_shape(const char *what, int n, int c, int hw)
{
    if (n <= 0 || c <= 0 || hw <= 0)
        return fn_error(FN_ERR_ARG, "%s: bad shape (%d, %d, %d)", what, n, c, hw);
    if ((long long)n * c * hw > INT_MAX)
        return fn_error(FN_ERR_ARG, "%s: (%d, %d, %d) is too large", what, n, c, hw);
    return FN_OK;
}

/* One work-item per channel. */
static fn_status per_channel(fn_device *dev, cl_kernel k, int c)
{
    size_t global = (size_t)c;
    return fn_launch_auto(dev, k, 1, &global);
}

/* Per-plane partial sums (2 per plane) then per-channel values (2 per
 * channel): scratch slots 0 and 1. */
static fn_status work_buffers(fn_device *dev, int planes, int c, cl_mem *part, cl_mem *chan)
{
    FN_TRY(fn_scratch(dev, 0, 2 * (size_t)planes * sizeof(float), part));
    return fn_scratch(dev, 1, 2 * (size_t)c * sizeof(float), chan);
}

fn_status fn_batchnorm_forward_train_ex(fn_device *dev, cl_mem y, cl_mem save_mean,
                                        cl_mem save_invstd, cl_mem x, cl_mem gamma, cl_mem beta,
                                        cl_mem running_mean, cl_mem running_var, int n, int c,
                                        int hw, float momentum, float eps, int act)
{
    FN_TRY(check_shape("batchnorm_forward_train", n, c, hw));
    int planes = n * c, run = fn_run_length(dev, hw);
    cl_mem part, coef;
    FN_TRY(work_buffers(dev, planes, c, &part, &coef));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_plane_stats", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(hw), FN_ARG(x), FN_ARG(part), (size_t)0));
    FN_TRY(fn_launch_runs(dev, k, 1, planes, 16));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_finalize", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(c), FN_ARG(hw), FN_ARG(part), FN_ARG(save_mean),
                          FN_ARG(save_invstd), FN_ARG(running_mean), FN_ARG(running_var),
                          FN_ARG(gamma), FN_ARG(beta), FN_ARG(coef), FN_ARG(momentum), FN_ARG(eps),
                          (size_t)0));
    FN_TRY(per_channel(dev, k, c));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_apply", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(run), FN_ARG(planes), FN_ARG(y),
                          FN_ARG(x), FN_ARG(coef), FN_ARG(act), (size_t)0));
    return fn_launch_runs(dev, k, hw, planes, run);
}

fn_status fn_batchnorm_forward_train(fn_device *dev, cl_mem y, cl_mem save_mean, cl_mem save_invstd,
                                     cl_mem x, cl_mem gamma, cl_mem beta, cl_mem running_mean,
                                     cl_mem running_var, int n, int c, int hw, float momentum,
                                     float eps)
{
    return fn_batchnorm_forward_train_ex(dev, y, save_mean, save_invstd, x, gamma, beta,
                                         running_mean, running_var, n, c, hw, momentum, eps, 0);
}

fn_status fn_batchnorm_forward_eval_ex(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma,
                                       cl_mem beta, cl_mem running_mean, cl_mem running_var, int n,
                                       int c, int hw, float eps, int act)
{
    FN_TRY(check_shape("batchnorm_forward_eval", n, c, hw));
    int planes = n * c, run = fn_run_length(dev, hw);
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_eval", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(run), FN_ARG(planes), FN_ARG(y),
                          FN_ARG(x), FN_ARG(gamma), FN_ARG(beta), FN_ARG(running_mean),
                          FN_ARG(running_var), FN_ARG(eps), FN_ARG(act), (size_t)0));
    return fn_launch_runs(dev, k, hw, planes, run);
}

fn_status fn_batchnorm_forward_eval(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma, cl_mem beta,
                                    cl_mem running_mean, cl_mem running_var, int n, int c, int hw,
                                    float eps)
{
    return fn_batchnorm_forward_eval_ex(dev, y, x, gamma, beta, running_mean, running_var, n, c, hw,
                                        eps, 0);
}

fn_status fn_batchnorm_backward(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta, cl_mem dy,
                                cl_mem x, cl_mem save_mean, cl_mem save_invstd, cl_mem gamma, int n,
                                int c, int hw)
{
    FN_TRY(check_shape("batchnorm_backward", n, c, hw));
    if (!dgamma || !dbeta)
        return fn_error(FN_ERR_ARG, "batchnorm_backward: dgamma and dbeta are required");
    int planes = n * c, run = fn_run_length(dev, hw), m = n * hw;
    cl_mem part, sums;
    FN_TRY(work_buffers(dev, planes, c, &part, &sums));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_plane_grad", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(planes), FN_ARG(dy), FN_ARG(x),
                          FN_ARG(save_mean), FN_ARG(save_invstd), FN_ARG(part), (size_t)0));
    FN_TRY(fn_launch_runs(dev, k, 1, planes, 16));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_grad_finalize", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(c), FN_ARG(part), FN_ARG(sums), FN_ARG(dgamma),
                          FN_ARG(dbeta), (size_t)0));
    FN_TRY(per_channel(dev, k, c));
    if (!dx) return FN_OK;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_backward_dx", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(run), FN_ARG(planes), FN_ARG(m),
                          FN_ARG(dx), FN_ARG(dy), FN_ARG(x), FN_ARG(save_mean), FN_ARG(save_invstd),
                          FN_ARG(gamma), FN_ARG(sums), (size_t)0));
    return fn_launch_runs(dev, k, hw, planes, run);
}
