#include "ref.h"

/* y (n) += alpha * x (n) */
void fn_ref_axpy(int n, float alpha, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* x (n) *= alpha */
void fn_ref_scale(int n, float alpha, float *x)
{
    for (int i = 0; i < n; i++)
        x[i] *= alpha;
}
