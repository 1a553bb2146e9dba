/* Max, average and global average pooling. No scratch buffers. */
#include "ops.h"

int fn_pool_out_h(const fn_pool_shape *s)
{
    return (s->h + 2 * s->pad - s->k) / s->stride + 1;
}

int fn_pool_out_w(const fn_pool_shape *s)
{
    return (s->w + 2 * s->pad - s->k) / s->stride + 1;
}

/* PyTorch's limits: with pad <= k/2 every window holds at least one real
 * element, which max pooling relies on. */
static fn_status check_shape(const fn_pool_shape *s)
{
    if (s->n < 0 || s->c < 0 || s->h < 1 || s->w < 1 || s->k < 1 || s->stride < 1 || s->pad < 0 ||
        s->pad > s->k / 2)
        return fn_error(FN_ERR_ARG, "pool: bad shape n=%d c=%d h=%d w=%d k=%d stride=%d pad=%d",
                        s->n, s->c, s->h, s->w, s->k, s->stride, s->pad);
    if (s->h + 2 * s->pad < s->k || s->w + 2 * s->pad < s->k)
        return fn_error(FN_ERR_ARG, "pool: window %d larger than padded input %dx%d", s->k,
                        s->h + 2 * s->pad, s->w + 2 * s->pad);
    return FN_OK;
}

/* Windowed kernels: one work-item per row of one plane. */
static fn_status launch_rows(fn_device *dev, cl_kernel k, int rows, int planes)
{
    size_t global[2] = {(size_t)rows, (size_t)planes};
    return fn_launch_auto(dev, k, 2, global);
}

/* The argument list every windowed pooling kernel ends with. */
#define POOL_ARGS(nc, s, oh, ow)                                                                   \
    FN_ARG(nc), FN_ARG((s)->h), FN_ARG((s)->w), FN_ARG(oh), FN_ARG(ow), FN_ARG((s)->k),            \
        FN_ARG((s)->stride), FN_ARG((s)->pad), (size_t)0

fn_status fn_maxpool_forward(fn_device *dev, cl_mem y, cl_mem argmax, cl_mem x,
                             const fn_pool_shape *s)
{
    FN_TRY(check_shape(s));
    int nc = s->n * s->c, oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    cl_kernel k;
    cl_uint last;
    if (argmax) {
        FN_TRY(fn_kernel_get(dev, "pool", "maxpool_forward_argmax", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(argmax), FN_ARG(x), POOL_ARGS(nc, s, oh, ow)));
        last = 11;
    } else {
        FN_TRY(fn_kernel_get(dev, "pool", "maxpool_forward", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(x), POOL_ARGS(nc, s, oh, ow)));
        last = 10;
    }
    /* CPUs: whole planes per item, about 256 outputs, while every core gets
     * 8 items; GPUs: a row per item. */
    int ppi = dev->long_runs ? fn_planes_per_item(dev, nc, oh * ow) : 1;
    FN_CL(clSetKernelArg(k, last, sizeof ppi, &ppi));
    return launch_rows(dev, k, dev->long_runs ? 1 : oh, (nc + ppi - 1) / ppi);
}

fn_status fn_maxpool_backward(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem argmax,
                              const fn_pool_shape *s)
{
    if (!dx) return FN_OK;
    FN_TRY(check_shape(s));
    if (!argmax)
        return fn_error(FN_ERR_ARG, "maxpool backward needs the argmax of the forward pass");
    int nc = s->n * s->c, oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    cl_kernel k;
    if (dev->long_runs) { /* CPUs: a plane per work-item */
        FN_TRY(fn_kernel_get(dev, "pool", "maxpool_backward_plane", &k));
        FN_TRY(fn_kernel_args(k, FN_ARG(dx), FN_ARG(dy), FN_ARG(argmax), POOL_ARGS(nc, s, oh, ow)));
        return launch_rows(dev, k, nc, 1);
    }
    FN_TRY(fn_kernel_get(dev, "pool", "maxpool_backward", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(dx), FN_ARG(dy), FN_ARG(argmax), POOL_ARGS(nc, s, oh, ow)));
    return launch_rows(dev, k, s->h, nc);
}

fn_status fn_avgpool_forward(fn_device *dev, cl_mem y, cl_mem x, const fn_pool_shape *s)
{
    FN_TRY(check_shape(s));
    int nc = s->n * s->c, oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "pool", "avgpool_forward", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(x), POOL_ARGS(nc, s, oh, ow)));
    return launch_rows(dev, k, oh, nc);
}

fn_status fn_avgpool_backward(fn_device *dev, cl_mem dx, cl_mem dy, const fn_pool_shape *s)
{
    if (!dx) return FN_OK;
    FN_TRY(check_shape(s));
    int nc = s->n * s->c, oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "pool", "avgpool_backward", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(dx), FN_ARG(dy), POOL_ARGS(nc, s, oh, ow)));
    return launch_rows(dev, k, s->h, nc);
}

fn_status fn_gap_forward(fn_device *dev, cl_mem y, cl_mem x, int n, int c, int hw)
{
    if (n < 0 || c < 0 || hw < 1)
        return fn_error(FN_ERR_ARG, "gap: bad shape n=%d c=%d hw=%d", n, c, hw);
    int nc = n * c;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "pool", "gap_forward", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(y), FN_ARG(x), FN_ARG(nc), FN_ARG(hw), (size_t)0));
    return fn_launch1(dev, k, (size_t)nc);
}

fn_status fn_gap_backward(fn_device *dev, cl_mem dx, cl_mem dy, int n, int c, int hw)
{
    if (!dx) return FN_OK;
    if (n < 0 || c < 0 || hw < 1)
        return fn_error(FN_ERR_ARG, "gap: bad shape n=%d c=%d hw=%d", n, c, hw);
    int nc = n * c;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "pool", "gap_backward", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(dx), FN_ARG(dy), FN_ARG(nc), FN_ARG(hw), (size_t)0));
    return launch_rows(dev, k, 1, nc);
}
