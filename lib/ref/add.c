#include "ref.h"

/* y (n) = a (n) + b (n); y may alias a or b. */
void fn_ref_add(float *y, const float *a, const float *b, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}
