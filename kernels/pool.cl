/* Max, average and global average pooling over (N, C, H, W), square windows,
 * PyTorch's floor output size. Backward kernels run one work-item per INPUT
 * element and gather from the windows that contain it: windows overlap (3x3
 * stride 2), so scattering from outputs would race. */

/* The window rows (or columns) oh that contain input row ih: those with
 * oh * stride - pad <= ih <= oh * stride - pad + k - 1, clamped to [0, OH). */
inline int window_lo(const int i, const int k, const int stride, const int pad)
{
    const int t = i + pad - k + 1;
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}

inline int window_hi(const int i, const int stride, const int pad, const int out)
{
    return min((i + pad) / stride, out - 1);
}

/* One work-item per output; ties keep the first element in row-major order,
 * the first NaN wins (NaN propagates, as in PyTorch). Padding never takes part. */
inline void maxpool_one(__global float *y, __global int *argmax, __global const float *x,
                        const int nc_total, const int h, const int w, const int oh, const int ow,
                        const int k, const int stride, const int pad, const int write_argmax)
{
    const int o = get_global_id(0);
    if (o >= nc_total * oh * ow)
        return;
    const int ox = o % ow;
    const int oy = (o / ow) % oh;
    const int nc = o / (ow * oh);
    __global const float *plane = x + (size_t)nc * h * w;
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ya = max(y0, 0), yb = min(y0 + k, h);
    const int xa = max(x0, 0), xb = min(x0 + k, w);
    int best_i = ya * w + xa;
    float best = plane[best_i];
    for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++) {
            const float v = plane[iy * w + ix];
            if (v > best || (isnan(v) && !isnan(best))) {
                best = v;
                best_i = iy * w + ix;
            }
        }
    y[o] = best;
    if (write_argmax)
        argmax[o] = best_i;
}

__kernel void maxpool_forward(__global float *y, __global const float *x, const int nc_total,
                              const int h, const int w, const int oh, const int ow, const int k,
                              const int stride, const int pad)
{
    maxpool_one(y, 0, x, nc_total, h, w, oh, ow, k, stride, pad, 0);
}

__kernel void maxpool_forward_argmax(__global float *y, __global int *argmax,
                                     __global const float *x, const int nc_total, const int h,
                                     const int w, const int oh, const int ow, const int k,
                                     const int stride, const int pad)
{
    maxpool_one(y, argmax, x, nc_total, h, w, oh, ow, k, stride, pad, 1);
}

/* dx (N, C, H, W) = sum of dy over the windows whose argmax is this element. */
__kernel void maxpool_backward(__global float *dx, __global const float *dy,
                               __global const int *argmax, const int nc_total, const int h,
                               const int w, const int oh, const int ow, const int k,
                               const int stride, const int pad)
{
    const int i = get_global_id(0);
    if (i >= nc_total * h * w)
        return;
    const int ix = i % w;
    const int iy = (i / w) % h;
    const int nc = i / (w * h);
    const int self = iy * w + ix;
    const size_t base = (size_t)nc * oh * ow;
    float g = 0.0f;
    const int ya = window_lo(iy, k, stride, pad), yb = window_hi(iy, stride, pad, oh);
    const int xa = window_lo(ix, k, stride, pad), xb = window_hi(ix, stride, pad, ow);
    for (int oy = ya; oy <= yb; oy++)
        for (int ox = xa; ox <= xb; ox++) {
            const size_t o = base + oy * ow + ox;
            if (argmax[o] == self)
                g += dy[o];
        }
    dx[i] = g;
}

/* The divisor is always k*k: with the floor output size no window reaches
 * past the padding, and padding counts (count_include_pad). */
__kernel void avgpool_forward(__global float *y, __global const float *x, const int nc_total,
                              const int h, const int w, const int oh, const int ow, const int k,
                              const int stride, const int pad)
{
    const int o = get_global_id(0);
    if (o >= nc_total * oh * ow)
        return;
    const int ox = o % ow;
    const int oy = (o / ow) % oh;
    const int nc = o / (ow * oh);
    __global const float *plane = x + (size_t)nc * h * w;
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ya = max(y0, 0), yb = min(y0 + k, h);
    const int xa = max(x0, 0), xb = min(x0 + k, w);
    float s = 0.0f;
    for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++)
            s += plane[iy * w + ix];
    y[o] = s / (float)(k * k);
}

__kernel void avgpool_backward(__global float *dx, __global const float *dy, const int nc_total,
                               const int h, const int w, const int oh, const int ow, const int k,
                               const int stride, const int pad)
{
    const int i = get_global_id(0);
    if (i >= nc_total * h * w)
        return;
    const int ix = i % w;
    const int iy = (i / w) % h;
    const int nc = i / (w * h);
    __global const float *g = dy + (size_t)nc * oh * ow;
    float s = 0.0f;
    const int ya = window_lo(iy, k, stride, pad), yb = window_hi(iy, stride, pad, oh);
    const int xa = window_lo(ix, k, stride, pad), xb = window_hi(ix, stride, pad, ow);
    for (int oy = ya; oy <= yb; oy++)
        for (int ox = xa; ox <= xb; ox++)
            s += g[oy * ow + ox];
    dx[i] = s / (float)(k * k);
}

/* y (N*C) = mean of each x plane (N*C, HW); one work-item per plane. */
__kernel void gap_forward(__global float *y, __global const float *x, const int nc_total,
                          const int hw)
{
    const int p = get_global_id(0);
    if (p >= nc_total)
        return;
    __global const float *plane = x + (size_t)p * hw;
    float s = 0.0f;
    for (int i = 0; i < hw; i++)
        s += plane[i];
    y[p] = s / (float)hw;
}

__kernel void gap_backward(__global float *dx, __global const float *dy, const int nc_total,
                           const int hw)
{
    const int i = get_global_id(0);
    if (i >= nc_total * hw)
        return;
    dx[i] = dy[i / hw] / (float)hw;
}
