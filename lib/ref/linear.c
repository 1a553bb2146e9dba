#include "ref.h"

/* y (N, OUT) = x (N, IN) . w^T + b, w (OUT, IN), b (OUT) or NULL */
void fn_ref_linear_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                           int out)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double sum = b ? b[o] : 0.0;
            for (int j = 0; j < in; j++)
                sum += (double)x[(size_t)i * in + j] * w[(size_t)o * in + j];
            y[(size_t)i * out + o] = (float)sum;
        }
}

/* dx (N, IN) = dy (N, OUT) . w, unless dx is NULL;
 * dw (OUT, IN) += dy^T . x; db (OUT) += column sums of dy, unless NULL. */
void fn_ref_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                            const float *w, int n, int in, int out)
{
    if (dx)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < in; j++) {
                double sum = 0;
                for (int o = 0; o < out; o++)
                    sum += (double)dy[(size_t)i * out + o] * w[(size_t)o * in + j];
                dx[(size_t)i * in + j] = (float)sum;
            }
    if (dw)
        for (int o = 0; o < out; o++)
            for (int j = 0; j < in; j++) {
                double sum = 0;
                for (int i = 0; i < n; i++)
                    sum += (double)dy[(size_t)i * out + o] * x[(size_t)i * in + j];
                dw[(size_t)o * in + j] += (float)sum;
            }
    if (db)
        for (int o = 0; o < out; o++) {
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += dy[(size_t)i * out + o];
            db[o] += (float)sum;
        }
}
