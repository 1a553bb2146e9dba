/* y = a + b over n floats; each item reads before it writes its own element,
 * so y may alias a or b.
 *
 * On a GPU: add: a work-item owns one float of y; work-groups of 64
 * (fn_launch1), so a group reads and writes 256 consecutive bytes of each
 * buffer. */
__kernel void add(const int n, __global float *y, __global const float *a, __global const float *b)
{
    const int i = get_global_id(0);
    if (i < n) y[i] = a[i] + b[i];
}

/* CPUs (dev->long_runs): y = a + b over runs of up to 4096 floats per
 * work-item in float16 vectors (fn_launch_runs, one plane of n floats): one
 * float per work-item costs POCL a work-group per 64 floats. Each vector is
 * read before it is written, so y may still alias a or b. */
__kernel void add_runs(const int n, const int run, __global float *y, __global const float *a,
                       __global const float *b)
{
    const int i0 = get_global_id(0) * run, i1 = min(n, i0 + run);
    if (i0 >= n)
        return;
    int i = i0;
    for (; i + 16 <= i1; i += 16)
        vstore16(vload16(0, a + i) + vload16(0, b + i), 0, y + i);
    for (; i < i1; i++)
        y[i] = a[i] + b[i];
}
