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
#include <string.h>

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

/* Planes per work-item. On CPUs (dev->long_runs) a work-item costs POCL a
 * work-group, which at the 4x4 and 8x8 planes of the deep layers (30k planes
 * of 16 floats in a MobileNetV2 layer at batch 64) cost more than the
 * arithmetic: planes under 256 floats go several to an item, up to 4096
 * floats, while leaving at least 16 items for the cores to share (2x faster
 * at 16 and 64 floats; at 1024 the timings under load did not show a gain,
 * so larger planes stay one to an item). Each plane's arithmetic
 * is the same either way, so the results are too. FOCUSNET_BN_GROUP=0: one
 * plane per item (dev->bn_group 0), for A/B runs. */
static int plane_group(const fn_device *dev, int planes, int hw)
{
    if (!dev->long_runs || !dev->bn_group || hw >= 256) return 1;
    int per = 4096 / hw, most = (planes + 15) / 16;
    if (per > most) per = most;
    return per < 1 ? 1 : per;
}

static int groups_of(int planes, int per)
{
    return (planes + per - 1) / per;
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

/* The forward's plane pass: each plane's mean and centred sum of squares
 * into *part (2 x planes), with *coef the per-channel buffer beside it. */
static fn_status plane_stats(fn_device *dev, cl_mem x, int n, int c, int hw, cl_mem *part,
                             cl_mem *coef)
{
    int planes = n * c, per = plane_group(dev, planes, hw);
    FN_TRY(work_buffers(dev, planes, c, part, coef));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_plane_stats", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(planes), FN_ARG(hw), FN_ARG(per), FN_ARG(x), FN_ARG(*part),
                          (size_t)0));
    return fn_launch_runs(dev, k, 1, groups_of(planes, per), 16);
}

/* y = coef[ch] x + coef[C + ch], then the activation, from the finished
 * per-channel coefficients. */
static fn_status apply(fn_device *dev, cl_mem y, cl_mem x, cl_mem coef, int n, int c, int hw,
                       int act)
{
    int planes = n * c, run = fn_run_length(dev, hw), per = plane_group(dev, planes, hw);
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_apply", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(run), FN_ARG(planes), FN_ARG(per),
                          FN_ARG(y), FN_ARG(x), FN_ARG(coef), FN_ARG(act), (size_t)0));
    return fn_launch_runs(dev, k, hw, groups_of(planes, per), run);
}

fn_status fn_batchnorm_forward_train_ex(fn_device *dev, cl_mem y, cl_mem save_mean,
                                        cl_mem save_invstd, cl_mem x, cl_mem gamma, cl_mem beta,
                                        cl_mem running_mean, cl_mem running_var, int n, int c,
                                        int hw, float momentum, float eps, int act)
{
    FN_TRY(check_shape("batchnorm_forward_train", n, c, hw));
    cl_mem part, coef;
    FN_TRY(plane_stats(dev, x, n, c, hw, &part, &coef));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_finalize", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(c), FN_ARG(hw), FN_ARG(part), FN_ARG(save_mean),
                          FN_ARG(save_invstd), FN_ARG(running_mean), FN_ARG(running_var),
                          FN_ARG(gamma), FN_ARG(beta), FN_ARG(coef), FN_ARG(momentum), FN_ARG(eps),
                          (size_t)0));
    FN_TRY(per_channel(dev, k, c));
    return apply(dev, y, x, coef, n, c, hw, act);
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

fn_status fn_batchnorm_fold(fn_device *dev, cl_mem ab, cl_mem bias, cl_mem gamma, cl_mem beta,
                            cl_mem running_mean, cl_mem running_var, int c, float eps)
{
    if (c < 1) return fn_error(FN_ERR_ARG, "batchnorm_fold: bad channel count %d", c);
    int has_bias = bias != NULL;
    cl_mem bb = bias ? bias : gamma; /* never read when has_bias is 0 */
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_fold", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(has_bias), FN_ARG(ab), FN_ARG(bb), FN_ARG(gamma),
                          FN_ARG(beta), FN_ARG(running_mean), FN_ARG(running_var), FN_ARG(eps),
                          (size_t)0));
    return per_channel(dev, k, c);
}

fn_status fn_batchnorm_forward_eval(fn_device *dev, cl_mem y, cl_mem x, cl_mem gamma, cl_mem beta,
                                    cl_mem running_mean, cl_mem running_var, int n, int c, int hw,
                                    float eps)
{
    return fn_batchnorm_forward_eval_ex(dev, y, x, gamma, beta, running_mean, running_var, n, c, hw,
                                        eps, 0);
}

/* The backward's per-channel pass: dgamma, dbeta and, in *sums, the two
 * sums bn_backward_dx needs (sum of dy and of dy*xhat), from this call's
 * rows. */
static fn_status grad_sums(fn_device *dev, cl_mem dgamma, cl_mem dbeta, cl_mem dy, cl_mem x,
                           cl_mem save_mean, cl_mem save_invstd, cl_mem gamma, cl_mem beta, int n,
                           int c, int hw, int act, cl_mem *sums)
{
    int planes = n * c, per = plane_group(dev, planes, hw);
    cl_mem part;
    FN_TRY(work_buffers(dev, planes, c, &part, sums));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_plane_grad", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(planes), FN_ARG(per), FN_ARG(act),
                          FN_ARG(dy), FN_ARG(x), FN_ARG(save_mean), FN_ARG(save_invstd),
                          FN_ARG(gamma), FN_ARG(beta), FN_ARG(part), (size_t)0));
    FN_TRY(fn_launch_runs(dev, k, 1, groups_of(planes, per), 16));
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_grad_finalize", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(c), FN_ARG(part), FN_ARG(*sums), FN_ARG(dgamma),
                          FN_ARG(dbeta), (size_t)0));
    return per_channel(dev, k, c);
}

/* dx from the sums over m values of each channel (this call's, or the
 * global batch's under --sync-bn). */
static fn_status backward_dx(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem x, cl_mem save_mean,
                             cl_mem save_invstd, cl_mem gamma, cl_mem beta, cl_mem sums, int n,
                             int c, int hw, int m, int act)
{
    int planes = n * c, run = fn_run_length(dev, hw), per = plane_group(dev, planes, hw);
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_backward_dx", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(hw), FN_ARG(run), FN_ARG(planes), FN_ARG(per),
                          FN_ARG(m), FN_ARG(act), FN_ARG(dx), FN_ARG(dy), FN_ARG(x),
                          FN_ARG(save_mean), FN_ARG(save_invstd), FN_ARG(gamma), FN_ARG(beta),
                          FN_ARG(sums), (size_t)0));
    return fn_launch_runs(dev, k, hw, groups_of(planes, per), run);
}

fn_status fn_batchnorm_backward_ex(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                   cl_mem dy, cl_mem x, cl_mem save_mean, cl_mem save_invstd,
                                   cl_mem gamma, cl_mem beta, int n, int c, int hw, int act)
{
    FN_TRY(check_shape("batchnorm_backward", n, c, hw));
    if (!dgamma || !dbeta)
        return fn_error(FN_ERR_ARG, "batchnorm_backward: dgamma and dbeta are required");
    if (act < 0 || act > 2 || (act && !beta))
        return fn_error(FN_ERR_ARG, "batchnorm_backward: bad activation %d (beta %s)", act,
                        beta ? "given" : "missing");
    cl_mem b = act ? beta : gamma; /* never read without an activation */
    cl_mem sums;
    FN_TRY(grad_sums(dev, dgamma, dbeta, dy, x, save_mean, save_invstd, gamma, b, n, c, hw, act,
                     &sums));
    if (!dx) return FN_OK;
    return backward_dx(dev, dx, dy, x, save_mean, save_invstd, gamma, b, sums, n, c, hw, n * hw,
                       act);
}

fn_status fn_batchnorm_backward(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta, cl_mem dy,
                                cl_mem x, cl_mem save_mean, cl_mem save_invstd, cl_mem gamma, int n,
                                int c, int hw)
{
    return fn_batchnorm_backward_ex(dev, dx, dgamma, dbeta, dy, x, save_mean, save_invstd, gamma,
                                    NULL, n, c, hw, 0);
}

/* ---- synchronized over ranks (--sync-bn) ----
 * The plane pass is the one above; the per-channel values travel through
 * the caller's host buffer (3C doubles: 2C sums, then 2C floats from and
 * to the device) and one allreduce, so that the
 * kernels after it see the statistics of the whole global batch. The sums
 * are double: a sum of squares in float would lose the variance of a
 * channel whose mean is large next to its spread (mean^2 / var of 1e4
 * costs float 1e-3 of the variance, double 1e-12). */
static fn_status check_count(const char *what, int n, int hw, int count)
{
    if (count < (long long)n * hw)
        return fn_error(FN_ERR_ARG,
                        "%s: %d values per channel in all ranks, fewer than this "
                        "rank's %d",
                        what, count, n * hw);
    return FN_OK;
}

/* The forward's allreduce and what follows it, from this rank's (mean, M2)
 * in coef over mr values (mr 0: a rank without rows, contributing nothing
 * but still updating its running estimates as the others do). */
static fn_status reduce_finalize(fn_device *dev, cl_mem coef, cl_mem save_mean, cl_mem save_invstd,
                                 cl_mem running_mean, cl_mem running_var, cl_mem gamma, cl_mem beta,
                                 int c, double mr, float momentum, float eps, const fn_comm *comm,
                                 int count, double *host)
{
    /* This rank's (mean, M2) -> sum and sum of squares -> summed -> the
     * global mean and M2 = sum of squares - sum * mean. */
    float *f = (float *)(host + 2 * c);
    size_t bytes = 2 * (size_t)c * sizeof(float);
    if (mr > 0) FN_TRY(fn_buffer_read(dev, coef, 0, bytes, f));
    for (int i = 0; i < c; i++) {
        double mean = mr > 0 ? f[i] : 0, m2 = mr > 0 ? f[c + i] : 0;
        host[i] = mr * mean;
        host[c + i] = m2 + mr * mean * mean;
    }
    FN_TRY(comm->allreduce_f64(comm, host, 2 * (size_t)c));
    for (int i = 0; i < c; i++) {
        double mean = host[i] / count, m2 = host[c + i] - host[i] * mean;
        f[i] = (float)mean;
        f[c + i] = (float)(m2 > 0 ? m2 : 0);
    }
    FN_TRY(fn_buffer_write(dev, coef, 0, bytes, f));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_finalize_stats", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(c), FN_ARG(count), FN_ARG(coef), FN_ARG(save_mean),
                          FN_ARG(save_invstd), FN_ARG(running_mean), FN_ARG(running_var),
                          FN_ARG(gamma), FN_ARG(beta), FN_ARG(coef), FN_ARG(momentum), FN_ARG(eps),
                          (size_t)0));
    return per_channel(dev, k, c);
}

fn_status fn_batchnorm_forward_train_sync(fn_device *dev, cl_mem y, cl_mem save_mean,
                                          cl_mem save_invstd, cl_mem x, cl_mem gamma, cl_mem beta,
                                          cl_mem running_mean, cl_mem running_var, int n, int c,
                                          int hw, float momentum, float eps, int act,
                                          const fn_comm *comm, int count, double *host)
{
    FN_TRY(check_shape("batchnorm_forward_train_sync", n, c, hw));
    FN_TRY(check_count("batchnorm_forward_train_sync", n, hw, count));
    cl_mem part, coef;
    FN_TRY(plane_stats(dev, x, n, c, hw, &part, &coef));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "batchnorm", "bn_local_stats", &k));
    FN_TRY(
        fn_kernel_args(k, FN_ARG(n), FN_ARG(c), FN_ARG(hw), FN_ARG(part), FN_ARG(coef), (size_t)0));
    FN_TRY(per_channel(dev, k, c));
    FN_TRY(reduce_finalize(dev, coef, save_mean, save_invstd, running_mean, running_var, gamma,
                           beta, c, (double)n * hw, momentum, eps, comm, count, host));
    return apply(dev, y, x, coef, n, c, hw, act);
}

fn_status fn_batchnorm_forward_sync_idle(fn_device *dev, cl_mem save_mean, cl_mem save_invstd,
                                         cl_mem gamma, cl_mem beta, cl_mem running_mean,
                                         cl_mem running_var, int c, float momentum, float eps,
                                         const fn_comm *comm, int count, double *host)
{
    if (c <= 0 || count < 1)
        return fn_error(FN_ERR_ARG, "batchnorm_forward_sync_idle: %d channels, %d values", c,
                        count);
    cl_mem coef;
    FN_TRY(fn_scratch(dev, 1, 2 * (size_t)c * sizeof(float), &coef));
    return reduce_finalize(dev, coef, save_mean, save_invstd, running_mean, running_var, gamma,
                           beta, c, 0, momentum, eps, comm, count, host);
}

fn_status fn_batchnorm_backward_sync(fn_device *dev, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                     cl_mem dy, cl_mem x, cl_mem save_mean, cl_mem save_invstd,
                                     cl_mem gamma, int n, int c, int hw, const fn_comm *comm,
                                     int count, double *host)
{
    FN_TRY(check_shape("batchnorm_backward_sync", n, c, hw));
    FN_TRY(check_count("batchnorm_backward_sync", n, hw, count));
    if (!dgamma || !dbeta)
        return fn_error(FN_ERR_ARG, "batchnorm_backward_sync: dgamma and dbeta are required");
    /* dgamma and dbeta get this rank's own sums: the gradient allreduce adds
     * the other ranks' later. */
    cl_mem sums;
    FN_TRY(grad_sums(dev, dgamma, dbeta, dy, x, save_mean, save_invstd, gamma, gamma, n, c, hw, 0,
                     &sums));
    /* Each rank's dy is the gradient of the mean loss over its own rows:
     * (all values)/(its values) times that of the mean over the global
     * batch. Weighted by its share before the sum and unweighted after, the
     * sums are one process's over the global batch, in this rank's scale
     * (the gradient allreduce weights by the share again). */
    float *f = (float *)(host + 2 * c);
    size_t bytes = 2 * (size_t)c * sizeof(float);
    FN_TRY(fn_buffer_read(dev, sums, 0, bytes, f));
    double share = (double)n * hw / count;
    for (int i = 0; i < 2 * c; i++)
        host[i] = f[i] * share;
    FN_TRY(comm->allreduce_f64(comm, host, 2 * (size_t)c));
    for (int i = 0; i < 2 * c; i++)
        f[i] = (float)(host[i] / share);
    FN_TRY(fn_buffer_write(dev, sums, 0, bytes, f));
    if (!dx) return FN_OK;
    return backward_dx(dev, dx, dy, x, save_mean, save_invstd, gamma, gamma, sums, n, c, hw, count,
                       0);
}

fn_status fn_batchnorm_sync_idle(const fn_comm *comm, int c, double *host)
{
    memset(host, 0, 2 * (size_t)c * sizeof *host);
    return comm->allreduce_f64(comm, host, 2 * (size_t)c);
}
