/* Max, average and global average pooling over (N, C, H, W), square windows,
 * PyTorch's floor output size. Backward kernels gather into the rows of the
 * INPUT they own: windows overlap (3x3 stride 2), so scattering from
 * outputs in parallel would race.
 *
 * On a GPU: maxpool_forward(_argmax), avgpool_*, maxpool_backward: a work-
 * item owns one row of one output (backward: input) plane, launched over
 * (rows, planes) with groups of about 64 (fn_launch_auto: all rows of a
 * plane, then further planes); neighbouring items work on neighbouring rows.
 * maxpool_backward_plane is the CPU form (a plane per item). gap_forward: a
 * work-item owns a plane's mean, groups of 64 (fn_launch1); gap_backward: a
 * plane of dx, groups of about 64 planes. */

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

/* Windowed kernels are launched over (rows, planes): a work-item handles one
 * output row (forward) or one input row (backward) of one (n, c) plane, so
 * nothing divides a flat index. */

/* Ties keep the first element in row-major order, the first NaN wins (NaN
 * propagates, as in PyTorch). Padding never takes part. */
inline int pool_wins(const float v, const float best)
{
    return v > best || (isnan(v) && !isnan(best));
}

/* The same rule on 16 lanes: where v wins over best, best and its index move. */
inline void pool_wins16(const float16 v, const int16 vi, float16 *best, int16 *bi)
{
    const int16 win = isgreater(v, *best) | (isnan(v) & ~isnan(*best));
    *best = select(*best, v, win);
    *bi = select(*bi, vi, win);
}

inline void maxpool_one_row(__global float *y, __global int *argmax, __global const float *x,
                            const int nc, const int h, const int w, const int oh, const int ow,
                            const int k, const int stride, const int pad, const int write_argmax,
                            const int oy)
{
    __global const float *plane = x + (size_t)nc * h * w;
    const size_t o0 = ((size_t)nc * oh + oy) * ow;
    int ox = 0;
    if (k == 2 && stride == 2 && pad == 0) {
        /* 16 windows at a time from two rows of 32 inputs, while those stay
         * inside the plane. */
        const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        __global const float *r0 = plane + 2 * oy * w, *r1 = r0 + w;
        for (; ox < ow && (2 * oy + 1) * w + 2 * ox + 32 <= h * w; ox += 16) {
            const float16 a0 = vload16(0, r0 + 2 * ox), a1 = vload16(0, r0 + 2 * ox + 16);
            const float16 b0 = vload16(0, r1 + 2 * ox), b1 = vload16(0, r1 + 2 * ox + 16);
            const int16 i00 = 2 * oy * w + 2 * (ox + lane);
            float16 best = (float16)(a0.even, a1.even);
            int16 bi = i00;
            pool_wins16((float16)(a0.odd, a1.odd), i00 + 1, &best, &bi);
            pool_wins16((float16)(b0.even, b1.even), i00 + w, &best, &bi);
            pool_wins16((float16)(b0.odd, b1.odd), i00 + w + 1, &best, &bi);
            float t[16];
            int ti[16];
            vstore16(best, 0, t);
            vstore16(bi, 0, ti);
            for (int l = 0; l < 16 && ox + l < ow; l++) {
                y[o0 + ox + l] = t[l];
                if (write_argmax)
                    argmax[o0 + ox + l] = ti[l];
            }
        }
    }
    const int y0 = oy * stride - pad;
    const int ya = max(y0, 0), yb = min(y0 + k, h);
    for (; ox < ow; ox++) {
        const int x0 = ox * stride - pad;
        const int xa = max(x0, 0), xb = min(x0 + k, w);
        int best_i = ya * w + xa;
        float best = plane[best_i];
        for (int iy = ya; iy < yb; iy++)
            for (int ix = xa; ix < xb; ix++) {
                const float v = plane[iy * w + ix];
                if (pool_wins(v, best)) {
                    best = v;
                    best_i = iy * w + ix;
                }
            }
        y[o0 + ox] = best;
        if (write_argmax)
            argmax[o0 + ox] = best_i;
    }
}

/* ppi planes from get_global_id(1) * ppi: 1 on GPUs; on CPUs small planes
 * share a work-item (LeNet-5's second pooling: 25 outputs a plane, 2048
 * planes at batch 128, each its own work-group before). */
inline void maxpool_row(__global float *y, __global int *argmax, __global const float *x,
                        const int nc_total, const int h, const int w, const int oh, const int ow,
                        const int k, const int stride, const int pad, const int write_argmax,
                        const int ppi)
{
    const int nc0 = get_global_id(1) * ppi, nc1 = min(nc_total, nc0 + ppi);
    for (int nc = nc0; nc < nc1; nc++)
        /* Rows oy, oy + items, ...: one item per row on GPUs, per plane on CPUs. */
        for (int oy = get_global_id(0); oy < oh; oy += get_global_size(0))
            maxpool_one_row(y, argmax, x, nc, h, w, oh, ow, k, stride, pad, write_argmax, oy);
}

__kernel void maxpool_forward(__global float *y, __global const float *x, const int nc_total,
                              const int h, const int w, const int oh, const int ow, const int k,
                              const int stride, const int pad, const int ppi)
{
    maxpool_row(y, 0, x, nc_total, h, w, oh, ow, k, stride, pad, 0, ppi);
}

__kernel void maxpool_forward_argmax(__global float *y, __global int *argmax,
                                     __global const float *x, const int nc_total, const int h,
                                     const int w, const int oh, const int ow, const int k,
                                     const int stride, const int pad, const int ppi)
{
    maxpool_row(y, argmax, x, nc_total, h, w, oh, ow, k, stride, pad, 1, ppi);
}

/* dx (N, C, H, W) = sum of dy over the windows whose argmax is this element.
 * Row iy of dx gathers from the window rows that cover it, in order, so dx
 * is overwritten and windows that overlap never race. */
__kernel void maxpool_backward(__global float *dx, __global const float *dy,
                               __global const int *argmax, const int nc_total, const int h,
                               const int w, const int oh, const int ow, const int k,
                               const int stride, const int pad)
{
    const int iy = get_global_id(0), nc = get_global_id(1);
    if (iy >= h || nc >= nc_total)
        return;
    __global float *row = dx + ((size_t)nc * h + iy) * w;
    for (int ix = 0; ix < w; ix++)
        row[ix] = 0.0f;
    const int lo = iy * w, hi = lo + w;
    const int ya = window_lo(iy, k, stride, pad), yb = window_hi(iy, stride, pad, oh);
    for (int oy = ya; oy <= yb; oy++) {
        const size_t o0 = ((size_t)nc * oh + oy) * ow;
        for (int ox = 0; ox < ow; ox++) {
            const int a = argmax[o0 + ox];
            if (a >= lo && a < hi)
                row[a - lo] += dy[o0 + ox];
        }
    }
}

/* The same, one plane per work-item (CPUs: fewer, longer items): clear the
 * plane, then add each output's gradient at its argmax, in output order
 * (the order the row version sums in). Launched over planes. */
__kernel void maxpool_backward_plane(__global float *dx, __global const float *dy,
                                     __global const int *argmax, const int nc_total, const int h,
                                     const int w, const int oh, const int ow, const int k,
                                     const int stride, const int pad)
{
    const int nc = get_global_id(0);
    if (nc >= nc_total)
        return;
    __global float *plane = dx + (size_t)nc * h * w;
    const int hw = h * w, q = oh * ow;
    int i = 0;
    for (; i + 16 <= hw; i += 16)
        vstore16((float16)0.0f, 0, plane + i);
    for (; i < hw; i++)
        plane[i] = 0.0f;
    __global const float *g = dy + (size_t)nc * q;
    __global const int *a = argmax + (size_t)nc * q;
    for (int o = 0; o < q; o++)
        plane[a[o]] += g[o];
}

/* The divisor is always k*k: with the floor output size no window reaches
 * past the padding, and padding counts (count_include_pad). */
__kernel void avgpool_forward(__global float *y, __global const float *x, const int nc_total,
                              const int h, const int w, const int oh, const int ow, const int k,
                              const int stride, const int pad)
{
    const int oy = get_global_id(0), nc = get_global_id(1);
    if (oy >= oh || nc >= nc_total)
        return;
    __global const float *plane = x + (size_t)nc * h * w;
    const int y0 = oy * stride - pad;
    const int ya = max(y0, 0), yb = min(y0 + k, h);
    for (int ox = 0; ox < ow; ox++) {
        const int x0 = ox * stride - pad;
        const int xa = max(x0, 0), xb = min(x0 + k, w);
        float s = 0.0f;
        for (int iy = ya; iy < yb; iy++)
            for (int ix = xa; ix < xb; ix++)
                s += plane[iy * w + ix];
        y[((size_t)nc * oh + oy) * ow + ox] = s / (float)(k * k);
    }
}

__kernel void avgpool_backward(__global float *dx, __global const float *dy, const int nc_total,
                               const int h, const int w, const int oh, const int ow, const int k,
                               const int stride, const int pad)
{
    const int iy = get_global_id(0), nc = get_global_id(1);
    if (iy >= h || nc >= nc_total)
        return;
    __global const float *g = dy + (size_t)nc * oh * ow;
    const int ya = window_lo(iy, k, stride, pad), yb = window_hi(iy, stride, pad, oh);
    for (int ix = 0; ix < w; ix++) {
        const int xa = window_lo(ix, k, stride, pad), xb = window_hi(ix, stride, pad, ow);
        float s = 0.0f;
        for (int oy = ya; oy <= yb; oy++)
            for (int ox = xa; ox <= xb; ox++)
                s += g[oy * ow + ox];
        dx[((size_t)nc * h + iy) * w + ix] = s / (float)(k * k);
    }
}

/* y (N*C) = mean of each x plane (N*C, HW); one work-item per plane. */
__kernel void gap_forward(__global float *y, __global const float *x, const int nc_total,
                          const int hw)
{
    const int p = get_global_id(0);
    if (p >= nc_total)
        return;
    __global const float *plane = x + (size_t)p * hw;
    float16 v = (float16)0.0f;
    int i = 0;
    for (; i + 16 <= hw; i += 16)
        v += vload16(0, plane + i);
    float s = 0.0f;
    for (; i < hw; i++)
        s += plane[i];
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    y[p] = (c.x + c.y + s) / (float)hw;
}

/* dx (N*C, HW) = dy / HW spread over each plane; launched over (1, planes). */
__kernel void gap_backward(__global float *dx, __global const float *dy, const int nc_total,
                           const int hw)
{
    const int p = get_global_id(1);
    if (get_global_id(0) > 0 || p >= nc_total)
        return;
    const float g = dy[p] / (float)hw;
    __global float *plane = dx + (size_t)p * hw;
    int i = 0;
    for (; i + 16 <= hw; i += 16)
        vstore16((float16)g, 0, plane + i);
    for (; i < hw; i++)
        plane[i] = g;
}
