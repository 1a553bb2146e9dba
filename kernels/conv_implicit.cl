/* 2-D convolution on our own GEMM kernels (lib/ops/conv_implicit.c, CPU
 * devices, groups == 1): the column matrix packed straight into the GEMM's
 * panels (conv_pack_cols), its gradient folded back by image rows
 * (conv_col2im_img), and the implicit GEMM that reads col from a padded
 * input instead (conv_igemm_mr*). The column matrix is the one of
 * kernels/conv.cl: col (C*KH*KW, N*OH*OW), row r = (c*KH + kh)*KW + kw,
 * column p = (n*OH + oh)*OW + ow.
 *
 * On a GPU: these are the CPU path (our own GEMM, fn_use_own_gemm); GPUs use
 * kernels/conv.cl with CLBlast. Launched with fn_launch_auto (single items on
 * CPUs, groups of about 64 along dimension 0 when a test forces this path on
 * a GPU): conv_pack_cols owns one input channel's rows of one 16-column
 * panel, conv_igemm_mr* an MR x 16 tile of y, conv_col2im_img one input row
 * of one plane. */
#include "epilogue.clh"

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
 * written in NCHW through the epilogue epi (epilogue.clh: bias, or a batch
 * norm folded in, then an activation). Launched over (row tiles, column
 * tiles). */
static __attribute__((always_inline)) inline void
igemm_tile(const int MR, const int M, const int P, const int C, const int Hp, const int Wp,
           const int KH, const int KW, const int stride, const int OH, const int OW,
           __global const float *Ap, __global const float *xp, __global float *y,
           __global const float *bias, const int epi)
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
        const float16 v = epi16(acc[r], epi, bias, i0 + r, M);
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
        __global const float *xp, __global float *y, __global const float *bias, const int epi
#define IGEMM_PASS M, P, C, Hp, Wp, KH, KW, stride, OH, OW, Ap, xp, y, bias, epi

__kernel void conv_igemm_mr16(IGEMM_ARGS)
{
    igemm_tile(16, IGEMM_PASS);
}
__kernel void conv_igemm_mr6(IGEMM_ARGS)
{
    igemm_tile(6, IGEMM_PASS); /* AVX2 */
}
__kernel void conv_igemm_mr8(IGEMM_ARGS)
{
    igemm_tile(8, IGEMM_PASS);
}
__kernel void conv_igemm_mr4(IGEMM_ARGS)
{
    igemm_tile(4, IGEMM_PASS);
}
