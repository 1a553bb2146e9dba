/* The statistics of `focusnet compare` on hand-worked numbers: mean and
 * sample standard deviation, the incomplete beta function, and the paired
 * t-test's p-value where Student's t has a closed form (df 1, 2, 3). */
#include <math.h>

#include "check.h"

static void near(double got, double want, double tol, const char *what)
{
    CHECK(fabs(got - want) <= tol, "%s: %.10g, want %.10g", what, got, want);
}

int main(void)
{
    /* 2,4,4,4,5,5,7,9: mean 5, squares of deviations 32, sample sd sqrt(32/7). */
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    double m, sd;
    fn_mean_sd(x, 8, &m, &sd);
    near(m, 5, 1e-15, "mean");
    near(sd, sqrt(32.0 / 7), 1e-15, "sample sd");
    fn_mean_sd(x, 1, &m, &sd);
    CHECK(m == 2 && isnan(sd), "one value: its mean, no sd");

    /* I_x(1, 1) = x, I_x(2, 1) = x^2, I_x(1, 2) = 1 - (1 - x)^2. */
    near(fn_beta_inc(1, 1, 0.3), 0.3, 1e-14, "I_0.3(1,1)");
    near(fn_beta_inc(2, 1, 0.3), 0.09, 1e-14, "I_0.3(2,1)");
    near(fn_beta_inc(1, 2, 0.3), 0.51, 1e-14, "I_0.3(1,2)");
    near(fn_beta_inc(1, 2, 0.9), 0.99, 1e-14, "I_0.9(1,2) (the other branch)");
    CHECK(isnan(fn_beta_inc(1, 1, 1.5)) && isnan(fn_beta_inc(0, 1, 0.5)), "outside the domain");

    const double zero[] = {0, 0, 0, 0};
    fn_paired_result r;
    /* b - a = 1, 3: mean 2, sd sqrt 2, t = 2 / (sqrt 2 / sqrt 2) = 2, df 1:
     * p = 1 - (2/pi) atan 2 = 0.2951672353 (Cauchy). */
    const double d1[] = {1, 3};
    CHECK_OK(fn_paired_test(zero, d1, 2, &r));
    CHECK(r.n == 2 && r.df == 1, "pairs and degrees of freedom");
    near(r.mean, 2, 1e-15, "df 1 mean");
    near(r.sd, sqrt(2.0), 1e-15, "df 1 sd");
    near(r.t, 2, 1e-14, "df 1 t");
    near(r.p, 1 - 2 / M_PI * atan(2.0), 1e-12, "df 1 p");
    /* 1, 2, 3: mean 2, sd 1, t = 2 sqrt 3, df 2: p = 1 - t / sqrt(2 + t^2)
     * = 1 - sqrt(12/14) = 0.0741799. */
    const double d2[] = {1, 2, 3};
    CHECK_OK(fn_paired_test(zero, d2, 3, &r));
    near(r.t, 2 * sqrt(3.0), 1e-13, "df 2 t");
    near(r.p, 1 - sqrt(12.0 / 14), 1e-12, "df 2 p");
    /* 1..4: mean 2.5, sd sqrt(5/3), t = sqrt 15, df 3:
     * p = 1 - (2/pi)(atan(t/sqrt 3) + (t/sqrt 3)/(1 + t^2/3)) = 0.0304683. */
    const double d3[] = {1, 2, 3, 4};
    CHECK_OK(fn_paired_test(zero, d3, 4, &r));
    double u = sqrt(5.0);
    near(r.t, sqrt(15.0), 1e-13, "df 3 t");
    near(r.p, 1 - 2 / M_PI * (atan(u) + u / (1 + u * u)), 1e-12, "df 3 p");
    /* The order of a and b flips the sign of t, not p; a shift of both
     * changes nothing. */
    const double shifted_a[] = {10, 20, 30, 40}, shifted_b[] = {11, 22, 33, 44};
    fn_paired_result s;
    CHECK_OK(fn_paired_test(d3, zero, 4, &s));
    CHECK(fabs(s.t + r.t) < 1e-13 && fabs(s.p - r.p) < 1e-13, "swapped: t %g, p %g", s.t, s.p);
    CHECK_OK(fn_paired_test(shifted_a, shifted_b, 4, &s));
    near(s.p, r.p, 1e-12, "paired: only the differences count");
    /* Student's table: t = 2.042272 at df 30 is the two-sided 5% point. */
    double a31[31], b31[31];
    for (int i = 0; i < 31; i++) {
        a31[i] = 0;
        b31[i] = i % 2 ? 1 : -1; /* mean -1/31, sd from the data */
    }
    CHECK_OK(fn_paired_test(a31, b31, 31, &s));
    near(fn_beta_inc(15, 0.5, 30 / (30 + 2.042272 * 2.042272)), 0.05, 2e-7, "t table, df 30");
    CHECK(s.p > 0.8, "differences centred near 0: p %g", s.p);

    /* Degenerate and bad input. */
    const double same[] = {0.5, 0.5, 0.5};
    CHECK_OK(fn_paired_test(zero, same, 3, &s));
    CHECK(isinf(s.t) && s.t > 0 && s.p == 0, "every difference 0.5: t inf, p 0");
    CHECK_OK(fn_paired_test(zero, zero, 3, &s));
    CHECK(s.t == 0 && s.p == 1, "no difference at all: p 1");
    CHECK(fn_paired_test(zero, d1, 1, &s) == FN_ERR_ARG, "one pair is refused");
    const double bad[] = {1, NAN};
    CHECK(fn_paired_test(zero, bad, 2, &s) == FN_ERR_ARG, "NaN is refused");
    return check_summary("test_stats");
}
