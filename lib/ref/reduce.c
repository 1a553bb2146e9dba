#include <math.h>

#include "ref.h"

/* out[0] = sum of x (n), accumulated in double; out[1] = how many x are NaN or
 * infinite, as a float. */
void fn_ref_reduce_sum(float *out, const float *x, int n)
{
    double sum = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        sum += x[i];
        if (!isfinite(x[i])) bad++;
    }
    out[0] = (float)sum;
    out[1] = (float)bad;
}

/* out[0] = sum of the squares of the count arrays xs[i] (ns[i] each), in
 * double; out[1] = how many of their values are NaN or infinite. */
void fn_ref_reduce_sumsq(float *out, const float *const *xs, const size_t *ns, int count)
{
    double sum = 0;
    int bad = 0;
    for (int t = 0; t < count; t++)
        for (size_t i = 0; i < ns[t]; i++) {
            sum += (double)xs[t][i] * xs[t][i];
            if (!isfinite(xs[t][i])) bad++;
        }
    out[0] = (float)sum;
    out[1] = (float)bad;
}
