#include <math.h>

#include "ref.h"

/* The row's max and sum of exp(x - max), in double. */
static void row_stats(const float *xr, int cols, double *m, double *s)
{
    *m = xr[0];
    for (int j = 1; j < cols; j++)
        if (xr[j] > *m) *m = xr[j];
    *s = 0;
    for (int j = 0; j < cols; j++)
        *s += exp(xr[j] - *m);
}

/* y (rows, cols) = exp(x - max) / sum(exp(x - max)) along each row */
void fn_ref_softmax_forward(float *y, const float *x, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * cols;
        double m, s;
        row_stats(xr, cols, &m, &s);
        for (int j = 0; j < cols; j++)
            y[(size_t)i * cols + j] = (float)(exp(xr[j] - m) / s);
    }
}

/* dx (rows, cols) = y * (dy - sum(dy * y)) along each row */
void fn_ref_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        size_t base = (size_t)i * cols;
        double dot = 0;
        for (int j = 0; j < cols; j++)
            dot += (double)dy[base + j] * y[base + j];
        for (int j = 0; j < cols; j++)
            dx[base + j] = (float)(y[base + j] * (dy[base + j] - dot));
    }
}

/* y (rows, cols) = x - max - log(sum(exp(x - max))) along each row */
void fn_ref_log_softmax_forward(float *y, const float *x, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * cols;
        double m, s;
        row_stats(xr, cols, &m, &s);
        for (int j = 0; j < cols; j++)
            y[(size_t)i * cols + j] = (float)(xr[j] - m - log(s));
    }
}

/* dx (rows, cols) = dy - exp(y) * sum(dy) along each row */
void fn_ref_log_softmax_backward(float *dx, const float *dy, const float *y, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        size_t base = (size_t)i * cols;
        double sum = 0;
        for (int j = 0; j < cols; j++)
            sum += dy[base + j];
        for (int j = 0; j < cols; j++)
            dx[base + j] = (float)(dy[base + j] - exp(y[base + j]) * sum);
    }
}
