/* reduce_sum on the device against a double-precision sum, and its count of
 * NaN and infinite values; reduce_sumsq (several tensors together) against
 * the plain-C twin in double. */
#include "check.h"
#include "ref/ref.h"

/* Sum and sum of magnitudes in double: the error allowance scales with the
 * latter, since cancellation is not the kernel's fault. */
static void double_sum(const float *x, int n, double *sum, double *mag)
{
    *sum = *mag = 0;
    for (int i = 0; i < n; i++) {
        *sum += x[i];
        *mag += fabs(x[i]);
    }
}

static void check_sum(fn_device *dev, const char *what, const float *x, int n)
{
    cl_mem mx = dev_upload(dev, x, n > 0 ? n : 1), mout = dev_upload(dev, NULL, 2);
    float got[2], ref[2];
    CHECK_OK(fn_reduce_sum(dev, mout, mx, n));
    dev_download(dev, mout, got, 2);
    fn_ref_reduce_sum(ref, x, n);
    double sum, mag;
    double_sum(x, n, &sum, &mag);
    /* A few float roundings of the magnitude sum, far below the error of a
     * running float sum over 1<<20 values. */
    double tol = 4e-7 * mag + 1e-30;
    CHECK(fabs(got[0] - sum) <= tol, "%s n=%d: sum %.9g, want %.9g (tolerance %.3g)", what, n,
          got[0], sum, tol);
    CHECK(fabs(ref[0] - sum) <= fabs(sum) * 1e-7, "%s n=%d: ref sum %.9g, want %.9g", what, n,
          ref[0], sum);
    CHECK(got[1] == 0 && ref[1] == 0, "%s n=%d: non-finite count %g (ref %g), want 0", what, n,
          got[1], ref[1]);
    fn_buffer_free(mx);
    fn_buffer_free(mout);
}

static void test_sums(fn_device *dev, fn_rng *r)
{
    const int sizes[] = {1, 63, 64, 257, 1000, 65537, 1 << 20};
    /* Small-shape mode: up to 65537, still more than one group of partial sums. */
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0] - (test_small() ? 1 : 0); t++) {
        int n = sizes[t];
        float *x = malloc(n * sizeof *x);
        fill_uniform(r, x, n, 0, 1); /* all positive: any lost bits show */
        check_sum(dev, "positive", x, n);
        fill_uniform(r, x, n, -1, 1.5f);
        check_sum(dev, "mixed", x, n);
        /* A large offset, where a running float sum loses the small parts. */
        for (int i = 0; i < n; i++)
            x[i] = 1000.0f + fn_rng_uniform(r) * 1e-3f;
        check_sum(dev, "offset", x, n);
        free(x);
    }

    /* n = 0 gives zeros, whatever out held. */
    float one = 5, got[2];
    cl_mem mx = dev_upload(dev, &one, 1), mout = dev_upload(dev, NULL, 2);
    CHECK_OK(fn_buffer_fill(dev, mout, 0, 2 * sizeof(float), 9.0f));
    CHECK_OK(fn_reduce_sum(dev, mout, mx, 0));
    dev_download(dev, mout, got, 2);
    CHECK(got[0] == 0 && got[1] == 0, "n=0: got %g %g, want 0 0", got[0], got[1]);
    CHECK(fn_reduce_sum(dev, mout, mx, -1) == FN_ERR_ARG, "negative n accepted");
    fn_buffer_free(mx);
    fn_buffer_free(mout);
}

/* 2^24 + 3 ones: a running float sum stalls at 2^24; partial sums that stay
 * small round only in the last addition, to the float nearest n. */
static void test_exact_count(fn_device *dev)
{
    int n = (1 << 24) + 3;
    float *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++)
        x[i] = 1.0f;
    cl_mem mx = dev_upload(dev, x, n), mout = dev_upload(dev, NULL, 2);
    float got[2];
    CHECK_OK(fn_reduce_sum(dev, mout, mx, n));
    dev_download(dev, mout, got, 2);
    CHECK(got[0] == (float)n, "ones n=%d: sum %.9g, want %.9g", n, got[0], (float)n);
    CHECK(got[1] == 0, "ones: non-finite count %g", got[1]);
    fn_buffer_free(mx);
    fn_buffer_free(mout);
    free(x);
}

static void test_nonfinite(fn_device *dev, fn_rng *r)
{
    const int sizes[] = {1, 63, 1000, 1 << 20};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0] - (test_small() ? 1 : 0); t++) {
        int n = sizes[t];
        float *x = malloc(n * sizeof *x);
        float got[2], ref[2];
        cl_mem mx = dev_upload(dev, NULL, n), mout = dev_upload(dev, NULL, 2);

        /* NaN at the ends and, for larger n, a few in between. */
        fill_uniform(r, x, n, -1, 1);
        x[n - 1] = NAN;
        x[0] = NAN;
        int want = n == 1 ? 1 : 2;
        if (n > 100) {
            x[n / 2] = NAN;
            x[n / 3] = INFINITY;
            x[n / 5] = -INFINITY;
            want += 3;
        }
        CHECK_OK(fn_buffer_write(dev, mx, 0, n * sizeof(float), x));
        CHECK_OK(fn_reduce_sum(dev, mout, mx, n));
        dev_download(dev, mout, got, 2);
        fn_ref_reduce_sum(ref, x, n);
        CHECK(got[1] == want && ref[1] == want, "NaN n=%d: count %g (ref %g), want %d", n, got[1],
              ref[1], want);
        CHECK(isnan(got[0]) && isnan(ref[0]), "NaN n=%d: sum %g (ref %g), want NaN", n, got[0],
              ref[0]);

        /* Only +inf: the sum is +inf, not the NaN a naive Kahan step would give. */
        fill_uniform(r, x, n, -1, 1);
        x[n / 2] = INFINITY;
        CHECK_OK(fn_buffer_write(dev, mx, 0, n * sizeof(float), x));
        CHECK_OK(fn_reduce_sum(dev, mout, mx, n));
        dev_download(dev, mout, got, 2);
        CHECK(got[1] == 1, "inf n=%d: count %g, want 1", n, got[1]);
        CHECK(isinf(got[0]) && got[0] > 0, "inf n=%d: sum %g, want inf", n, got[0]);

        /* Finite values whose float sum overflows are not counted as non-finite. */
        for (int i = 0; i < n; i++)
            x[i] = 3e38f;
        CHECK_OK(fn_buffer_write(dev, mx, 0, n * sizeof(float), x));
        CHECK_OK(fn_reduce_sum(dev, mout, mx, n));
        dev_download(dev, mout, got, 2);
        CHECK(got[1] == 0, "overflow n=%d: count %g, want 0", n, got[1]);
        if (n > 1) CHECK(isinf(got[0]), "overflow n=%d: sum %g, want inf", n, got[0]);

        fn_buffer_free(mx);
        fn_buffer_free(mout);
        free(x);
    }
}

/* Several tensors of mixed sizes (empty ones among them) against the double
 * sum of all their squares: a lost tensor, a tensor counted twice or
 * partials overwriting each other change it by far more than the rounding. */
static void test_sumsq(fn_device *dev, fn_rng *r)
{
    const size_t sizes[] = {150, 6, 0, 2400, 16, 48000, 120, 1, 10080, 84, 850, 10, 65537};
    enum { T = sizeof sizes / sizeof sizes[0] };
    float *host[T];
    cl_mem dbuf[T], mout = dev_upload(dev, NULL, 2);
    for (int t = 0; t < T; t++) {
        size_t n = sizes[t] ? sizes[t] : 1;
        host[t] = malloc(n * sizeof(float));
        fill_uniform(r, host[t], (int)n, -0.5f * (t + 1), 0.25f * (t + 1));
        dbuf[t] = dev_upload(dev, host[t], (int)n);
    }
    for (int count = 0; count <= T; count += count < 3 ? 1 : 5) {
        float got[2], ref[2];
        CHECK_OK(fn_buffer_fill(dev, mout, 0, 2 * sizeof(float), 9.0f));
        CHECK_OK(fn_reduce_sumsq(dev, mout, dbuf, sizes, count));
        dev_download(dev, mout, got, 2);
        fn_ref_reduce_sumsq(ref, (const float *const *)host, sizes, count);
        double want = 0;
        for (int t = 0; t < count; t++)
            for (size_t i = 0; i < sizes[t]; i++)
                want += (double)host[t][i] * host[t][i];
        /* All terms are positive: a few float roundings of the total. */
        CHECK(fabs(got[0] - want) <= 4e-7 * want, "sumsq of %d tensors: %.9g, want %.9g", count,
              got[0], want);
        CHECK(fabs(ref[0] - want) <= 1e-7 * want, "ref sumsq of %d tensors: %.9g, want %.9g", count,
              ref[0], want);
        CHECK(got[1] == 0 && ref[1] == 0, "sumsq of %d tensors: non-finite count %g (ref %g)",
              count, got[1], ref[1]);
        if (count == 0) CHECK(got[0] == 0, "no tensors: sumsq %g, want 0", got[0]);
    }

    /* A NaN in the last tensor and an inf in the first are counted; the sum is
     * not finite. */
    float nan = NAN, inf = INFINITY, got[2];
    CHECK_OK(fn_buffer_write(dev, dbuf[T - 1], 1000 * sizeof(float), sizeof nan, &nan));
    CHECK_OK(fn_buffer_write(dev, dbuf[0], 0, sizeof inf, &inf));
    CHECK_OK(fn_reduce_sumsq(dev, mout, dbuf, sizes, T));
    dev_download(dev, mout, got, 2);
    CHECK(got[1] == 2 && !isfinite(got[0]), "sumsq with NaN and inf: %g, count %g (want 2)", got[0],
          got[1]);

    /* Squares that overflow a float: +inf, counted as finite values. */
    float big = 2e19f;
    CHECK_OK(fn_buffer_write(dev, dbuf[1], 0, sizeof big, &big));
    CHECK_OK(fn_reduce_sumsq(dev, mout, dbuf + 1, sizes + 1, 1));
    dev_download(dev, mout, got, 2);
    CHECK(isinf(got[0]) && got[0] > 0 && got[1] == 0, "sumsq overflow: %g, count %g", got[0],
          got[1]);
    CHECK(fn_reduce_sumsq(dev, mout, dbuf, sizes, -1) == FN_ERR_ARG, "negative count accepted");
    for (int t = 0; t < T; t++) {
        fn_buffer_free(dbuf[t]);
        free(host[t]);
    }
    fn_buffer_free(mout);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 11);
    test_sums(dev, &r);
    test_nonfinite(dev, &r);
    test_sumsq(dev, &r);
    if (!test_small()) test_exact_count(dev); /* 2^24 floats */
    fn_device_free(dev);
    return check_summary("test_reduce");
}
