/* y = a + b over n floats; each item reads before it writes its own element,
 * so y may alias a or b. */
__kernel void add(const int n, __global float *y, __global const float *a, __global const float *b)
{
    const int i = get_global_id(0);
    if (i < n) y[i] = a[i] + b[i];
}
