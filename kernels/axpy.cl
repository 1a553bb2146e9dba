/* y = alpha * x + y over n floats: the simplest kernel, used by the optimizer
 * and as the runtime's smoke test.
 *
 * On a GPU: axpy, scale: a work-item owns one float of y (x); work-groups of
 * 64 consecutive floats (fn_launch1). CPUs (dev->long_runs) take the _runs
 * twins at the end. */
__kernel void axpy(const int n, const float alpha, __global const float *x, __global float *y)
{
    const int i = get_global_id(0);
    if (i < n)
        y[i] += alpha * x[i];
}

/* x = alpha * x */
__kernel void scale(const int n, const float alpha, __global float *x)
{
    const int i = get_global_id(0);
    if (i < n)
        x[i] *= alpha;
}

/* CPUs (dev->long_runs): the same two over runs of up to 4096 floats per
 * work-item in float16 vectors (fn_launch_runs, one plane of n floats), the
 * same arithmetic per float. One float per work-item costs POCL a work-group
 * per 64 floats, which made axpy (the residual gradients' sums) 2% of a
 * ResNet-18 training step. */
__kernel void axpy_runs(const int n, const int run, const float alpha, __global const float *x,
                        __global float *y)
{
    const int i0 = get_global_id(0) * run, i1 = min(n, i0 + run);
    if (i0 >= n)
        return;
    int i = i0;
    for (; i + 16 <= i1; i += 16)
        vstore16(vload16(0, y + i) + alpha * vload16(0, x + i), 0, y + i);
    for (; i < i1; i++)
        y[i] += alpha * x[i];
}

__kernel void scale_runs(const int n, const int run, const float alpha, __global float *x)
{
    const int i0 = get_global_id(0) * run, i1 = min(n, i0 + run);
    if (i0 >= n)
        return;
    int i = i0;
    for (; i + 16 <= i1; i += 16)
        vstore16(alpha * vload16(0, x + i), 0, x + i);
    for (; i < i1; i++)
        x[i] *= alpha;
}
