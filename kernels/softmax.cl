/* Softmax and log-softmax over the last axis of (rows, cols). One work-group
 * per row: each work-item strides over the columns, then the group reduces in
 * local memory (red, one float per work-item). This is correct for any cols
 * and any work-group size; the host picks a power of two no larger than cols.
 *
 * On a GPU: a work-group owns one row, at least 32 work-items on GPUs (the
 * columns of a 10-class row leave the rest idle rather than a 32-wide unit
 * running 8 lanes), a power of two up to 256 and the kernel's limit; work-
 * item j reads columns j, j + size, ..., so neighbours read neighbouring
 * floats. Local memory: one float per work-item. */

/* Tree reduction over the work-group; safe for sizes that are not powers of
 * two. Every work-item gets the result. */
inline float group_reduce(__local float *red, float v, const int is_max)
{
    const int lid = get_local_id(0), lsz = get_local_size(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    int step = 1;
    while (step < lsz)
        step <<= 1;
    for (step >>= 1; step > 0; step >>= 1) {
        if (lid < step && lid + step < lsz)
            red[lid] = is_max ? fmax(red[lid], red[lid + step]) : red[lid] + red[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* red is reused by the next reduction */
    return r;
}

/* The row max and sum of exp(x - max): subtracting the max keeps exp <= 1, so
 * logits of any magnitude give no overflow. */
inline void row_stats(__global const float *xr, const int cols, __local float *red, float *m,
                      float *s)
{
    const int lid = get_local_id(0), lsz = get_local_size(0);
    float v = -INFINITY;
    for (int j = lid; j < cols; j += lsz)
        v = fmax(v, xr[j]);
    *m = group_reduce(red, v, 1);
    float t = 0.0f;
    for (int j = lid; j < cols; j += lsz)
        t += exp(xr[j] - *m);
    *s = group_reduce(red, t, 0);
}

__kernel void softmax_forward(__global float *y, __global const float *x, const int rows,
                              const int cols, __local float *red)
{
    const int row = get_group_id(0);
    if (row >= rows) /* the whole group leaves together */
        return;
    __global const float *xr = x + (size_t)row * cols;
    __global float *yr = y + (size_t)row * cols;
    float m, s;
    row_stats(xr, cols, red, &m, &s);
    const float inv = 1.0f / s;
    for (int j = get_local_id(0); j < cols; j += get_local_size(0))
        yr[j] = exp(xr[j] - m) * inv;
}

__kernel void log_softmax_forward(__global float *y, __global const float *x, const int rows,
                                  const int cols, __local float *red)
{
    const int row = get_group_id(0);
    if (row >= rows)
        return;
    __global const float *xr = x + (size_t)row * cols;
    __global float *yr = y + (size_t)row * cols;
    float m, s;
    row_stats(xr, cols, red, &m, &s);
    /* (x - m) first: for logits near 1e4, m + log(s) would round log(s) away. */
    const float logs = log(s);
    for (int j = get_local_id(0); j < cols; j += get_local_size(0))
        yr[j] = (xr[j] - m) - logs;
}

/* dx = y * (dy - sum(dy * y)), y the softmax output. */
__kernel void softmax_backward(__global float *dx, __global const float *dy,
                               __global const float *y, const int rows, const int cols,
                               __local float *red)
{
    const int row = get_group_id(0);
    if (row >= rows)
        return;
    const int lid = get_local_id(0), lsz = get_local_size(0);
    const size_t base = (size_t)row * cols;
    float t = 0.0f;
    for (int j = lid; j < cols; j += lsz)
        t += dy[base + j] * y[base + j];
    const float dot = group_reduce(red, t, 0);
    for (int j = lid; j < cols; j += lsz)
        dx[base + j] = y[base + j] * (dy[base + j] - dot);
}

/* dx = dy - exp(y) * sum(dy), y the log-softmax output. */
__kernel void log_softmax_backward(__global float *dx, __global const float *dy,
                                   __global const float *y, const int rows, const int cols,
                                   __local float *red)
{
    const int row = get_group_id(0);
    if (row >= rows)
        return;
    const int lid = get_local_id(0), lsz = get_local_size(0);
    const size_t base = (size_t)row * cols;
    float t = 0.0f;
    for (int j = lid; j < cols; j += lsz)
        t += dy[base + j];
    const float sum = group_reduce(red, t, 0);
    for (int j = lid; j < cols; j += lsz)
        dx[base + j] = dy[base + j] - exp(y[base + j]) * sum;
}
