/* y = alpha * x + y over n floats: the simplest kernel, used by the optimizer
 * and as the runtime's smoke test.
 *
 * On a GPU: axpy, scale: a work-item owns one float of y (x); work-groups of
 * 64 consecutive floats (fn_launch1). */
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
