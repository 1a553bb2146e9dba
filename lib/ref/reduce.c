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
