#include "ref.h"

/* Direct convolution, one output at a time; groups split the channels into
 * independent blocks: output channel o sees input channels g*cg .. g*cg+cg-1
 * where g = o / (oc / groups) and cg = c / groups. */

/* y (N, OC, OH, OW) = x (N, C, H, W) conv w (OC, C/groups, KH, KW) + b (OC) */
void fn_ref_conv_forward(float *y, const float *x, const float *w, const float *b,
                         const fn_conv_shape *s)
{
    int oh_n = fn_conv_out_h(s), ow_n = fn_conv_out_w(s);
    int cg = s->c / s->groups, ocg = s->oc / s->groups;
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->oc; o++) {
            int g = o / ocg;
            for (int oh = 0; oh < oh_n; oh++)
                for (int ow = 0; ow < ow_n; ow++) {
                    double acc = b ? b[o] : 0.0;
                    for (int ci = 0; ci < cg; ci++) {
                        int c = g * cg + ci;
                        for (int kh = 0; kh < s->kh; kh++)
                            for (int kw = 0; kw < s->kw; kw++) {
                                int ih = oh * s->stride - s->pad + kh;
                                int iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                                    continue; /* zero padding */
                                float xv = x[(((size_t)n * s->c + c) * s->h + ih) * s->w + iw];
                                float wv = w[(((size_t)o * cg + ci) * s->kh + kh) * s->kw + kw];
                                acc += (double)xv * wv;
                            }
                    }
                    y[(((size_t)n * s->oc + o) * oh_n + oh) * ow_n + ow] = (float)acc;
                }
        }
}

/* dx (N, C, H, W) = (overwritten unless NULL), dw (OC, C/groups, KH, KW) +=,
 * db (OC) += (unless NULL), from dy (N, OC, OH, OW). Scatters each output's
 * gradient back along the same index arithmetic as the forward pass. */
void fn_ref_conv_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                          const float *w, const fn_conv_shape *s)
{
    int oh_n = fn_conv_out_h(s), ow_n = fn_conv_out_w(s);
    int cg = s->c / s->groups, ocg = s->oc / s->groups;
    if (dx)
        for (size_t i = 0; i < (size_t)s->n * s->c * s->h * s->w; i++)
            dx[i] = 0.0f;
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->oc; o++) {
            int g = o / ocg;
            for (int oh = 0; oh < oh_n; oh++)
                for (int ow = 0; ow < ow_n; ow++) {
                    float d = dy[(((size_t)n * s->oc + o) * oh_n + oh) * ow_n + ow];
                    if (db) db[o] += d;
                    for (int ci = 0; ci < cg; ci++) {
                        int c = g * cg + ci;
                        for (int kh = 0; kh < s->kh; kh++)
                            for (int kw = 0; kw < s->kw; kw++) {
                                int ih = oh * s->stride - s->pad + kh;
                                int iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                                size_t xi = (((size_t)n * s->c + c) * s->h + ih) * s->w + iw;
                                size_t wi = (((size_t)o * cg + ci) * s->kh + kh) * s->kw + kw;
                                if (dw) dw[wi] += d * x[xi];
                                if (dx) dx[xi] += d * w[wi];
                            }
                    }
                }
        }
}
