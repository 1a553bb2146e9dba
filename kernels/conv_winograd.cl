/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (lib/ops/conv_winograd.c,
 * CPU devices, our own GEMM): y = A^T [ (G g G^T) . (B^T d B) ] A per 2x2
 * output tile, d the tile's 4x4 input patch, g a 3x3 filter. The 16
 * positions xi of the transformed 4x4 tile are 16 independent products
 *   M_xi (Co, P) = U_xi (Co, Ci) . V_xi (Ci, P),   P = tiles of the batch,
 * which fn_gemm runs; these kernels transform in and out of them:
 *   wino_weights  U[xi][o][c] = (G g(o, c) G^T)[xi]            (Co, Ci) row-major per xi
 *   wino_input    V[xi][t][c][l] = (B^T d(c, 16t + l) B)[xi]   16-column panels
 *   wino_output   y(n, o, 2ty + i, 2tx + j) = epi((A^T M(o, tile) A)[i][j])
 * and for the weight gradient, dU_xi (Co, Ci) = dM_xi . V_xi^T (fn_gemm_nt,
 * or fn_gemm on V_xi^T: wino_vt):
 *   wino_dy       dM[xi][t][o][l] = (A dy(o, 16t + l) A^T)[xi], dy's 2x2 tile
 *                 (or dM[xi][o][16t + l], row-major, for fn_gemm)
 *   wino_dw       dw(o, c) += G^T dU(o, c) G
 * V and M are in the packed-panel layout of kernels/gemm.cl (16 tiles of one
 * channel contiguous), so the products read and write them as whole vectors
 * and the transforms work on 16 tiles at once, one float16 per position.
 * Tile column p = (n*TH + ty)*TW + tx; tiles past the edge read zeros
 * (padding) and write only the outputs that exist.
 *
 * With
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks"),
 * a 2x2 tile costs 16 multiplies per channel pair instead of 36.
 *
 * On a GPU: the CPU path (tests force it there under oclgrind). Launched with
 * fn_launch_auto: single items on CPUs, groups of about 64 along dimension 0
 * on a GPU: wino_weights and wino_dw 64 filters of one output channel, wino_input one channel of one
 * panel of 16 tiles, wino_output and wino_dy one output channel of one panel (8 panels
 * per item measured 1.5 to 2 times slower on 2 Zen 3 cores). */

#include "epilogue.clh"

/* U from w: filter (o, c) at w[o*s_o + c*s_c], taps kh*3 + kw, read
 * rotated by 180 degrees when rot (the input gradient's filters). A
 * work-item transforms the filters of output channel o for input channels
 * c0.. c0+63: 16 sequential streams of stores, one per position. */
__kernel void wino_weights(const int Co, const int Ci, const int s_o, const int s_c, const int rot,
                           __global const float *w, __global float *u)
{
    const int c0 = get_global_id(0) * 64, o = get_global_id(1);
    if (c0 >= Ci || o >= Co)
        return;
    const size_t plane = (size_t)Co * Ci;
    for (int c = c0; c < min(Ci, c0 + 64); c++) {
        __global const float *f = w + (size_t)o * s_o + (size_t)c * s_c;
        float g[9];
        for (int k = 0; k < 9; k++)
            g[k] = f[rot ? 8 - k : k];
        float t[12]; /* G g: 4 x 3 */
        for (int j = 0; j < 3; j++) {
            const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
            t[j] = g0;
            t[3 + j] = 0.5f * (g0 + g1 + g2);
            t[6 + j] = 0.5f * (g0 - g1 + g2);
            t[9 + j] = g2;
        }
        __global float *at = u + (size_t)o * Ci + c;
        for (int i = 0; i < 4; i++) { /* (G g) G^T: 4 x 4 */
            const float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
            at[(4 * i + 0) * plane] = t0;
            at[(4 * i + 1) * plane] = 0.5f * (t0 + t1 + t2);
            at[(4 * i + 2) * plane] = 0.5f * (t0 - t1 + t2);
            at[(4 * i + 3) * plane] = t2;
        }
    }
}

/* (B^T d B) of 16 tiles, d[4i + j] their patches' (row i, column j) as
 * float16s, stored as one float16 per position xi, `plane` apart. */
inline void input_store(const float16 *d, __global float *out, const size_t plane)
{
    float16 e[16]; /* B^T d */
    for (int j = 0; j < 4; j++) {
        const float16 d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
        e[j] = d0 - d2;
        e[4 + j] = d1 + d2;
        e[8 + j] = d2 - d1;
        e[12 + j] = d1 - d3;
    }
    for (int i = 0; i < 4; i++) { /* (B^T d) B */
        const float16 e0 = e[4 * i], e1 = e[4 * i + 1], e2 = e[4 * i + 2], e3 = e[4 * i + 3];
        vstore16(e0 - e2, 0, out + (4 * i + 0) * plane);
        vstore16(e1 + e2, 0, out + (4 * i + 1) * plane);
        vstore16(e2 - e1, 0, out + (4 * i + 2) * plane);
        vstore16(e1 - e3, 0, out + (4 * i + 3) * plane);
    }
}

/* Whether a full panel at p0 is whole segments of tile rows: TW a multiple
 * or a divisor of 16 (every ResNet-18 layer at 32x32: 16, 8, 4, 2 tiles). */
inline int whole_rows(const int TW, const int p0, const int P)
{
    return (TW % 16 == 0 || 16 % TW == 0) && p0 + 16 <= P;
}

/* Masks of a panel's lanes that start and end a segment of `seg` tiles. */
inline int16 seg_first(const int seg)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return (lane & (seg - 1)) == 0;
}
inline int16 seg_last(const int seg)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return (lane & (seg - 1)) == seg - 1;
}

/* Copies n floats (2, 4, 8, 16 or 32: a segment's 2*seg columns), or zeros. */
inline void row_copy(float *dst, __global const float *src, const int n, const int zero)
{
    if (zero) {
        for (int e = 0; e < n; e += 2)
            vstore2((float2)0.0f, 0, dst + e);
    } else if (n >= 16) {
        for (int e = 0; e < n; e += 16)
            vstore16(vload16(0, src + e), 0, dst + e);
    } else {
        for (int e = 0; e < n; e += 2)
            vstore2(vload2(0, src + e), 0, dst + e);
    }
}

/* The even and odd columns of 32 floats. */
inline float16 evens(const float *r)
{
    return shuffle2(vload16(0, r), vload16(0, r + 16),
                    (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
}
inline float16 odds(const float *r)
{
    return shuffle2(vload16(0, r), vload16(0, r + 16),
                    (uint16)(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
}

/* V for channel c of panel t: the 4x4 patches of its 16 tiles, then
 * transformed as float16s. Where the panel is whole segments of tile rows
 * (whole_rows), the padding is 1 and W even (every 3x3 layer of
 * ResNet-18, forward and input gradient), each of the 4 input rows is read
 * once per segment as vectors, its 2*seg columns back to back in X: tile
 * l's patch columns 1 and 2 are X's even and odd lanes, columns 0 and 3
 * those shifted by one lane, with the padding's zeros (or, inside a row of
 * more than 16 tiles, the neighbouring columns) at the segments' ends.
 * (Last session's version took the rows whole but was bounds-checked
 * element by element and measured no faster.) Elsewhere (and when `rows`
 * is 0: FOCUSNET_WINO_ROWS=0) the patches are gathered lane by lane, zeros
 * outside the input.
 * The chunk is images n0.. of x (Ci planes H x W each), N of them; the
 * panels of position xi start at v + xi*vs (vs >= Pp*Ci). */
__kernel void wino_input(const int N, const int Ci, const int H, const int W, const int pad,
                         const int TH, const int TW, const int Pp, const int n0,
                         __global const float *x, __global float *v, const int vs,
                         const int rows)
{
    const int c = get_global_id(0), t = get_global_id(1);
    const int T = TH * TW, P = N * T, p0 = t * 16;
    if (c >= Ci || p0 >= P)
        return;
    const size_t plane = (size_t)vs;
    __global float *out = v + ((size_t)t * Ci + c) * 16;
    float16 dv[16];
    if (rows && pad == 1 && W % 2 == 0 && whole_rows(TW, p0, P)) {
        const int seg = TW >= 16 ? 16 : TW;
        const int16 first = seg_first(seg), last = seg_last(seg);
        for (int i = 0; i < 4; i++) {
            float X[32];
            float left = 0.0f, right = 0.0f; /* columns beside a 16-tile segment */
            for (int s0 = 0; s0 < 16; s0 += seg) {
                const int n = (p0 + s0) / T, q = p0 + s0 - n * T, ty = q / TW, tx = q - ty * TW;
                const int iy = 2 * ty - 1 + i, in = iy >= 0 && iy < H;
                __global const float *src =
                    x + ((size_t)(n0 + n) * Ci + c) * H * W + (size_t)(in ? iy : 0) * W + 2 * tx;
                row_copy(X + 2 * s0, src, 2 * seg, !in);
                if (in && seg == 16) {
                    left = tx > 0 ? src[-1] : 0.0f;
                    right = 2 * tx + 32 < W ? src[32] : 0.0f;
                }
            }
            const float16 ev = evens(X), od = odds(X);
            float16 c0 = select(shuffle(od, (uint16)(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                     13, 14)),
                                (float16)0.0f, first);
            float16 c3 = select(shuffle(ev, (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                     14, 15, 15)),
                                (float16)0.0f, last);
            c0.s0 = left;
            c3.sf = right;
            dv[4 * i] = c0;
            dv[4 * i + 1] = ev;
            dv[4 * i + 2] = od;
            dv[4 * i + 3] = c3;
        }
        input_store(dv, out, plane);
        return;
    }
    float d[16][16]; /* [position][lane] */
    for (int l = 0; l < 16; l++) {
        const int p = p0 + l;
        if (p >= P) {
            for (int k = 0; k < 16; k++)
                d[k][l] = 0.0f;
            continue;
        }
        const int n = p / T, r = p - n * T, ty = r / TW, tx = r - ty * TW;
        const int iy0 = 2 * ty - pad, ix0 = 2 * tx - pad;
        __global const float *plane = x + ((size_t)(n0 + n) * Ci + c) * H * W;
        if (iy0 >= 0 && iy0 + 4 <= H && ix0 >= 0 && ix0 + 4 <= W) {
            for (int i = 0; i < 4; i++) {
                const float4 row = vload4(0, plane + (iy0 + i) * W + ix0);
                d[4 * i][l] = row.s0;
                d[4 * i + 1][l] = row.s1;
                d[4 * i + 2][l] = row.s2;
                d[4 * i + 3][l] = row.s3;
            }
            continue;
        }
        for (int i = 0; i < 4; i++) {
            const int iy = iy0 + i;
            for (int j = 0; j < 4; j++) {
                const int ix = ix0 + j;
                d[4 * i + j][l] =
                    iy >= 0 && iy < H && ix >= 0 && ix < W ? plane[iy * W + ix] : 0.0f;
            }
        }
    }
    for (int k = 0; k < 16; k++)
        dv[k] = vload16(0, d[k]);
    input_store(dv, out, plane);
}

/* Images n0..n0+N-1 of y (Co planes OH x OW each) from M (position xi at
 * m + xi*ms) for output channel o of panel t, through the epilogue (bias,
 * or a folded batch norm, then an activation: kernels/epilogue.clh). */
__kernel void wino_output(const int N, const int Co, const int OH, const int OW, const int TH,
                          const int TW, const int Pp, const int n0, __global const float *m,
                          __global const float *e, const int epi, __global float *y,
                          const int ms)
{
    const int o = get_global_id(0), t = get_global_id(1);
    const int T = TH * TW, P = N * T, p0 = t * 16;
    if (o >= Co || p0 >= P)
        return;
    const size_t plane = (size_t)ms;
    __global const float *in = m + ((size_t)t * Co + o) * 16;
    float16 s[8]; /* A^T M: 2 x 4 */
    for (int j = 0; j < 4; j++) {
        const float16 m0 = vload16(0, in + j * plane), m1 = vload16(0, in + (4 + j) * plane);
        const float16 m2 = vload16(0, in + (8 + j) * plane), m3 = vload16(0, in + (12 + j) * plane);
        s[j] = m0 + m1 + m2;
        s[4 + j] = m1 - m2 - m3;
    }
    float16 rv[4]; /* (A^T M) A: [i*2 + j], through the epilogue */
    for (int i = 0; i < 2; i++) {
        rv[2 * i] = epi16(s[4 * i] + s[4 * i + 1] + s[4 * i + 2], epi, e, o, Co);
        rv[2 * i + 1] = epi16(s[4 * i + 1] - s[4 * i + 2] - s[4 * i + 3], epi, e, o, Co);
    }
    if (OH % 2 == 0 && OW % 2 == 0 && whole_rows(TW, p0, P)) {
        /* Whole tile-row segments, every 2x2 tile inside: output row i of a
         * segment is its tiles' (i, 0) and (i, 1) interleaved, 2*seg
         * contiguous floats (vector stores instead of 64 scalar ones with a
         * division per lane: 30-47% less time, measured). */
        const int seg = TW >= 16 ? 16 : TW;
        for (int i = 0; i < 2; i++) {
            float row[32];
            vstore16(shuffle2(rv[2 * i], rv[2 * i + 1],
                              (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)),
                     0, row);
            vstore16(shuffle2(rv[2 * i], rv[2 * i + 1],
                              (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)),
                     0, row + 16);
            for (int s0 = 0; s0 < 16; s0 += seg) {
                const int n = (p0 + s0) / T, q = p0 + s0 - n * T, ty = q / TW, tx = q - ty * TW;
                __global float *dst = y + ((size_t)(n0 + n) * Co + o) * OH * OW +
                                      (size_t)(2 * ty + i) * OW + 2 * tx;
                const float *src = row + 2 * s0;
                if (seg >= 8)
                    for (int e = 0; e < 2 * seg; e += 16)
                        vstore16(vload16(0, src + e), 0, dst + e);
                else
                    for (int e = 0; e < 2 * seg; e += 2)
                        vstore2(vload2(0, src + e), 0, dst + e);
            }
        }
        return;
    }
    float r[4][16]; /* [i*2 + j][lane] */
    for (int k = 0; k < 4; k++)
        vstore16(rv[k], 0, r[k]);
    const int lanes = min(16, P - p0);
    for (int l = 0; l < lanes; l++) {
        const int p = p0 + l, n = p / T, q = p - n * T, ty = q / TW, tx = q - ty * TW;
        const int oy = 2 * ty, ox = 2 * tx;
        __global float *plane_y = y + ((size_t)(n0 + n) * Co + o) * OH * OW;
        for (int i = 0; i < 2 && oy + i < OH; i++)
            for (int j = 0; j < 2 && ox + j < OW; j++)
                plane_y[(oy + i) * OW + ox + j] = r[2 * i + j][l];
    }
}

/* dM for output channel o of panel t: the adjoint of wino_output, from the
 * 2x2 tiles of dy (zeros past the edge and past the last tile). */
__kernel void wino_dy(const int N, const int Co, const int OH, const int OW, const int TH,
                      const int TW, const int n0, __global const float *dy, __global float *m,
                      const int ms, const int rows, const int lda)
{
    const int o = get_global_id(0), t = get_global_id(1);
    const int T = TH * TW, P = N * T, p0 = t * 16;
    if (o >= Co || p0 >= P)
        return;
    float d[4][16]; /* [i*2 + j][lane] */
    if (rows && OH % 2 == 0 && OW % 2 == 0 && whole_rows(TW, p0, P)) {
        /* Whole tile-row segments: row i of the tiles is each segment's
         * output row read as vectors, their columns 0 and 1 its even and
         * odd lanes (wino_input's fast path). */
        const int seg = TW >= 16 ? 16 : TW;
        for (int i = 0; i < 2; i++) {
            float X[32];
            for (int s0 = 0; s0 < 16; s0 += seg) {
                const int n = (p0 + s0) / T, q = p0 + s0 - n * T, ty = q / TW, tx = q - ty * TW;
                row_copy(X + 2 * s0,
                         dy + ((size_t)(n0 + n) * Co + o) * OH * OW + (size_t)(2 * ty + i) * OW +
                             2 * tx,
                         2 * seg, 0);
            }
            vstore16(evens(X), 0, d[2 * i]);
            vstore16(odds(X), 0, d[2 * i + 1]);
        }
    } else {
        for (int l = 0; l < 16; l++) {
            const int p = p0 + l, n = p / T, q = p - n * T, ty = q / TW, tx = q - ty * TW;
            const int oy = 2 * ty, ox = 2 * tx;
            __global const float *plane = dy + ((size_t)(n0 + n) * Co + o) * OH * OW;
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    d[2 * i + j][l] = p < P && oy + i < OH && ox + j < OW
                                          ? plane[(oy + i) * OW + ox + j]
                                          : 0.0f;
        }
    }
    const float16 d00 = vload16(0, d[0]), d01 = vload16(0, d[1]);
    const float16 d10 = vload16(0, d[2]), d11 = vload16(0, d[3]);
    /* A dy: 4 x 2, rows (y0, y0 + y1, y0 - y1, -y1) */
    const float16 e[8] = {d00, d01, d00 + d10, d01 + d11, d00 - d10, d01 - d11, -d10, -d11};
    const size_t plane = (size_t)ms;
    /* 16-tile panels, or (lda > 0) rows of lda floats per output channel:
     * the row-major A that gemm_mr* reads in place (dw_products). */
    __global float *out = m + (lda > 0 ? (size_t)o * lda + (size_t)t * 16 : ((size_t)t * Co + o) * 16);
    for (int i = 0; i < 4; i++) { /* (A dy) A^T */
        const float16 e0 = e[2 * i], e1 = e[2 * i + 1];
        vstore16(e0, 0, out + (4 * i + 0) * plane);
        vstore16(e0 + e1, 0, out + (4 * i + 1) * plane);
        vstore16(e0 - e1, 0, out + (4 * i + 2) * plane);
        vstore16(-e1, 0, out + (4 * i + 3) * plane);
    }
}

/* V_xi (Ci rows, 16-tile panels: v[(tp*Ci + c)*16 + l]) transposed into
 * fn_gemm's packed B with K = the tiles and N = Ci: bt[(tc*Pp + p)*16 + l] =
 * V_xi(16 tc + l, p), zero past Ci, so that the weight gradient's products
 * dU_xi = dM_xi . V_xi^T run as gemm_mr* (whose tiles reach about twice
 * gemm_nt8's GFLOP/s where the reduction over tiles is short). One 16 x 16
 * block per work-item. */
__kernel void wino_vt(const int Ci, const int Pp, __global const float *v, const int v_off,
                      __global float *bt)
{
    const int tc = get_global_id(0), tp = get_global_id(1);
    if (tc * 16 >= Ci || tp * 16 >= Pp)
        return;
    float blk[16][16]; /* [channel][tile] */
    for (int r = 0; r < 16; r++) {
        const int c = tc * 16 + r;
        vstore16(c < Ci ? vload16(0, v + v_off + ((size_t)tp * Ci + c) * 16) : (float16)0.0f, 0,
                 blk[r]);
    }
    __global float *out = bt + ((size_t)tc * Pp + (size_t)tp * 16) * 16;
    for (int l = 0; l < 16; l++) {
        float col[16];
        for (int r = 0; r < 16; r++)
            col[r] = blk[r][l];
        vstore16(vload16(0, col), 0, out + l * 16);
    }
}

/* dw (Co, Ci, 3, 3) += G^T dU G, dU[xi] (Co, Ci) row-major; the adjoint of
 * wino_weights (unrotated), 64 filters of one output channel per item. */
__kernel void wino_dw(const int Co, const int Ci, __global const float *u, __global float *dw)
{
    const int c0 = get_global_id(0) * 64, o = get_global_id(1);
    if (c0 >= Ci || o >= Co)
        return;
    const size_t plane = (size_t)Co * Ci;
    for (int c = c0; c < min(Ci, c0 + 64); c++) {
        __global const float *at = u + (size_t)o * Ci + c;
        float f[12]; /* G^T dU: 3 x 4 */
        for (int j = 0; j < 4; j++) {
            const float u0 = at[j * plane], u1 = at[(4 + j) * plane];
            const float u2 = at[(8 + j) * plane], u3 = at[(12 + j) * plane];
            f[j] = u0 + 0.5f * (u1 + u2);
            f[4 + j] = 0.5f * (u1 - u2);
            f[8 + j] = 0.5f * (u1 + u2) + u3;
        }
        __global float *g = dw + ((size_t)o * Ci + c) * 9;
        for (int a = 0; a < 3; a++) { /* (G^T dU) G */
            const float f0 = f[4 * a], f1 = f[4 * a + 1], f2 = f[4 * a + 2], f3 = f[4 * a + 3];
            g[3 * a] += f0 + 0.5f * (f1 + f2);
            g[3 * a + 1] += 0.5f * (f1 - f2);
            g[3 * a + 2] += 0.5f * (f1 + f2) + f3;
        }
    }
}
