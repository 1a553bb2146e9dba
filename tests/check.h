/* A small test kit: checks that count, an llm.c-style comparison of buffers,
 * central finite differences, and device helpers. Header-only so each test is
 * one file. */
#ifndef FN_CHECK_H
#define FN_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#include "check_count.h"

/* Checks that an fn_status is FN_OK, printing the library's message if not. */
#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        fn_status check_st_ = (expr);                                                              \
        CHECK(check_st_ == FN_OK, "%s -> %s: %s", #expr, fn_status_name(check_st_),                \
              fn_last_error());                                                                    \
    } while (0)

/* Compares got against ref: |got - ref| <= atol + rtol * |ref|. Skips reference
 * values that are not finite, prints the first few mismatches and the largest
 * difference. Returns 1 when all match. */
static inline int check_close(const char *what, const float *got, const float *ref, size_t n, float atol,
                       float rtol)
{
    size_t bad = 0, worst = 0;
    double worst_diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ref[i]))
            continue;
        double diff = fabs((double)got[i] - (double)ref[i]);
        if (!(diff <= atol + rtol * fabs((double)ref[i]))) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.7g, want %.7g\n", what, i, got[i], ref[i]);
            bad++;
        }
        if (!(diff <= worst_diff)) {
            worst_diff = diff;
            worst = i;
        }
    }
    check_count++;
    if (bad) {
        check_failed++;
        fprintf(stderr, "FAIL %s: %zu of %zu differ; largest difference %.3g at %zu\n", what, bad,
                n, worst_diff, worst);
    }
    return bad == 0;
}

static inline void fill_uniform(fn_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * fn_rng_uniform(r);
}

/* Central finite differences of a scalar function f(x) with respect to x,
 * compared with the analytic gradient g. f is evaluated in whatever precision
 * it computes; the difference quotient is formed in double. tol is relative to
 * max(1, |g|). Returns 1 when all match. */
typedef double (*fd_fn)(void *ctx);
static inline int check_fd(const char *what, float *x, const float *g, size_t n, fd_fn f, void *ctx,
                    double eps, double tol)
{
    size_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = (float)(keep + eps);
        double fp = f(ctx);
        x[i] = (float)(keep - eps);
        double fm = f(ctx);
        x[i] = keep;
        double num = (fp - fm) / (2 * eps);
        double err = fabs(num - g[i]) / fmax(1.0, fabs(g[i]));
        if (err > worst)
            worst = err;
        if (!(err <= tol)) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: analytic %.7g, finite difference %.7g\n", what, i,
                        g[i], num);
            bad++;
        }
    }
    check_count++;
    if (bad) {
        check_failed++;
        fprintf(stderr, "FAIL %s: %zu of %zu gradients differ (worst relative error %.3g)\n",
                what, bad, n, worst);
    }
    return bad == 0;
}

/* Small-shape mode: FOCUSNET_TEST_SMALL=1 (set by tests/oclgrind.sh) asks op
 * tests for the awkward cases at sizes a simulator runs quickly. */
static inline int test_small(void)
{
    const char *e = getenv("FOCUSNET_TEST_SMALL");
    return e && *e && strcmp(e, "0") != 0;
}

static inline fn_device *test_device(void)
{
    fn_device *dev = NULL;
    if (fn_device_open(NULL, &dev) != FN_OK) {
        fprintf(stderr, "FAIL: no OpenCL device: %s\n", fn_last_error());
        exit(1);
    }
    return dev;
}

/* Uploads n floats (or allocates zeros when host is NULL). */
static inline cl_mem dev_upload(fn_device *dev, const float *host, size_t n)
{
    cl_mem m = NULL;
    if (fn_buffer_new(dev, n * sizeof(float), &m) != FN_OK) {
        fprintf(stderr, "FAIL: allocation: %s\n", fn_last_error());
        exit(1);
    }
    if (host)
        fn_buffer_write(dev, m, 0, n * sizeof(float), host);
    else
        fn_buffer_fill(dev, m, 0, n * sizeof(float), 0.0f);
    return m;
}

static inline void dev_download(fn_device *dev, cl_mem m, float *host, size_t n)
{
    if (fn_buffer_read(dev, m, 0, n * sizeof(float), host) != FN_OK) {
        fprintf(stderr, "FAIL: read back: %s\n", fn_last_error());
        exit(1);
    }
}

#endif
