/* relu and relu6 on the device against the plain-C twins, in place and out of
 * place, and the twins' backward against finite differences; both kernel
 * forms (dev->long_runs: runs of floats per work-item on CPUs, one float per
 * work-item on GPUs) whatever the device. */
#include "check.h"
#include "ref/ref.h"

typedef void (*fwd_fn)(float *y, const float *x, int n);
typedef void (*bwd_fn)(float *dx, const float *dy, const float *y, int n);
typedef fn_status (*dev_fwd_fn)(fn_device *dev, cl_mem y, cl_mem x, int n);
typedef fn_status (*dev_bwd_fn)(fn_device *dev, cl_mem dx, cl_mem dy, cl_mem y, int n);

typedef struct {
    const char *name;
    fwd_fn fwd;
    bwd_fn bwd;
    dev_fwd_fn dev_fwd;
    dev_bwd_fn dev_bwd;
    float top; /* upper kink, or 0 when there is none */
} variant;

/* Inputs in [-8, 8] so relu6 clips too, kept 0.05 away from each kink so
 * neither the comparison nor finite differences straddle one. */
static void fill_away_from_kinks(fn_rng *r, float *x, int n, float top)
{
    for (int i = 0; i < n; i++) {
        float v;
        do
            v = -8 + 16 * fn_rng_uniform(r);
        while (fabsf(v) < 0.05f || (top > 0 && fabsf(v - top) < 0.05f));
        x[i] = v;
    }
}

typedef struct {
    const variant *v;
    float *x, *y, *rr;
    int n;
} fd_ctx;

/* sum(f(x) * r) in double */
static double fd_loss(void *p)
{
    fd_ctx *c = p;
    c->v->fwd(c->y, c->x, c->n);
    double s = 0;
    for (int i = 0; i < c->n; i++)
        s += (double)c->y[i] * c->rr[i];
    return s;
}

static void test_variant(fn_device *dev, fn_rng *r, const variant *v)
{
    const int sizes[] = {1, 63, 64, 65, 1000, 4099, 3 * 4096 + 17};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t];
        size_t bytes = n * sizeof(float);
        float *x = malloc(bytes), *y = malloc(bytes), *dy = malloc(bytes), *dx = malloc(bytes);
        float *got = malloc(bytes);
        fill_away_from_kinks(r, x, n, v->top);
        fill_uniform(r, dy, n, -1, 1);
        v->fwd(y, x, n);
        v->bwd(dx, dy, y, n);

        /* Out of place; dx starts as garbage and must be overwritten. */
        cl_mem mx = dev_upload(dev, x, n), my = dev_upload(dev, NULL, n);
        cl_mem mdy = dev_upload(dev, dy, n), mdx = dev_upload(dev, NULL, n);
        CHECK_OK(fn_buffer_fill(dev, mdx, 0, bytes, NAN));
        CHECK_OK(v->dev_fwd(dev, my, mx, n));
        dev_download(dev, my, got, n);
        check_close(v->name, got, y, n, 0, 0);
        CHECK_OK(v->dev_bwd(dev, mdx, mdy, my, n));
        dev_download(dev, mdx, got, n);
        check_close(v->name, got, dx, n, 0, 0);
        CHECK_OK(v->dev_bwd(dev, NULL, mdy, my, n)); /* dx not needed: a no-op */

        /* In place: the output overwrites x, the gradient overwrites dy. */
        CHECK_OK(v->dev_fwd(dev, mx, mx, n));
        dev_download(dev, mx, got, n);
        check_close(v->name, got, y, n, 0, 0);
        CHECK_OK(v->dev_bwd(dev, mdy, mdy, mx, n));
        dev_download(dev, mdy, got, n);
        check_close(v->name, got, dx, n, 0, 0);

        if (n <= 1000) {
            float *rr = malloc(bytes), *ytmp = malloc(bytes);
            fill_uniform(r, rr, n, -1, 1);
            v->bwd(dx, rr, y, n); /* d sum(y * r) / dx */
            fd_ctx c = {v, x, ytmp, rr, n};
            check_fd(v->name, x, dx, n, fd_loss, &c, 1e-2, 1e-4);
            free(rr);
            free(ytmp);
        }
        fn_buffer_free(mx);
        fn_buffer_free(my);
        fn_buffer_free(mdy);
        fn_buffer_free(mdx);
        free(x);
        free(y);
        free(dy);
        free(dx);
        free(got);
    }
}

/* Exact values at and around the kinks, and NaN kept so it can be detected later. */
static void test_kinks(fn_device *dev)
{
    float x[] = {-1, 0, 1e-30f, 3, 6, 7, NAN, -INFINITY, INFINITY};
    float want_relu[] = {0, 0, 1e-30f, 3, 6, 7, NAN, 0, INFINITY};
    float want_relu6[] = {0, 0, 1e-30f, 3, 6, 6, NAN, 0, 6};
    float mask_relu[] = {0, 0, 1, 1, 1, 1, 0, 0, 1};
    float mask_relu6[] = {0, 0, 1, 1, 0, 0, 0, 0, 0};
    float ones[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    int n = sizeof x / sizeof x[0];
    float got[9];
    cl_mem mx = dev_upload(dev, x, n), my = dev_upload(dev, NULL, n);
    cl_mem m1 = dev_upload(dev, ones, n), mdx = dev_upload(dev, NULL, n);

    CHECK_OK(fn_relu_forward(dev, my, mx, n));
    dev_download(dev, my, got, n);
    check_close("relu kinks", got, want_relu, n, 0, 0);
    CHECK(isnan(got[6]), "relu(NaN) = %g, want NaN", got[6]);
    CHECK_OK(fn_relu_backward(dev, mdx, m1, my, n));
    dev_download(dev, mdx, got, n);
    check_close("relu mask", got, mask_relu, n, 0, 0);

    CHECK_OK(fn_relu6_forward(dev, my, mx, n));
    dev_download(dev, my, got, n);
    check_close("relu6 kinks", got, want_relu6, n, 0, 0);
    CHECK(isnan(got[6]), "relu6(NaN) = %g, want NaN", got[6]);
    CHECK_OK(fn_relu6_backward(dev, mdx, m1, my, n));
    dev_download(dev, mdx, got, n);
    check_close("relu6 mask", got, mask_relu6, n, 0, 0);

    /* The twins agree on the same points. */
    float ref[9];
    fn_ref_relu6_forward(ref, x, n);
    check_close("ref relu6 kinks", ref, want_relu6, n, 0, 0);
    fn_ref_relu_forward(ref, x, n);
    check_close("ref relu kinks", ref, want_relu, n, 0, 0);
    CHECK(isnan(ref[6]), "ref relu(NaN) = %g, want NaN", ref[6]);

    CHECK(fn_relu_forward(dev, my, mx, -1) == FN_ERR_ARG, "negative n accepted");
    fn_buffer_free(mx);
    fn_buffer_free(my);
    fn_buffer_free(m1);
    fn_buffer_free(mdx);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);
    const variant vs[] = {
        {"relu", fn_ref_relu_forward, fn_ref_relu_backward, fn_relu_forward, fn_relu_backward, 0},
        {"relu6", fn_ref_relu6_forward, fn_ref_relu6_backward, fn_relu6_forward, fn_relu6_backward,
         6},
    };
    const int native = dev->long_runs;
    for (int pass = 0; pass < 2; pass++) {
        dev->long_runs = pass ? !native : native;
        for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
            test_variant(dev, &r, &vs[i]);
        test_kinks(dev);
    }
    dev->long_runs = native;
    fn_device_free(dev);
    return check_summary("test_relu");
}
