/* Sum and non-finite count of a whole buffer, read back as two floats: how the
 * trainer checks losses and gradients without downloading them; the sum of
 * squares of several buffers together, which the gradient-norm clip reads on
 * the device (kernels/reduce.cl). Scratch: slot 0 holds the per-group
 * partials. */
#include <stdint.h>

#include "ops.h"

/* Partial sums per item stay short (Kahan-compensated besides), and the tree
 * over items and groups is pairwise, so float is enough for ~50M values. */
#define MAX_GROUPS 1024

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

fn_status fn_reduce_sum(fn_device *dev, cl_mem out, cl_mem x, int n)
{
    if (n < 0) return fn_error(FN_ERR_ARG, "reduce_sum: negative size %d", n);
    if (n == 0) return fn_buffer_fill(dev, out, 0, 2 * sizeof(float), 0.0f);
    cl_kernel kp, kf;
    FN_TRY(fn_kernel_get(dev, "reduce", "reduce_partial", &kp));
    FN_TRY(fn_kernel_get(dev, "reduce", "reduce_final", &kf));
    size_t wp, wf;
    FN_TRY(group_size(dev, kp, &wp));
    FN_TRY(group_size(dev, kf, &wf));

    size_t groups = ((size_t)n + wp - 1) / wp;
    if (groups > MAX_GROUPS) groups = MAX_GROUPS;
    int ng = (int)groups;
    cl_mem part;
    FN_TRY(fn_scratch(dev, 0, 2 * groups * sizeof(float), &part));

    size_t global = groups * wp;
    FN_TRY(fn_kernel_args(kp, FN_ARG(n), FN_ARG(x), FN_ARG(part), (size_t)0));
    FN_TRY(fn_launch(dev, kp, 1, &global, &wp));
    FN_TRY(fn_kernel_args(kf, FN_ARG(ng), FN_ARG(part), FN_ARG(out), (size_t)0));
    return fn_launch(dev, kf, 1, &wf, &wf);
}

/* Each tensor gets at most this many work-groups: a few dozen tensors of a
 * model then need a few thousand partial pairs, which reduce_final's single
 * work-group folds in a few strided passes. Each work-item takes at least
 * SUMSQ_PER_ITEM values: a work-group's tree and barriers cost more than
 * its loads on a CPU device (POCL), where one group per 4,096 values made
 * the clip of LeNet-5 cost 10 times its SGD update. */
#define SUMSQ_GROUPS 64
#define SUMSQ_PER_ITEM 16

fn_status fn_reduce_sumsq(fn_device *dev, cl_mem out, const cl_mem *xs, const size_t *ns, int count)
{
    if (count < 0) return fn_error(FN_ERR_ARG, "reduce_sumsq: negative count %d", count);
    cl_kernel kp, kf;
    FN_TRY(fn_kernel_get(dev, "reduce", "sumsq_partial", &kp));
    FN_TRY(fn_kernel_get(dev, "reduce", "reduce_final", &kf));
    size_t wp, wf;
    FN_TRY(group_size(dev, kp, &wp));
    FN_TRY(group_size(dev, kf, &wf));
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        if (ns[i] > (size_t)INT32_MAX)
            return fn_error(FN_ERR_ARG, "reduce_sumsq: tensor %d has %zu values (at most %d)", i,
                            ns[i], INT32_MAX);
        size_t g = (ns[i] + wp * SUMSQ_PER_ITEM - 1) / (wp * SUMSQ_PER_ITEM);
        total += g < SUMSQ_GROUPS ? g : SUMSQ_GROUPS;
    }
    if (total == 0) return fn_buffer_fill(dev, out, 0, 2 * sizeof(float), 0.0f);
    if (total > (size_t)INT32_MAX / 2)
        return fn_error(FN_ERR_ARG, "reduce_sumsq: %d tensors are too many", count);
    cl_mem part;
    FN_TRY(fn_scratch(dev, 0, 2 * total * sizeof(float), &part));
    int first = 0;
    for (int i = 0; i < count; i++) {
        if (ns[i] == 0) continue;
        size_t groups = (ns[i] + wp * SUMSQ_PER_ITEM - 1) / (wp * SUMSQ_PER_ITEM);
        if (groups > SUMSQ_GROUPS) groups = SUMSQ_GROUPS;
        int n = (int)ns[i];
        size_t global = groups * wp;
        FN_TRY(
            fn_kernel_args(kp, FN_ARG(n), FN_ARG(xs[i]), FN_ARG(part), FN_ARG(first), (size_t)0));
        FN_TRY(fn_launch(dev, kp, 1, &global, &wp));
        first += (int)groups;
    }
    FN_TRY(fn_kernel_args(kf, FN_ARG(first), FN_ARG(part), FN_ARG(out), (size_t)0));
    return fn_launch(dev, kf, 1, &wf, &wf);
}
