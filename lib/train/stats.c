/* Statistics for comparing runs over seeds: mean and sample standard
 * deviation, and the paired t-test (Student 1908) with its two-sided p-value
 * from the regularized incomplete beta function:
 *   P(|T| >= t) = I_{df / (df + t^2)}(df / 2, 1 / 2)
 * evaluated by Lentz's continued fraction (Numerical Recipes, betacf). */
#include <math.h>
#include <string.h>

#include "../core/core.h"

void fn_mean_sd(const double *x, int n, double *mean, double *sd)
{
    double m = 0, s = 0;
    for (int i = 0; i < n; i++)
        m += x[i];
    m = n > 0 ? m / n : NAN;
    for (int i = 0; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    if (mean) *mean = m;
    if (sd) *sd = n > 1 ? sqrt(s / (n - 1)) : NAN;
}

/* The continued fraction of I_x(a, b), converging fast for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

double fn_beta_inc(double a, double b, double x)
{
    if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0)) return NAN;
    if (x == 0 || x == 1) return x;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

fn_status fn_paired_test(const double *a, const double *b, int n, fn_paired_result *out)
{
    memset(out, 0, sizeof *out);
    if (n < 2) return fn_error(FN_ERR_ARG, "a paired test needs at least 2 pairs, got %d", n);
    double diff[1024];
    if (n > 1024) return fn_error(FN_ERR_ARG, "a paired test of %d pairs (at most 1024)", n);
    for (int i = 0; i < n; i++)
        diff[i] = b[i] - a[i];
    out->n = n;
    out->df = n - 1;
    fn_mean_sd(diff, n, &out->mean, &out->sd);
    if (!isfinite(out->mean) || !isfinite(out->sd))
        return fn_error(FN_ERR_ARG, "a paired test of values that are not all finite");
    if (out->sd == 0) {
        /* Every difference the same: no spread to test against. */
        out->t = out->mean == 0 ? 0 : copysign(INFINITY, out->mean);
        out->p = out->mean == 0 ? 1 : 0;
        return FN_OK;
    }
    out->t = out->mean / (out->sd / sqrt((double)n));
    out->p = fn_beta_inc(0.5 * out->df, 0.5, out->df / (out->df + out->t * out->t));
    return FN_OK;
}
