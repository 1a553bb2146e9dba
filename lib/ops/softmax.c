/* Softmax and log-softmax over rows: one work-group per row, local-memory
 * reductions (kernels/softmax.cl). No scratch buffers. */
#include "ops.h"

/* Work-group size for a row of cols: the largest power of two that is at most
 * cols, 256 and what the kernel and device allow, so small rows do not idle
 * most of a group. */
static fn_status group_size(fn_device *dev, cl_kernel k, int cols, size_t *out)
{
    size_t cap = 256, kmax = 0;
    FN_CL(clGetKernelWorkGroupInfo(k, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                                   NULL));
    if (kmax && kmax < cap) cap = kmax;
    if (dev->info.max_work_group && dev->info.max_work_group < cap) cap = dev->info.max_work_group;
    /* On GPUs at least 32 items (one unit; lanes past cols idle, as the
     * unit's other lanes would anyway). */
    size_t l = 1;
    if (!dev->long_runs)
        while (l * 2 <= cap && l < 32)
            l *= 2;
    while (l * 2 <= cap && l * 2 <= (size_t)cols)
        l *= 2;
    *out = l;
    return FN_OK;
}

/* Sets the local-memory argument at index arg and launches one group per row. */
static fn_status launch_rows(fn_device *dev, cl_kernel k, cl_uint arg, int rows, int cols)
{
    size_t local;
    FN_TRY(group_size(dev, k, cols, &local));
    FN_CL(clSetKernelArg(k, arg, local * sizeof(float), NULL));
    size_t global = (size_t)rows * local;
    return fn_launch(dev, k, 1, &global, &local);
}

static fn_status check_sizes(int rows, int cols)
{
    if (rows < 0 || cols < 1)
        return fn_error(FN_ERR_ARG, "softmax: bad sizes rows=%d cols=%d", rows, cols);
    return FN_OK;
}

static fn_status forward(fn_device *dev, const char *name, cl_mem y, cl_mem x, int rows, int cols)
{
    FN_TRY(check_sizes(rows, cols));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "softmax", name, &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(x), FN_ARG(rows), FN_ARG(cols), (size_t)0));
    return launch_rows(dev, k, 4, rows, cols);
}

static fn_status backward(fn_device *dev, const char *name, cl_mem dx, cl_mem dy, cl_mem y,
                          int rows, int cols)
{
    if (!dx) return FN_OK;
    FN_TRY(check_sizes(rows, cols));
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "softmax", name, &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(dx), FN_ARG(dy), FN_ARG(y), FN_ARG(rows), FN_ARG(cols),
                          (size_t)0));
    return launch_rows(dev, k, 5, rows, cols);
}

fn_status fn_softmax_forward(fn_device *dev, cl_mem y, cl_mem x, int rows, int cols)
{
    return forward(dev, "softmax_forward", y, x, rows, cols);
}

fn_status fn_log_softmax_forward(fn_device *dev, cl_mem y, cl_mem x, int rows, int cols)
{
    return forward(dev, "log_softmax_forward", y, x, rows, cols);
}

fn_status fn_softmax_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int rows, int cols)
{
    return backward(dev, "softmax_backward", dx, dy, y, rows, cols);
}

fn_status fn_log_softmax_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int rows,
                                  int cols)
{
    return backward(dev, "log_softmax_backward", dx, dy, y, rows, cols);
}
