/* The element-wise parts of a fully connected layer; the products are CLBlast
 * GEMMs (lib/ops/linear.c).
 *
 * On a GPU: bias_add: a work-item owns one float of y (N, OUT), groups of 64
 * consecutive floats; bias_grad: a work-item owns one output feature's db,
 * summing its column of dy over the batch; groups of 64 consecutive features,
 * so the group reads 64 consecutive floats of each row (fn_launch1). The
 * products are CLBlast's (or our GEMM's on CPUs). */

/* y (N, OUT) += b (OUT) on every row. */
__kernel void bias_add(__global float *y, __global const float *b, const int n, const int out)
{
    const int i = get_global_id(0);
    if (i < n * out)
        y[i] += b[i % out];
}

/* db (OUT) += column sums of dy (N, OUT); one work-item per column, so rows
 * add in a fixed order and nothing races. */
__kernel void bias_grad(__global float *db, __global const float *dy, const int n, const int out)
{
    const int j = get_global_id(0);
    if (j >= out)
        return;
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += dy[(size_t)i * out + j];
    db[j] += s;
}
