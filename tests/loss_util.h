/* Helpers shared by test_loss.c and test_focus.c: random batches, the device
 * against the reference, and finite differences of the batch-mean loss. */
#ifndef FN_LOSS_UTIL_H
#define FN_LOSS_UTIL_H

#include "check.h"
#include "loss/loss.h"

static inline cl_mem dev_upload_int(fn_device *dev, const int32_t *host, size_t n)
{
    cl_mem m = NULL;
    if (fn_buffer_new(dev, n * sizeof(int32_t), &m) != FN_OK ||
        fn_buffer_write(dev, m, 0, n * sizeof(int32_t), host) != FN_OK) {
        fprintf(stderr, "FAIL: allocation: %s\n", fn_last_error());
        exit(1);
    }
    return m;
}

/* One batch on the host: logits (N, K), ref_logits (N, K), labels (N). */
typedef struct {
    int n, k;
    float *z, *zr;
    int32_t *y;
} batch;

static inline batch batch_new(int n, int k)
{
    batch b = {n, k, calloc((size_t)n * k, sizeof(float)), calloc((size_t)n * k, sizeof(float)),
               calloc((size_t)n, sizeof(int32_t))};
    if (!b.z || !b.zr || !b.y) {
        fprintf(stderr, "FAIL: out of memory\n");
        exit(1);
    }
    return b;
}

static inline void batch_free(batch *b)
{
    free(b->z);
    free(b->zr);
    free(b->y);
}

/* Logits uniform in [-scale, scale], labels uniform. */
static inline batch batch_random(fn_rng *r, int n, int k, float scale)
{
    batch b = batch_new(n, k);
    fill_uniform(r, b.z, (size_t)n * k, -scale, scale);
    fill_uniform(r, b.zr, (size_t)n * k, -scale, scale);
    for (int i = 0; i < n; i++)
        b.y[i] = (int32_t)fn_rng_below(r, (uint32_t)k);
    return b;
}

/* Moves baseline logits away from the softmax rule's threshold, where float
 * (device) and double (reference) could honestly disagree on a class. */
static inline void keep_off_threshold(batch *b, float temp)
{
    for (int i = 0; i < b->n; i++) {
        float *zb = b->zr + (size_t)i * b->k;
        for (int again = 1; again;) {
            again = 0;
            double m = -INFINITY, s = 0;
            for (int j = 0; j < b->k; j++)
                m = fmax(m, zb[j] / temp);
            for (int j = 0; j < b->k; j++)
                s += exp(zb[j] / temp - m);
            for (int j = 0; j < b->k && !again; j++)
                if (fabs(exp(zb[j] / temp - m) / s * b->k - 1.0) < 1e-3) {
                    zb[j] += 0.05f * temp;
                    again = 1;
                }
        }
    }
}

typedef struct {
    float *loss, *grad, *mw;
} loss_out;

static inline loss_out out_new(int n, int k)
{
    loss_out o = {calloc((size_t)n, sizeof(float)), calloc((size_t)n * k, sizeof(float)),
                  calloc((size_t)n * k, sizeof(float))};
    return o;
}

static inline void out_free(loss_out *o)
{
    free(o->loss);
    free(o->grad);
    free(o->mw);
}

static inline int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Runs the device loss on b; dlogits and multiwarm start as NaN so that the
 * test sees they are overwritten. Returns the status. */
static inline fn_status run_device(fn_device *dev, const fn_loss_opts *o, const batch *b,
                                   loss_out *out)
{
    size_t nk = (size_t)b->n * b->k;
    float *nan_fill = malloc(nk * sizeof(float));
    for (size_t i = 0; i < nk; i++)
        nan_fill[i] = NAN;
    cl_mem z = dev_upload(dev, b->z, nk), zr = dev_upload(dev, b->zr, nk);
    cl_mem y = dev_upload_int(dev, b->y, (size_t)b->n);
    cl_mem loss = dev_upload(dev, NULL, (size_t)b->n);
    cl_mem g = dev_upload(dev, nan_fill, nk), mw = dev_upload(dev, nan_fill, nk);
    int needs_ref = o->kind == FN_LOSS_KD || o->kind == FN_LOSS_FOCUS;
    fn_status st = fn_loss_compute(dev, o, loss, g, mw, z, y, needs_ref ? zr : NULL, b->n, b->k);
    if (st == FN_OK) {
        dev_download(dev, loss, out->loss, (size_t)b->n);
        dev_download(dev, g, out->grad, nk);
        dev_download(dev, mw, out->mw, nk);
    }
    cl_mem all[] = {z, zr, y, loss, g, mw};
    for (int i = 0; i < 6; i++)
        fn_buffer_free(all[i]);
    free(nan_fill);
    return st;
}

static inline void run_ref(const fn_loss_opts *o, const batch *b, loss_out *out)
{
    int needs_ref = o->kind == FN_LOSS_KD || o->kind == FN_LOSS_FOCUS;
    fn_ref_loss_compute(o, out->loss, out->grad, o->kind == FN_LOSS_FOCUS ? out->mw : NULL, b->z,
                        b->y, needs_ref ? b->zr : NULL, b->n, b->k);
}

/* Device against reference on b: losses, gradients and (focus) multi-warm labels. */
static inline void compare_device(fn_device *dev, const fn_loss_opts *o, const batch *b,
                                  const char *what)
{
    loss_out d = out_new(b->n, b->k), r = out_new(b->n, b->k);
    size_t nk = (size_t)b->n * b->k;
    char name[160];
    CHECK_OK(run_device(dev, o, b, &d));
    run_ref(o, b, &r);
    snprintf(name, sizeof name, "%s loss N=%d K=%d", what, b->n, b->k);
    check_close(name, d.loss, r.loss, (size_t)b->n, 2e-5f, 2e-5f);
    snprintf(name, sizeof name, "%s dlogits N=%d K=%d", what, b->n, b->k);
    check_close(name, d.grad, r.grad, nk, 2e-6f / b->n, 1e-4f);
    CHECK(all_finite(d.loss, (size_t)b->n) && all_finite(d.grad, nk), "%s: non-finite output",
          name);
    if (o->kind == FN_LOSS_FOCUS) {
        snprintf(name, sizeof name, "%s multiwarm N=%d K=%d", what, b->n, b->k);
        check_close(name, d.mw, r.mw, nk, 1e-7f, 1e-6f);
    }
    out_free(&d);
    out_free(&r);
}

/* Logits of magnitude 1e4: the device still matches the reference, and the
 * reference itself stays finite. Frees the batch. */
static inline void check_huge_logits(fn_device *dev, const fn_loss_opts *o, batch *big,
                                     const char *name)
{
    char what[128];
    snprintf(what, sizeof what, "%s logits 1e4", name);
    compare_device(dev, o, big, what);
    loss_out ro = out_new(big->n, big->k);
    size_t nk = (size_t)big->n * big->k;
    run_ref(o, big, &ro);
    CHECK(all_finite(ro.loss, (size_t)big->n) && all_finite(ro.grad, nk),
          "%s: reference not finite", what);
    out_free(&ro);
    batch_free(big);
}

/* Finite differences of mean(loss) over the batch, by the reference. */
typedef struct {
    const fn_loss_opts *o;
    batch *b;
    float *loss;
} fd_ctx;

static inline double fd_mean_loss(void *p)
{
    fd_ctx *c = p;
    fn_ref_loss_compute(c->o, c->loss, NULL, NULL, c->b->z, c->b->y, c->b->zr, c->b->n, c->b->k);
    double s = 0;
    for (int i = 0; i < c->b->n; i++)
        s += c->loss[i];
    return s / c->b->n;
}

static inline void check_ref_gradient(const fn_loss_opts *o, batch *b, const char *what)
{
    loss_out r = out_new(b->n, b->k);
    run_ref(o, b, &r);
    fd_ctx c = {o, b, r.loss};
    check_fd(what, b->z, r.grad, (size_t)b->n * b->k, fd_mean_loss, &c, 1e-2, 3e-4);
    out_free(&r);
}

#endif
