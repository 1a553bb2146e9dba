/* 2-D convolution. Grouped convolutions go through one GEMM per layer on a
 * column matrix: col (C*KH*KW, N*OH*OW), row r = (c*KH + kh)*KW + kw, column
 * p = (n*OH + oh)*OW + ow. The kernels here build col (im2col), fold its
 * gradient back (col2im), and move outputs between the GEMM's (OC, N*OH*OW)
 * layout and NCHW. Depthwise convolutions (groups == C == OC) have direct
 * kernels, where a GEMM would be a batch of 1-row products.
 *
 * Every kernel is launched 1-D over its outputs, rounded up, so each checks
 * its index. Sizes come in as ints; flat indices are size_t. */

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

/* ---- Layouts for our own GEMM kernels (CPU devices, lib/ops/gemm.c) --------
 * The column matrix col (C*KH*KW, N*OH*OW) is written straight into the
 * packed panels of 16 columns that fn_gemm and fn_gemm_nt multiply
 * (kernels/gemm.cl): Bp[(t*K + r)*16 + l] = col(r, 16t + l), zero past the
 * end. A work-item fills panel t for one input channel, one float16 per
 * row: from a single vector load when the panel's 16 positions lie in one
 * output row at stride 1 (most of a wide layer), from a few merged vector
 * loads when they span a few rows of a pre-padded input, else lane by lane. */
__kernel void conv_pack_cols(const int N, const int C, const int H, const int W, const int KH,
                             const int KW, const int stride, const int pad, const int OH,
                             const int OW, __global const float *x, __global float *bp)
{
    const int c = get_global_id(0), t = get_global_id(1);
    const int Q = OH * OW, P = N * Q, K = C * KH * KW, p0 = t * 16;
    if (c >= C || p0 >= P)
        return;
    __global float *out = bp + ((size_t)t * K + c * KH * KW) * 16;
    const int n0 = p0 / Q, r0 = p0 - n0 * Q, oh0 = r0 / OW, ow0 = r0 - oh0 * OW;
    if (stride == 1 && ow0 + 16 <= OW && p0 + 16 <= P) {
        __global const float *xp = x + ((size_t)n0 * C + c) * H * W;
        for (int kh = 0; kh < KH; kh++) {
            const int ih = oh0 - pad + kh;
            for (int kw = 0; kw < KW; kw++, out += 16) {
                const int iw0 = ow0 - pad + kw;
                float16 v = (float16)0.0f;
                if (ih >= 0 && ih < H) {
                    __global const float *row = xp + ih * W;
                    if (iw0 >= 0 && iw0 + 16 <= W) {
                        v = vload16(0, row + iw0);
                    } else {
                        float t16[16];
                        for (int l = 0; l < 16; l++) {
                            const int iw = iw0 + l;
                            t16[l] = iw >= 0 && iw < W ? row[iw] : 0.0f;
                        }
                        v = vload16(0, t16);
                    }
                }
                vstore16(v, 0, out);
            }
        }
        return;
    }
    /* Lane by lane: where each lane's window starts, worked out once. A
     * pre-padded input (pad 0, with 32 floats of slack after it) needs no
     * bounds checks, and lanes that read evenly spaced inputs (one output
     * row at stride 2, or a few rows at stride 1) take vector loads. */
    const int valid = min(16, P - p0);
    int ih0[16], iw0[16];
    size_t base[16];
    for (int l = 0; l < 16; l++) {
        const int p = min(p0 + l, P - 1), n = p / Q, r = p - n * Q, oh = r / OW;
        ih0[l] = oh * stride - pad;
        iw0[l] = (r - oh * OW) * stride - pad;
        base[l] = ((size_t)n * C + c) * H * W;
    }
    float t16[16];
    if (pad == 0) {
        for (int l = 0; l < 16; l++)
            base[l] += ih0[l] * W + iw0[l];
        /* At stride 1 the lanes form runs of consecutive inputs (one per
         * output row they cover): a few shifted vector loads merged by lane. */
        int runs = 1, start[4] = {0, 16, 16, 16};
        size_t from[4] = {base[0], 0, 0, 0};
        for (int l = 1; l < 16 && runs <= 4; l++)
            if (base[l] != base[l - 1] + stride) {
                if (runs < 4) {
                    start[runs] = l;
                    from[runs] = base[l] - l;
                }
                runs++;
            }
        if (stride == 2 && valid == 16 && runs == 1) { /* one row: even lanes of 32 */
            __global const float *p = x + from[0];
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++, out += 16) {
                    const int d = kh * W + kw;
                    vstore16((float16)(vload16(0, p + d).even, vload16(0, p + d + 16).even), 0,
                             out);
                }
            return;
        }
        if (stride == 1 && valid == 16 && runs <= 4) {
            const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++, out += 16) {
                    const int d = kh * W + kw;
                    float16 v = vload16(0, x + from[0] + d);
                    for (int k = 1; k < runs; k++)
                        v = select(v, vload16(0, x + from[k] + d), lane >= start[k]);
                    vstore16(v, 0, out);
                }
            return;
        }
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++, out += 16) {
                const int d = kh * W + kw;
                for (int l = 0; l < 16; l++)
                    t16[l] = x[base[l] + d];
                for (int l = valid; l < 16; l++)
                    t16[l] = 0.0f;
                vstore16(vload16(0, t16), 0, out);
            }
        return;
    }
    for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++, out += 16) {
            for (int l = 0; l < 16; l++) {
                const int ih = ih0[l] + kh, iw = iw0[l] + kw;
                t16[l] = l < valid && ih >= 0 && ih < H && iw >= 0 && iw < W
                             ? x[base[l] + ih * W + iw]
                             : 0.0f;
            }
            vstore16(vload16(0, t16), 0, out);
        }
}

/* dx (N, C, H, W) from dcol (N, C*KH*KW, OH*OW): each input pixel gathers
 * its taps, so dx is overwritten. Launched over (H, N*C): one input row per
 * work-item, 16 pixels at a time. At stride 1 each tap's 16 values are one
 * vector load with the lanes outside the output row masked off; dcol starts
 * 32 floats into its buffer and has slack after it, so those loads stay
 * inside. */
__kernel void conv_col2im_img(const int N, const int C, const int H, const int W, const int KH,
                              const int KW, const int stride, const int pad, const int OH,
                              const int OW, __global const float *dcol, __global float *dx)
{
    const int ih = get_global_id(0), nc = get_global_id(1);
    if (ih >= H || nc >= N * C)
        return;
    const int Q = OH * OW;
    __global const float *d = dcol + 32 + (size_t)nc * KH * KW * Q;
    __global float *out = dx + ((size_t)nc * H + ih) * W;
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int iw0 = 0; iw0 < W; iw0 += 16) {
        if (stride == 1) {
            float16 acc = (float16)0.0f;
            for (int kh = 0; kh < KH; kh++) {
                const int oh = ih + pad - kh;
                if (oh < 0 || oh >= OH)
                    continue;
                for (int kw = 0; kw < KW; kw++) {
                    const int ow0 = iw0 + pad - kw;
                    const float16 v = vload16(0, d + (kh * KW + kw) * Q + oh * OW + ow0);
                    const int16 ow = ow0 + lane;
                    acc += select((float16)0.0f, v, ow >= 0 && ow < OW);
                }
            }
            if (iw0 + 16 <= W) {
                vstore16(acc, 0, out + iw0);
            } else {
                float t[16];
                vstore16(acc, 0, t);
                for (int l = 0; iw0 + l < W; l++)
                    out[iw0 + l] = t[l];
            }
            continue;
        }
        if (stride == 2) {
            /* Tap (kh, kw) reaches pixel iw when iw + pad - kw is even: every
             * other lane, from consecutive outputs. Load 16 outputs from
             * ow0 = floor(e/2), e = iw0 + pad - kw, and spread them over the
             * lanes of the right parity. */
            const uint16 spread_even =
                (uint16)(0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
            const uint16 spread_odd =
                (uint16)(16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16, 8);
            float16 acc = (float16)0.0f;
            for (int kh = 0; kh < KH; kh++) {
                const int th = ih + pad - kh;
                if (th < 0 || (th & 1) || th / 2 >= OH)
                    continue;
                const int oh = th / 2;
                for (int kw = 0; kw < KW; kw++) {
                    const int e = iw0 + pad - kw, ow0 = e >= 0 ? e / 2 : -((1 - e) / 2);
                    const float16 v = vload16(0, d + (kh * KW + kw) * Q + oh * OW + ow0);
                    const float16 spread = shuffle2(v, (float16)0.0f, e & 1 ? spread_odd : spread_even);
                    const int16 t = e + lane, ow = t >> 1; /* floor((e + l) / 2) */
                    acc += select((float16)0.0f, spread, ((t & 1) == 0) && ow >= 0 && ow < OW);
                }
            }
            if (iw0 + 16 <= W) {
                vstore16(acc, 0, out + iw0);
            } else {
                float t[16];
                vstore16(acc, 0, t);
                for (int l = 0; iw0 + l < W; l++)
                    out[iw0 + l] = t[l];
            }
            continue;
        }
        for (int iw = iw0; iw < min(W, iw0 + 16); iw++) {
            float acc = 0.0f;
            for (int kh = 0; kh < KH; kh++) {
                const int th = ih + pad - kh; /* = oh * stride when this tap reads ih */
                if (th < 0)
                    break; /* larger kh only lowers th */
                const int oh = th / stride;
                if (oh * stride != th || oh >= OH)
                    continue;
                for (int kw = 0; kw < KW; kw++) {
                    const int tw = iw + pad - kw;
                    if (tw < 0)
                        break;
                    const int ow = tw / stride;
                    if (ow * stride == tw && ow < OW)
                        acc += d[(kh * KW + kw) * Q + oh * OW + ow];
                }
            }
            out[iw] = acc;
        }
    }
}

/* dx (N, C, H, W) = the sum of every col entry that im2col copied from it.
 * Each input pixel gathers its own contributions, so dx is overwritten and
 * needs neither clearing nor atomics. */
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

/* y (N, OC, Q) = yt (OC, N*Q) transposed by blocks, plus b (OC) when has_bias. */
__kernel void conv_to_nchw(const int N, const int OC, const int Q, const int has_bias,
                           __global const float *yt, __global const float *b, __global float *y)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * OC * Q)
        return;
    const int q = (int)(i % Q), o = (int)((i / Q) % OC), n = (int)(i / Q / OC);
    float v = yt[(size_t)o * N * Q + (size_t)n * Q + q];
    if (has_bias)
        v += b[o];
    y[i] = v;
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
    for (int r = get_global_id(0); r < Hp; r += get_global_size(0)) {
        __global float *o = out + ((size_t)pl * Hp + r) * Wp;
        const int th = r - off_h, ih = th / up;
        if (th < 0 || th % up || ih >= H) {
            int j = 0;
            for (; j + 16 <= Wp; j += 16)
                vstore16((float16)0.0f, 0, o + j);
            for (; j < Wp; j++)
                o[j] = 0.0f;
            continue;
        }
        __global const float *i = in + ((size_t)pl * H + ih) * W;
        if (up == 1) {
            const int j0 = max(0, off_w), j1 = min(Wp, off_w + W);
            int j = 0;
            for (; j < j0; j++)
                o[j] = 0.0f;
            for (; j + 16 <= j1; j += 16)
                vstore16(vload16(0, i + j - off_w), 0, o + j);
            for (; j < j1; j++)
                o[j] = i[j - off_w];
            for (; j < Wp; j++)
                o[j] = 0.0f;
            continue;
        }
        for (int j = 0; j < Wp; j++) {
            const int tw = j - off_w, iw = tw / up;
            o[j] = tw >= 0 && tw % up == 0 && iw < W ? i[iw] : 0.0f;
        }
    }
}

/* Whether segment q0 of an OH x OW output can use vector loads for every
 * tap (stride 1 or 2; see TAP16); if not, fills offs for the lanes (lanes
 * past Q repeat the last output). */
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

/* Fills a padded plane (Hp, Wp) from in (H, W) as conv_pad does. */
static inline void fill_padded(__local float *o, __global const float *in, const int H,
                               const int W, const int Hp, const int Wp, const int off_h,
                               const int off_w, const int up)
{
    for (int r = 0; r < Hp; r++, o += Wp) {
        const int th = r - off_h, ih = th / up;
        if (th < 0 || th % up || ih >= H) {
            for (int j = 0; j < Wp; j++)
                o[j] = 0.0f;
            continue;
        }
        __global const float *i = in + ih * W;
        if (up == 1) {
            const int j0 = max(0, off_w), j1 = min(Wp, off_w + W);
            int j = 0;
            for (; j < j0; j++)
                o[j] = 0.0f;
            for (; j + 16 <= j1; j += 16)
                vstore16(vload16(0, i + j - off_w), 0, o + j);
            for (; j < j1; j++)
                o[j] = i[j - off_w];
            for (; j < Wp; j++)
                o[j] = 0.0f;
        } else {
            for (int j = 0; j < Wp; j++) {
                const int tw = j - off_w, iw = tw / up;
                o[j] = tw >= 0 && tw % up == 0 && iw < W ? i[iw] : 0.0f;
            }
        }
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
                                const int OW, const int flip, const int has_bias,
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
    float16 acc = (float16)(has_bias ? bias[c] : 0.0f);
    for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++) {
            const int tap = kh * KW + kw;
            const float wv = wp[flip ? taps - 1 - tap : tap];
            acc = fma(tap16___global(ip, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs), (float16)wv,
                      acc);
        }
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
                            const int OW, const int flip, const int has_bias,
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
        float16 acc = (float16)(has_bias ? bias[c] : 0.0f);
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                const int tap = kh * KW + kw;
                const float wv = wp[flip ? taps - 1 - tap : tap];
                acc = fma(tap16___local(buf, Wp, OW, stride, oh0, ow0, kh, kw, lanes, offs),
                          (float16)wv, acc);
            }
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

/* ---- Implicit GEMM: convolution without a column matrix ----------------------
 * y (OC, N*OH*OW) = W (OC, K) . col (K, N*OH*OW) with fn_gemm's register
 * tiles (MR rows of packed W x 16 output positions, kernels/gemm.cl), but
 * each row of col is read straight from a zero-padded input (planes Hp x Wp,
 * with slack after them) instead of a packed panel: row k = (c, kh, kw) of
 * the tile is the 16 inputs at lane offsets base[l] + c*Hp*Wp + kh*Wp + kw.
 * At stride 1 lanes in one output row read consecutive inputs, so a tile
 * whose 16 positions span at most 4 rows loads each row of col as that many
 * vectors merged by lane; at stride 2 a tile inside one row takes the even
 * lanes of two vectors; other tiles gather lane by lane. The output is
 * written in NCHW, bias added. Launched over (row tiles, column tiles). */
static __attribute__((always_inline)) inline void
igemm_tile(const int MR, const int M, const int P, const int C, const int Hp, const int Wp,
           const int KH, const int KW, const int stride, const int OH, const int OW,
           __global const float *Ap, __global const float *xp, __global float *y,
           __global const float *bias, const int has_bias)
{
    const int ti = get_global_id(0), tj = get_global_id(1);
    const int i0 = ti * MR, p0 = tj * 16;
    if (i0 >= M || p0 >= P)
        return;
    const int Q = OH * OW, plane = Hp * Wp, K = C * KH * KW;
    int base[16], out[16];
    for (int l = 0; l < 16; l++) {
        const int p = min(p0 + l, P - 1), n = p / Q, r = p - n * Q, oh = r / OW;
        base[l] = n * C * plane + oh * stride * Wp + (r - oh * OW) * stride;
        out[l] = n * M * Q + r;
    }
    int runs = 1, start[4] = {0, 16, 16, 16}, from[4] = {base[0], 0, 0, 0};
    for (int l = 1; l < 16; l++)
        if (base[l] != base[l - 1] + stride) {
            if (runs < 4) {
                start[runs] = l;
                from[runs] = base[l] - l;
            }
            runs++;
        }
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float16 acc[16];
#pragma unroll
    for (int r = 0; r < MR; r++)
        acc[r] = (float16)0.0f;
    __global const float *a = Ap + (size_t)ti * K * MR;
    if (stride == 1 && runs <= 4) {
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++) {
                __global const float *row = xp + c * plane + kh * Wp;
                for (int kw = 0; kw < KW; kw++, a += MR) {
                    float16 bv = vload16(0, row + from[0] + kw);
                    for (int j = 1; j < runs; j++)
                        bv = select(bv, vload16(0, row + from[j] + kw), lane >= start[j]);
#pragma unroll
                    for (int r = 0; r < MR; r++)
                        acc[r] = fma((float16)a[r], bv, acc[r]);
                }
            }
    } else if (stride == 2 && runs == 1) {
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++) {
                __global const float *row = xp + from[0] + c * plane + kh * Wp;
                for (int kw = 0; kw < KW; kw++, a += MR) {
                    const float16 bv =
                        (float16)(vload16(0, row + kw).even, vload16(0, row + kw + 16).even);
#pragma unroll
                    for (int r = 0; r < MR; r++)
                        acc[r] = fma((float16)a[r], bv, acc[r]);
                }
            }
    } else {
        float t[16];
        for (int c = 0; c < C; c++)
            for (int kh = 0; kh < KH; kh++) {
                const int d0 = c * plane + kh * Wp;
                for (int kw = 0; kw < KW; kw++, a += MR) {
                    for (int l = 0; l < 16; l++)
                        t[l] = xp[base[l] + d0 + kw];
                    const float16 bv = vload16(0, t);
#pragma unroll
                    for (int r = 0; r < MR; r++)
                        acc[r] = fma((float16)a[r], bv, acc[r]);
                }
            }
    }
    const int n0 = p0 / Q, q0 = p0 - n0 * Q, whole = p0 + 16 <= P && q0 + 16 <= Q;
#pragma unroll
    for (int r = 0; r < MR; r++) {
        if (i0 + r >= M)
            continue;
        const float16 v = has_bias ? acc[r] + bias[i0 + r] : acc[r];
        if (whole) {
            vstore16(v, 0, y + (size_t)n0 * M * Q + (size_t)(i0 + r) * Q + q0);
        } else {
            float t[16];
            vstore16(v, 0, t);
            for (int l = 0; l < 16 && p0 + l < P; l++)
                y[out[l] + (size_t)(i0 + r) * Q] = t[l];
        }
    }
}

#define IGEMM_ARGS                                                                                 \
    const int M, const int P, const int C, const int Hp, const int Wp, const int KH, const int KW, \
        const int stride, const int OH, const int OW, __global const float *Ap,                   \
        __global const float *xp, __global float *y, __global const float *bias,                 \
        const int has_bias
#define IGEMM_PASS M, P, C, Hp, Wp, KH, KW, stride, OH, OW, Ap, xp, y, bias, has_bias

__kernel void conv_igemm_mr16(IGEMM_ARGS)
{
    igemm_tile(16, IGEMM_PASS);
}
__kernel void conv_igemm_mr8(IGEMM_ARGS)
{
    igemm_tile(8, IGEMM_PASS);
}
__kernel void conv_igemm_mr4(IGEMM_ARGS)
{
    igemm_tile(4, IGEMM_PASS);
}
