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
