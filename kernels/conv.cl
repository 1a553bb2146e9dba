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
 * packed panels of 16 columns that fn_gemm multiplies (kernels/gemm.cl), in
 * two orientations:
 *   conv_pack_cols: col as B of the forward product, panels of 16 output
 *     positions: Bp[(t*K + r)*16 + l] = col(r, 16t + l);
 *   conv_pack_rows: col^T as B of the weight gradient (K = N*OH*OW), panels
 *     of 16 rows of col: Bp[(t*P + p)*16 + l] = col(16t + l, p).
 * Both are launched with work-groups of the 16 lanes of a panel, so a
 * vectorizing driver writes each panel row with one store. Entries past the
 * matrix are zero. */

/* Launched over (16, C, panels): lane l of panel t, input channel c. */
__kernel void conv_pack_cols(const int N, const int C, const int H, const int W, const int KH,
                             const int KW, const int stride, const int pad, const int OH,
                             const int OW, __global const float *x, __global float *bp)
{
    const int l = get_global_id(0), c = get_global_id(1), t = get_global_id(2);
    const int P = N * OH * OW, p = t * 16 + l, K = C * KH * KW;
    if (l >= 16 || c >= C || t * 16 >= P)
        return;
    __global float *out = bp + ((size_t)t * K + c * KH * KW) * 16 + l;
    if (p >= P) {
        for (int i = 0; i < KH * KW; i++)
            out[i * 16] = 0.0f;
        return;
    }
    const int n = p / (OH * OW), rem = p - n * OH * OW, oh = rem / OW, ow = rem - oh * OW;
    __global const float *xp = x + ((size_t)n * C + c) * H * W;
    const int ih0 = oh * stride - pad, iw0 = ow * stride - pad;
    for (int kh = 0; kh < KH; kh++) {
        const int ih = ih0 + kh;
        const int row_ok = ih >= 0 && ih < H;
        for (int kw = 0; kw < KW; kw++) {
            const int iw = iw0 + kw;
            *out = (row_ok && iw >= 0 && iw < W) ? xp[ih * W + iw] : 0.0f;
            out += 16;
        }
    }
}

/* Launched over (16, panels, slices): lane l of panel t, positions
 * [s*chunk, (s+1)*chunk) of slice s. */
__kernel void conv_pack_rows(const int N, const int C, const int H, const int W, const int KH,
                             const int KW, const int stride, const int pad, const int OH,
                             const int OW, const int chunk, __global const float *x,
                             __global float *bp)
{
    const int l = get_global_id(0), t = get_global_id(1), s = get_global_id(2);
    const int P = N * OH * OW, K = C * KH * KW, r = t * 16 + l;
    const int p0 = s * chunk, p1 = min(P, p0 + chunk);
    if (l >= 16 || t * 16 >= K || p0 >= P)
        return;
    __global float *out = bp + ((size_t)t * P + p0) * 16 + l;
    if (r >= K) {
        for (int p = p0; p < p1; p++, out += 16)
            *out = 0.0f;
        return;
    }
    const int c = r / (KH * KW), kh = (r / KW) % KH, kw = r % KW;
    int n = p0 / (OH * OW), rem = p0 - n * OH * OW, oh = rem / OW, ow = rem - oh * OW;
    __global const float *xp = x + ((size_t)n * C + c) * H * W;
    for (int p = p0; p < p1; p++, out += 16) {
        const int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
        *out = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xp[ih * W + iw] : 0.0f;
        if (++ow == OW) {
            ow = 0;
            if (++oh == OH) {
                oh = 0;
                xp += (size_t)C * H * W;
            }
        }
    }
}

/* dx (N, C, H, W) from dcol in the col_img layout; launched over (W, H, N*C).
 * Each input pixel gathers its taps, so dx is overwritten. */
__kernel void conv_col2im_img(const int N, const int C, const int H, const int W, const int KH,
                              const int KW, const int stride, const int pad, const int OH,
                              const int OW, __global const float *dcol, __global float *dx)
{
    const int iw = get_global_id(0), ih = get_global_id(1), nc = get_global_id(2);
    if (iw >= W || ih >= H || nc >= N * C)
        return;
    const int Q = OH * OW;
    __global const float *d = dcol + (size_t)nc * KH * KW * Q;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        int th = ih + pad - kh; /* = oh * stride when this tap reads ih */
        if (th < 0)
            break; /* larger kh only lowers th */
        int oh = th;
        if (stride > 1) {
            oh = th / stride;
            if (oh * stride != th)
                continue;
        }
        if (oh >= OH)
            continue;
        for (int kw = 0; kw < KW; kw++) {
            int tw = iw + pad - kw;
            if (tw < 0)
                break;
            int ow = tw;
            if (stride > 1) {
                ow = tw / stride;
                if (ow * stride != tw)
                    continue;
            }
            if (ow < OW)
                acc += d[(kh * KW + kw) * Q + oh * OW + ow];
        }
    }
    dx[(size_t)nc * H * W + ih * W + iw] = acc;
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

/* Work-group reductions: the host launches power-of-two groups of at most
 * REDUCE_MAX items, one group per output. */
#define REDUCE_MAX 256

static float group_sum(float v, __local float *tmp)
{
    const int l = get_local_id(0), L = get_local_size(0);
    tmp[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = L / 2; s > 0; s /= 2) {
        if (l < s)
            tmp[l] += tmp[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return tmp[0];
}

/* db (OC) += sum over n, q of dy (N, OC, Q); one work-group per channel. */
__kernel void conv_bias_grad(const int N, const int OC, const int Q, __global const float *dy,
                             __global float *db)
{
    __local float tmp[REDUCE_MAX];
    const int o = get_group_id(0), l = get_local_id(0), L = get_local_size(0);
    float acc = 0.0f;
    if (o < OC)
        for (int n = 0; n < N; n++) {
            __global const float *row = dy + ((size_t)n * OC + o) * Q;
            for (int q = l; q < Q; q += L)
                acc += row[q];
        }
    acc = group_sum(acc, tmp);
    if (o < OC && l == 0)
        db[o] += acc;
}

/* Depthwise forward: y (N, C, OH, OW) from x (N, C, H, W), w (C, 1, KH, KW). */
__kernel void conv_dw_forward(const int N, const int C, const int H, const int W, const int KH,
                              const int KW, const int stride, const int pad, const int OH,
                              const int OW, const int has_bias, __global const float *x,
                              __global const float *w, __global const float *b,
                              __global float *y)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * C * OH * OW)
        return;
    const int ow = (int)(i % OW), oh = (int)((i / OW) % OH), c = (int)((i / OW / OH) % C);
    const size_t plane = i / OW / OH; /* n*C + c */
    __global const float *xp = x + plane * H * W;
    __global const float *wp = w + (size_t)c * KH * KW;
    float acc = has_bias ? b[c] : 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int ih = oh * stride - pad + kh;
        if (ih < 0 || ih >= H)
            continue;
        for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * stride - pad + kw;
            if (iw >= 0 && iw < W)
                acc += xp[ih * W + iw] * wp[kh * KW + kw];
        }
    }
    y[i] = acc;
}

/* Depthwise input gradient: each dx (N, C, H, W) entry gathers the outputs
 * that read it, so dx is overwritten. */
__kernel void conv_dw_dx(const int N, const int C, const int H, const int W, const int KH,
                         const int KW, const int stride, const int pad, const int OH, const int OW,
                         __global const float *dy, __global const float *w, __global float *dx)
{
    const size_t i = get_global_id(0);
    if (i >= (size_t)N * C * H * W)
        return;
    const int iw = (int)(i % W), ih = (int)((i / W) % H), c = (int)((i / W / H) % C);
    const size_t plane = i / W / H;
    __global const float *dyp = dy + plane * OH * OW;
    __global const float *wp = w + (size_t)c * KH * KW;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; kh++) {
        const int th = ih + pad - kh;
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
            if (ow < OW)
                acc += dyp[oh * OW + ow] * wp[kh * KW + kw];
        }
    }
    dx[i] = acc;
}

/* Depthwise weight gradient: dw (C, 1, KH, KW) += sum over n, oh, ow of
 * dy * the input the tap read. One work-group per weight. */
__kernel void conv_dw_dw(const int N, const int C, const int H, const int W, const int KH,
                         const int KW, const int stride, const int pad, const int OH, const int OW,
                         __global const float *dy, __global const float *x, __global float *dw)
{
    __local float tmp[REDUCE_MAX];
    const int g = get_group_id(0), l = get_local_id(0), L = get_local_size(0);
    const int valid = g < C * KH * KW;
    const int kw = g % KW, kh = (g / KW) % KH, c = g / (KW * KH);
    const int Q = OH * OW;
    float acc = 0.0f;
    if (valid)
        for (int n = 0; n < N; n++) {
            __global const float *dyp = dy + ((size_t)n * C + c) * Q;
            __global const float *xp = x + ((size_t)n * C + c) * H * W;
            for (int q = l; q < Q; q += L) {
                const int oh = q / OW, ow = q % OW;
                const int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    acc += dyp[q] * xp[ih * W + iw];
            }
        }
    acc = group_sum(acc, tmp);
    if (valid && l == 0)
        dw[g] += acc;
}
