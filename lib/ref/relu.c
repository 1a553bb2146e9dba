#include "ref.h"

/* y (n) = max(x, 0); NaN stays NaN because x < 0 is false for it. */
void fn_ref_relu_forward(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

/* dx (n) = dy where the output y > 0, else 0. Reading y, not x, allows in place. */
void fn_ref_relu_backward(float *dx, const float *dy, const float *y, int n)
{
    for (int i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* y (n) = min(max(x, 0), 6) */
void fn_ref_relu6_forward(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++) {
        float v = x[i];
        if (v < 0.0f)
            v = 0.0f;
        else if (v > 6.0f)
            v = 6.0f;
        y[i] = v;
    }
}

/* dx (n) = dy where 0 < y < 6, else 0 (both kinks take the flat side). */
void fn_ref_relu6_backward(float *dx, const float *dy, const float *y, int n)
{
    for (int i = 0; i < n; i++)
        dx[i] = (y[i] > 0.0f && y[i] < 6.0f) ? dy[i] : 0.0f;
}
