/* 2-D convolution by im2col + one GEMM per layer (lib/ops/conv.c; the GEMM
 * is CLBlast's), and what every convolution algorithm shares: the bias
 * gradient and padded planes (conv_pad, used by lib/ops/conv_implicit.c and
 * lib/ops/conv_depthwise.c).
 * The column matrix: col (C*KH*KW, N*OH*OW), row r = (c*KH + kh)*KW + kw,
 * column p = (n*OH + oh)*OW + ow. The kernels here build col (im2col), fold
 * its gradient back (col2im), and move outputs between the GEMM's
 * (OC, N*OH*OW) layout and NCHW.
 *
 * Every kernel is launched over its outputs, rounded up, so each checks its
 * index. Sizes come in as ints; flat indices are size_t.
 *
 * On a GPU: conv_im2col, conv_col2im, conv_to_nchw, conv_from_nchw,
 * conv_pad_items: a work-item owns one float of its output, launched 1-D in
 * groups of 64 (fn_launch1), so neighbouring items write neighbouring floats.
 * conv_bias_plane: a work-item owns one (n, oc) plane's sum, groups of about
 * 64 planes (fn_launch_auto); conv_bias_sum: a channel, groups of 64.
 * conv_pad is the CPU form of conv_pad_items (a plane per item). */
#include "epilogue.clh"

/* col (C*KH*KW, P) from x (N, C, H, W); P = N*OH*OW. Padding reads as 0. */
__kernel void conv_im2col(const int rows, const int P, const int C, const int H, const int W,
                          const int KH, const int KW, const int stride, const int pad,
                          const int OH, const int OW, __global const float *x,
                          __global float *col)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)rows * P)
        return;
    const int r = (int)(i / P), p = (int)(i % P);
    const int kw = r % KW, kh = (r / KW) % KH, c = r / (KW * KH);
    const int ow = p % OW, oh = (p / OW) % OH, n = p / (OW * OH);
    const int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
    float v = 0.0f;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
        v = x[(((size_t)n * C + c) * H + ih) * W + iw];
    col[i] = v;
}

__kernel void conv_col2im(const int N, const int C, const int H, const int W, const int KH,
                          const int KW, const int stride, const int pad, const int OH,
                          const int OW, __global const float *dcol, __global float *dx)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * C * H * W)
        return;
    const int iw = (int)(i % W), ih = (int)((i / W) % H), c = (int)((i / W / H) % C);
    const int n = (int)(i / W / H / C);
    const size_t P = (size_t)N * OH * OW;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int th = ih + pad - kh; /* = oh * stride when this tap reads ih */
        if (th < 0 || th % stride)
            continue;
        const int oh = th / stride;
        if (oh >= OH)
            continue;
        for (int kw = 0; kw < KW; kw++) {
            const int tw = iw + pad - kw;
            if (tw < 0 || tw % stride)
                continue;
            const int ow = tw / stride;
            if (ow >= OW)
                continue;
            const size_t r = ((size_t)c * KH + kh) * KW + kw;
            acc += dcol[r * P + ((size_t)n * OH + oh) * OW + ow];
        }
    }
    dx[i] = acc;
}

/* y (N, OC, Q) = yt (OC, N*Q) transposed by blocks, through the epilogue epi
 * (epilogue.clh: the bias b (OC), or a batch norm folded in, then an
 * activation). */
__kernel void conv_to_nchw(const int N, const int OC, const int Q, const int epi,
                           __global const float *yt, __global const float *b, __global float *y)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * OC * Q)
        return;
    const int q = (int)(i % Q), o = (int)((i / Q) % OC), n = (int)(i / Q / OC);
    y[i] = epi1(yt[(size_t)o * N * Q + (size_t)n * Q + q], epi, b, o, OC);
}

/* dyt (OC, N*Q) = dy (N, OC, Q) rearranged: the inverse of conv_to_nchw. */
__kernel void conv_from_nchw(const int N, const int OC, const int Q, __global const float *dy,
                             __global float *dyt)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * OC * Q)
        return;
    const int q = (int)(i % Q), o = (int)((i / Q) % OC), n = (int)(i / Q / OC);
    dyt[(size_t)o * N * Q + (size_t)n * Q + q] = dy[i];
}

/* part[pl] = the sum of plane pl of dy (N*OC, Q); launched over planes. */
__kernel void conv_bias_plane(const int planes, const int Q, __global const float *dy,
                              __global float *part)
{
    const int pl = get_global_id(0);
    if (pl >= planes)
        return;
    __global const float *p = dy + (size_t)pl * Q;
    float16 v = (float16)0.0f;
    int i = 0;
    for (; i + 16 <= Q; i += 16)
        v += vload16(0, p + i);
    float t = 0.0f;
    for (; i < Q; i++)
        t += p[i];
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    part[pl] = c.x + c.y + t;
}

/* db (OC) += the sum over the batch of part (N, OC); one item per channel. */
__kernel void conv_bias_sum(const int N, const int OC, __global const float *part,
                            __global float *db)
{
    const int o = get_global_id(0);
    if (o >= OC)
        return;
    float acc = 0.0f;
    for (int n = 0; n < N; n++)
        acc += part[(size_t)n * OC + o];
    db[o] += acc;
}

#include "pad_row.clh"
PAD_ROW(__global)

/* ---- Padded planes ------------------------------------------------------------
 * out (planes, Hp, Wp) holds in (planes, H, W) at offset (off_h, off_w), every
 * `up`-th row and column (up 2: zeros inserted between, the input of a
 * stride-2 convolution's input gradient), zero elsewhere; a negative offset
 * crops. Kernels that read a padded plane need no bounds checks: every tap of
 * every output lies inside it. Launched over (rows, planes). */
__kernel void conv_pad(const int planes, const int H, const int W, const int Hp, const int Wp,
                       const int off_h, const int off_w, const int up, __global const float *in,
                       __global float *out)
{
    const int pl = get_global_id(1);
    if (pl >= planes)
        return;
    /* Rows r, r + items, ...: one item per row on GPUs, per plane on CPUs. */
    for (int r = get_global_id(0); r < Hp; r += get_global_size(0))
        pad_row___global(out + ((size_t)pl * Hp + r) * Wp, in + (size_t)pl * H * W, H, W, Wp, r,
                         off_h, off_w, up);
}

/* Whether segment q0 of an OH x OW output can use vector loads for every
 * tap (stride 1 or 2; see TAP16); if not, fills offs for the lanes (lanes
 * past Q repeat the last output). */

/* GPU form of conv_pad: one work-item per float of out (planes, Hp, Wp),
 * launched 1-D, so neighbouring work-items write neighbouring floats and
 * read neighbouring inputs (every up-th one). */
__kernel void conv_pad_items(const int planes, const int H, const int W, const int Hp,
                             const int Wp, const int off_h, const int off_w, const int up,
                             __global const float *in, __global float *out)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)planes * Hp * Wp)
        return;
    const int j = (int)(i % Wp), r = (int)(i / Wp % Hp);
    const size_t pl = i / Wp / Hp;
    const int th = r - off_h, tw = j - off_w;
    float v = 0.0f;
    if (th >= 0 && tw >= 0 && th % up == 0 && tw % up == 0 && th / up < H && tw / up < W)
        v = in[(pl * H + th / up) * W + tw / up];
    out[i] = v;
}
