#include <math.h>
#include <string.h>

#include "ref.h"

/* y (N, C, OH, OW) = max over each k x k window of x (N, C, H, W); padding
 * never wins. argmax (N, C, OH, OW), if not NULL, gets the index of the
 * winner within its H*W plane; ties keep the first in row-major order. */
void fn_ref_maxpool_forward(float *y, int *argmax, const float *x, const fn_pool_shape *s)
{
    int oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    for (int p = 0; p < s->n * s->c; p++) {
        const float *plane = x + (size_t)p * s->h * s->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int best_i = -1;
                float best = 0;
                for (int ky = 0; ky < s->k; ky++)
                    for (int kx = 0; kx < s->k; kx++) {
                        int iy = oy * s->stride - s->pad + ky;
                        int ix = ox * s->stride - s->pad + kx;
                        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                        float v = plane[iy * s->w + ix];
                        if (best_i < 0 || v > best || (isnan(v) && !isnan(best))) {
                            best = v;
                            best_i = iy * s->w + ix;
                        }
                    }
                size_t o = ((size_t)p * oh + oy) * ow + ox;
                y[o] = best;
                if (argmax) argmax[o] = best_i;
            }
    }
}

/* dx (N, C, H, W) = 0, then each dy goes to the element its argmax names. */
void fn_ref_maxpool_backward(float *dx, const float *dy, const int *argmax, const fn_pool_shape *s)
{
    int oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    memset(dx, 0, (size_t)s->n * s->c * s->h * s->w * sizeof *dx);
    for (int p = 0; p < s->n * s->c; p++)
        for (int o = 0; o < oh * ow; o++) {
            size_t i = (size_t)p * oh * ow + o;
            dx[(size_t)p * s->h * s->w + argmax[i]] += dy[i];
        }
}

/* y (N, C, OH, OW) = sum of each window / (k*k): padding counts as zeros. */
void fn_ref_avgpool_forward(float *y, const float *x, const fn_pool_shape *s)
{
    int oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    for (int p = 0; p < s->n * s->c; p++) {
        const float *plane = x + (size_t)p * s->h * s->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double sum = 0;
                for (int ky = 0; ky < s->k; ky++)
                    for (int kx = 0; kx < s->k; kx++) {
                        int iy = oy * s->stride - s->pad + ky;
                        int ix = ox * s->stride - s->pad + kx;
                        if (iy >= 0 && iy < s->h && ix >= 0 && ix < s->w)
                            sum += plane[iy * s->w + ix];
                    }
                y[((size_t)p * oh + oy) * ow + ox] = (float)(sum / (s->k * s->k));
            }
    }
}

/* dx (N, C, H, W) = 0, then each dy / (k*k) spreads over its window. */
void fn_ref_avgpool_backward(float *dx, const float *dy, const fn_pool_shape *s)
{
    int oh = fn_pool_out_h(s), ow = fn_pool_out_w(s);
    memset(dx, 0, (size_t)s->n * s->c * s->h * s->w * sizeof *dx);
    for (int p = 0; p < s->n * s->c; p++) {
        float *plane = dx + (size_t)p * s->h * s->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float g = dy[((size_t)p * oh + oy) * ow + ox] / (float)(s->k * s->k);
                for (int ky = 0; ky < s->k; ky++)
                    for (int kx = 0; kx < s->k; kx++) {
                        int iy = oy * s->stride - s->pad + ky;
                        int ix = ox * s->stride - s->pad + kx;
                        if (iy >= 0 && iy < s->h && ix >= 0 && ix < s->w)
                            plane[iy * s->w + ix] += g;
                    }
            }
    }
}

/* y (N, C) = mean of x (N, C, HW) over HW */
void fn_ref_gap_forward(float *y, const float *x, int n, int c, int hw)
{
    for (int p = 0; p < n * c; p++) {
        double sum = 0;
        for (int i = 0; i < hw; i++)
            sum += x[(size_t)p * hw + i];
        y[p] = (float)(sum / hw);
    }
}

/* dx (N, C, HW) = dy (N, C) / HW */
void fn_ref_gap_backward(float *dx, const float *dy, int n, int c, int hw)
{
    for (int p = 0; p < n * c; p++)
        for (int i = 0; i < hw; i++)
            dx[(size_t)p * hw + i] = dy[p] / (float)hw;
}
