/* Depthwise 2-D convolution (groups == C == OC; lib/ops/conv_depthwise.c):
 * direct kernels on padded planes, where a GEMM would be a batch of 1-row
 * products. The padded planes come from conv_pad (kernels/conv.cl) or are
 * filled into local memory here (fill_padded).
 *
 * On a GPU: conv_dw_correlate: a work-item owns 16 consecutive outputs of one
 * plane (one float16), launched over (segments, planes) with groups of about
 * 64 items (fn_launch_auto), so a group covers 1024 consecutive outputs of a
 * plane (or several planes). conv_dw_dw: a work-item owns one tap of one
 * plane's weight-gradient partial sum, over (taps, planes), groups of about
 * 64 (e.g. 9 taps x 7 planes). conv_dw_dw_sum: one weight, groups of 64.
 * conv_dw_plane and conv_dw_plane_dw are the CPU forms: one item per plane,
 * its padded copy in local memory; they are never launched on a GPU
 * (dev->long_runs == 0), which keeps local memory off the GPU path. */

static inline int segment_lanes(const int q0, const int Q, const int OW, const int stride,
                                const int Wp, int *offs)
{
    const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;
    if (q0 + 16 <= Q && stride <= 2 &&
        ((OW >= 16 && ow0 + 16 <= OW) || ((OW == 8 || OW == 4) && ow0 == 0)))
        return 0;
    for (int l = 0; l < 16; l++) {
        const int q = min(q0 + l, Q - 1), oh = q / OW;
        offs[l] = oh * stride * Wp + (q - oh * OW) * stride;
    }
    return 1;
}

/* 16 consecutive values of p from q0, zeros past Q (the tail of a plane). */
static inline float16 load16_tail(__global const float *p, const int q0, const int Q)
{
    if (q0 + 16 <= Q)
        return vload16(0, p + q0);
    float t[16];
    for (int l = 0; l < 16; l++)
        t[l] = q0 + l < Q ? p[q0 + l] : 0.0f;
    return vload16(0, t);
}

/* The sum of a vector's 16 lanes, pairwise. */
static inline float sum16(const float16 v)
{
    const float8 h = v.lo + v.hi;
    const float4 f = h.lo + h.hi;
    const float2 d = f.lo + f.hi;
    return d.x + d.y;
}

/* TAP16(AS) defines tap16_AS: the 16 values that tap (kh, kw) of a
 * stride-`stride` window reads for the 16 outputs of a segment, from a padded
 * plane (row pitch Wp) in address space AS. The segment is output row oh0
 * from column ow0 when OW >= 16, else 16/OW whole rows (OW 8 or 4); anything
 * else goes lane by lane through offs (segment_lanes). */
#define TAP16(AS)                                                                                  \
    static inline float16 tap16_##AS(AS const float *in, const int Wp, const int OW,              \
                                     const int stride, const int oh0, const int ow0,              \
                                     const int kh, const int kw, const int lanes,                 \
                                     const int *offs)                                             \
    {                                                                                              \
        AS const float *p = in + (oh0 * stride + kh) * Wp + ow0 * stride + kw;                    \
        if (!lanes) {                                                                              \
            const int rs = stride * Wp; /* from one output row to the next */                     \
            if (stride == 1) {                                                                     \
                if (OW >= 16)                                                                      \
                    return vload16(0, p);                                                          \
                if (OW == 8)                                                                       \
                    return (float16)(vload8(0, p), vload8(0, p + rs));                             \
                return (float16)(vload4(0, p), vload4(0, p + rs), vload4(0, p + 2 * rs),           \
                                 vload4(0, p + 3 * rs));                                           \
            }                                                                                      \
            if (OW >= 16)                                                                          \
                return (float16)(vload16(0, p).even, vload16(0, p + 16).even);                     \
            if (OW == 8)                                                                           \
                return (float16)(vload16(0, p).even, vload16(0, p + rs).even);                     \
            return (float16)(vload8(0, p).even, vload8(0, p + rs).even,                            \
                             vload8(0, p + 2 * rs).even, vload8(0, p + 3 * rs).even);              \
        }                                                                                          \
        float t[16];                                                                               \
        const int d = kh * Wp + kw;                                                                \
        for (int l = 0; l < 16; l++)                                                               \
            t[l] = in[offs[l] + d];                                                                \
        return vload16(0, t);                                                                      \
    }
TAP16(__global)
TAP16(__local)

#include "pad_row.clh"
#include "epilogue.clh"
PAD_ROW(__local)

/* Fills a padded plane (Hp, Wp) from in (H, W) as conv_pad does. */
static inline void fill_padded(__local float *o, __global const float *in, const int H,
                               const int W, const int Hp, const int Wp, const int off_h,
                               const int off_w, const int up)
{
    for (int r = 0; r < Hp; r++)
        pad_row___local(o + (size_t)r * Wp, in, H, W, Wp, r, off_h, off_w, up);
}

/* fill_padded for up == 1 (every forward; the input gradients insert zeros
 * at stride 2): no division per row, and the row copied 4 floats at a time
 * where W allows. For MobileNetV2's 8x8 and 4x4 planes pad_row's scalar
 * copy and its divisions by up cost more than the 9 taps of the plane. */
static inline void fill_padded1(__local float *o, __global const float *in, const int H,
                                const int W, const int Hp, const int Wp, const int off_h,
                                const int off_w)
{
    const int j0 = max(0, off_w), j1 = min(Wp, off_w + W);
    for (int r = 0; r < Hp; r++, o += Wp) {
        const int ih = r - off_h;
        if (ih < 0 || ih >= H) {
            for (int j = 0; j < Wp; j++)
                o[j] = 0.0f;
            continue;
        }
        __global const float *i = in + (size_t)ih * W - off_w;
        int j = 0;
        for (; j < j0; j++)
            o[j] = 0.0f;
        for (; j + 4 <= j1; j += 4)
            vstore4(vload4(0, i + j), 0, o + j);
        for (; j < j1; j++)
            o[j] = i[j];
        for (; j < Wp; j++)
            o[j] = 0.0f;
    }
}

/* ---- Depthwise: direct kernels ---------------------------------------------
 * Valid correlations of padded planes, 16 outputs (a segment) at a time, one
 * float16 per tap. On CPUs one work-item takes a whole plane: it pads the
 * plane into local memory (conv_dw_plane, conv_dw_plane_dw), so the input is
 * read once and the padded copy stays in cache. Elsewhere conv_pad writes
 * the padded planes and a work-item takes one segment (conv_dw_correlate,
 * conv_dw_dw). Either way:
 *   forward  y = x padded by pad, stride s, with w
 *   dx       dy padded by K-1-pad (zeros inserted between at stride 2),
 *            stride 1, with w rotated by 180 degrees
 *   dw       per plane, the sum of dy times each tap's inputs, then per channel. */
__kernel void conv_dw_correlate(const int planes, const int C, const int Hp, const int Wp,
                                const int KH, const int KW, const int stride, const int OH,
                                const int OW, const int flip, const int epi,
                                __global const float *in, __global const float *w,
                                __global const float *bias, __global float *out)
{
    const int s = get_global_id(0), pl = get_global_id(1);
    const int Q = OH * OW, q0 = s * 16;
    if (pl >= planes || q0 >= Q)
        return;
    const int c = pl % C, taps = KH * KW;
    __global const float *ip = in + (size_t)pl * Hp * Wp;
    __global const float *wp = w + (size_t)c * taps;
    int offs[16];
    const int lanes = segment_lanes(q0, Q, OW, stride, Wp, offs);
    const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;
    float16 acc = (float16)((epi & EPI_BIAS) ? bias[c] : 0.0f);
    for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++) {
            const int tap = kh * KW + kw;
            const float wv = wp[flip ? taps - 1 - tap : tap];
            acc = fma(tap16___global(ip, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs), (float16)wv,
                      acc);
        }
    acc = epi16(acc, epi & ~EPI_BIAS, bias, c, C);
    __global float *op = out + (size_t)pl * Q + q0;
    if (q0 + 16 <= Q) {
        vstore16(acc, 0, op);
    } else {
        float t[16];
        vstore16(acc, 0, t);
        for (int l = 0; q0 + l < Q; l++)
            op[l] = t[l];
    }
}

/* part[pl * taps + tap] = sum over plane pl's outputs of dy * the input tap
 * (kh, kw) read, x padded. Launched over (taps, planes). */
__kernel void conv_dw_dw(const int planes, const int Hp, const int Wp, const int KH, const int KW,
                         const int stride, const int OH, const int OW, __global const float *dy,
                         __global const float *xpad, __global float *part)
{
    const int tap = get_global_id(0), pl = get_global_id(1), taps = KH * KW;
    if (tap >= taps || pl >= planes)
        return;
    const int kh = tap / KW, kw = tap - kh * KW, Q = OH * OW;
    __global const float *dyp = dy + (size_t)pl * Q;
    __global const float *xp = xpad + (size_t)pl * Hp * Wp;
    float16 acc = (float16)0.0f;
    int offs[16];
    for (int q0 = 0; q0 < Q; q0 += 16) {
        const int lanes = segment_lanes(q0, Q, OW, stride, Wp, offs);
        const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;
        const float16 g = load16_tail(dyp, q0, Q);
        acc = fma(g, tap16___global(xp, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs), acc);
    }
    part[(size_t)pl * taps + tap] = sum16(acc);
}

/* dw (C, taps) += the sum over the batch of part (N, C, taps). */
__kernel void conv_dw_dw_sum(const int N, const int C, const int taps, __global const float *part,
                             __global float *dw)
{
    const int i = get_global_id(0);
    if (i >= C * taps)
        return;
    float acc = 0.0f;
    for (int n = 0; n < N; n++)
        acc += part[(size_t)n * C * taps + i];
    dw[i] += acc;
}

/* CPU form of conv_pad + conv_dw_correlate: work-item pl pads its plane of in
 * (H, W) into buf (Hp, Wp) and correlates it. Launched over planes. */
__kernel void conv_dw_plane(const int planes, const int C, const int H, const int W, const int Hp,
                            const int Wp, const int off_h, const int off_w, const int up,
                            const int KH, const int KW, const int stride, const int OH,
                            const int OW, const int flip, const int epi,
                            __global const float *in, __global const float *w,
                            __global const float *bias, __global float *out,
                            __local float *buf)
{
    const int pl = get_global_id(0);
    if (pl >= planes)
        return;
    fill_padded(buf, in + (size_t)pl * H * W, H, W, Hp, Wp, off_h, off_w, up);
    const int c = pl % C, taps = KH * KW, Q = OH * OW;
    __global const float *wp = w + (size_t)c * taps;
    __global float *op = out + (size_t)pl * Q;
    int offs[16];
    for (int q0 = 0; q0 < Q; q0 += 16) {
        const int lanes = segment_lanes(q0, Q, OW, stride, Wp, offs);
        const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;
        float16 acc = (float16)((epi & EPI_BIAS) ? bias[c] : 0.0f);
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                const int tap = kh * KW + kw;
                const float wv = wp[flip ? taps - 1 - tap : tap];
                acc = fma(tap16___local(buf, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs),
                          (float16)wv, acc);
            }
        acc = epi16(acc, epi & ~EPI_BIAS, bias, c, C);
        if (q0 + 16 <= Q) {
            vstore16(acc, 0, op + q0);
        } else {
            float t[16];
            vstore16(acc, 0, t);
            for (int l = 0; q0 + l < Q; l++)
                op[q0 + l] = t[l];
        }
    }
}

/* CPU form of conv_pad + conv_dw_dw: work-item pl pads its plane of x into
 * buf and writes part[pl * taps + tap] for every tap. Launched over planes. */
__kernel void conv_dw_plane_dw(const int planes, const int H, const int W, const int Hp,
                               const int Wp, const int pad, const int KH, const int KW,
                               const int stride, const int OH, const int OW,
                               __global const float *dy, __global const float *x,
                               __global float *part, __local float *buf)
{
    const int pl = get_global_id(0);
    if (pl >= planes)
        return;
    fill_padded(buf, x + (size_t)pl * H * W, H, W, Hp, Wp, pad, pad, 1);
    const int Q = OH * OW, taps = KH * KW;
    __global const float *dyp = dy + (size_t)pl * Q;
    int offs[16];
    for (int tap = 0; tap < taps; tap++) {
        const int kh = tap / KW, kw = tap - kh * KW;
        float16 acc = (float16)0.0f;
        for (int q0 = 0; q0 < Q; q0 += 16) {
            const int lanes = segment_lanes(q0, Q, OW, stride, Wp, offs);
            const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;
            const float16 g = load16_tail(dyp, q0, Q);
            acc = fma(g, tap16___local(buf, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs), acc);
        }
        part[(size_t)pl * taps + tap] = sum16(acc);
    }
}

/* ---- 3x3, CPU: the common MobileNetV2 case without run-time branches -------
 * conv_dw_plane's work for KH = KW = 3 at stride S (1 or 2) where a segment
 * of 16 outputs is whole output rows or part of one: OW a multiple of 16
 * (WC 16), or OW 8 with OH even (WC 8: two rows), or OW 4 with OH a multiple
 * of 4 (WC 4: four rows). Stride, segment shape and taps are compile-time
 * constants and the nine weights stay in registers, where the general kernel
 * decides per tap (tap16) and reloads them. A work-item takes ppi planes in
 * turn (the last item fewer), so that small planes (4x4: 16 outputs) do not
 * pay a work-group each. Launched over ceil(planes / ppi) items, one per
 * group. */
#define DW3_ROW(S, p)                                                                              \
    ((S) == 1 ? vload16(0, (p)) : (float16)(vload16(0, (p)).even, vload16(0, (p) + 16).even))
#define DW3_LOAD(S, WC, p, rs)                                                                     \
    ((WC) == 16  ? DW3_ROW(S, p)                                                                   \
     : (WC) == 8 ? ((S) == 1 ? (float16)(vload8(0, (p)), vload8(0, (p) + (rs)))                    \
                             : (float16)(vload16(0, (p)).even, vload16(0, (p) + (rs)).even))       \
     : ((S) == 1 ? (float16)(vload4(0, (p)), vload4(0, (p) + (rs)), vload4(0, (p) + 2 * (rs)),     \
                             vload4(0, (p) + 3 * (rs)))                                            \
                 : (float16)(vload8(0, (p)).even, vload8(0, (p) + (rs)).even,                      \
                             vload8(0, (p) + 2 * (rs)).even, vload8(0, (p) + 3 * (rs)).even)))
#define DW3(NAME, S, WC)                                                                           \
    __kernel void NAME(const int planes, const int ppi, const int C, const int H, const int W,    \
                       const int Hp, const int Wp, const int off_h, const int off_w, const int up, \
                       const int OH, const int OW, const int flip, const int epi,                 \
                       __global const float *in, __global const float *w,                        \
                       __global const float *bias, __global float *out, __local float *buf)      \
    {                                                                                              \
        const int p0 = get_global_id(0) * ppi, p1 = min(planes, p0 + ppi), Q = OH * OW;           \
        const int rs = S * Wp; /* from one output row to the next */                             \
        for (int pl = p0; pl < p1; pl++) {                                                         \
            if (up == 1)                                                                           \
                fill_padded1(buf, in + (size_t)pl * H * W, H, W, Hp, Wp, off_h, off_w);            \
            else                                                                                   \
                fill_padded(buf, in + (size_t)pl * H * W, H, W, Hp, Wp, off_h, off_w, up);         \
            const int c = pl % C;                                                                  \
            __global const float *wp = w + (size_t)c * 9;                                          \
            float k[9];                                                                            \
            for (int t = 0; t < 9; t++)                                                            \
                k[t] = wp[flip ? 8 - t : t];                                                       \
            const float16 b0 = (float16)((epi & EPI_BIAS) ? bias[c] : 0.0f);                       \
            __global float *op = out + (size_t)pl * Q;                                             \
            for (int q0 = 0; q0 < Q; q0 += 16) {                                                   \
                const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;                                      \
                __local const float *p = buf + oh0 * rs + ow0 * S;                                 \
                float16 acc = b0;                                                                  \
                _Pragma("unroll") for (int kh = 0; kh < 3; kh++)                                   \
                    _Pragma("unroll") for (int kw = 0; kw < 3; kw++) acc =                         \
                        fma(DW3_LOAD(S, WC, p + kh * Wp + kw, rs), (float16)k[kh * 3 + kw], acc); \
                vstore16(epi16(acc, epi & ~EPI_BIAS, bias, c, C), 0, op + q0);                     \
            }                                                                                      \
        }                                                                                          \
    }
DW3(conv_dw3_s1_w16, 1, 16)
DW3(conv_dw3_s1_w8, 1, 8)
DW3(conv_dw3_s1_w4, 1, 4)
DW3(conv_dw3_s2_w16, 2, 16)
DW3(conv_dw3_s2_w8, 2, 8)
DW3(conv_dw3_s2_w4, 2, 4)

/* conv_dw_plane_dw's work for the shapes conv_dw3_* take (KH = KW = 3,
 * stride S, segment shape WC): part[pl * 9 + tap] for the planes of the
 * item, x padded by pad into buf, the tap loop unrolled over compile-time
 * offsets. Launched over ceil(planes / ppi) items, one per group. */
#define DW3_DW(NAME, S, WC)                                                                        \
    __kernel void NAME(const int planes, const int ppi, const int H, const int W, const int Hp,   \
                       const int Wp, const int pad, const int OH, const int OW,                   \
                       __global const float *dy, __global const float *x, __global float *part,  \
                       __local float *buf)                                                        \
    {                                                                                              \
        const int p0 = get_global_id(0) * ppi, p1 = min(planes, p0 + ppi), Q = OH * OW;           \
        const int rs = S * Wp;                                                                     \
        for (int pl = p0; pl < p1; pl++) {                                                         \
            fill_padded(buf, x + (size_t)pl * H * W, H, W, Hp, Wp, pad, pad, 1);                   \
            __global const float *dyp = dy + (size_t)pl * Q;                                       \
            _Pragma("unroll") for (int t = 0; t < 9; t++)                                          \
            {                                                                                      \
                const int kh = t / 3, kw = t - kh * 3;                                             \
                float16 acc = (float16)0.0f;                                                       \
                for (int q0 = 0; q0 < Q; q0 += 16) {                                               \
                    const int oh0 = q0 / OW, ow0 = q0 - oh0 * OW;                                  \
                    __local const float *p = buf + oh0 * rs + ow0 * S + kh * Wp + kw;              \
                    acc = fma(vload16(0, dyp + q0), DW3_LOAD(S, WC, p, rs), acc);                  \
                }                                                                                  \
                part[(size_t)pl * 9 + t] = sum16(acc);                                             \
            }                                                                                      \
        }                                                                                          \
    }
DW3_DW(conv_dw3_dw_s1_w16, 1, 16)
DW3_DW(conv_dw3_dw_s1_w8, 1, 8)
DW3_DW(conv_dw3_dw_s1_w4, 1, 4)
DW3_DW(conv_dw3_dw_s2_w16, 2, 16)
DW3_DW(conv_dw3_dw_s2_w8, 2, 8)
DW3_DW(conv_dw3_dw_s2_w4, 2, 4)
