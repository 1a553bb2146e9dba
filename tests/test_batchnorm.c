/* batchnorm on the device against the plain-C twin (statistics, running
 * estimates, evaluation, backward and the gradient rule), PyTorch's semantics
 * on a hand-worked case, and the twin's backward against finite differences. */
#include <float.h>
#include "check.h"
#include "ref/ref.h"

#define MOMENTUM 0.1f
#define EPS 1e-5f

typedef struct {
    int n, c, hw;
    float offset; /* added to x: the variance must survive a large mean */
} shape;

typedef struct {
    int n, c, hw, total;
    float *x, *gamma, *beta, *rm, *rv;
} bn_case;

static void case_new(bn_case *k, fn_rng *r, const shape *s)
{
    k->n = s->n;
    k->c = s->c;
    k->hw = s->hw;
    k->total = s->n * s->c * s->hw;
    k->x = malloc(k->total * sizeof(float));
    k->gamma = malloc(s->c * sizeof(float));
    k->beta = malloc(s->c * sizeof(float));
    k->rm = malloc(s->c * sizeof(float));
    k->rv = malloc(s->c * sizeof(float));
    /* Channels get their own scale, so each one's statistics differ. */
    for (int ch = 0; ch < s->c; ch++) {
        float scale = 0.2f + 2 * fn_rng_uniform(r);
        for (int b = 0; b < s->n; b++)
            for (int j = 0; j < s->hw; j++)
                k->x[(b * s->c + ch) * s->hw + j] = s->offset + scale * (2 * fn_rng_uniform(r) - 1);
    }
    fill_uniform(r, k->gamma, s->c, -1.5f, 1.5f);
    fill_uniform(r, k->beta, s->c, -1, 1);
    fill_uniform(r, k->rm, s->c, -1, 1);
    fill_uniform(r, k->rv, s->c, 0.5f, 2);
}

static void case_free(bn_case *k)
{
    free(k->x);
    free(k->gamma);
    free(k->beta);
    free(k->rm);
    free(k->rv);
}

/* Batch norm with the following ReLU (act 1) or ReLU6 (act 2) fused in,
 * training and evaluation. */
static void test_fused_act(fn_device *dev, fn_rng *r, const shape *s, int act)
{
    bn_case k;
    case_new(&k, r, s);
    int t = k.total, c = k.c;
    for (int i = 0; i < c; i++) /* outputs beyond 6 for ReLU6 to clip */
        k.gamma[i] *= 4;
    float *y = malloc(t * sizeof(float)), *got = malloc(t * sizeof(float));
    float *sm = malloc(c * sizeof(float)), *si = malloc(c * sizeof(float));
    cl_mem mx = dev_upload(dev, k.x, t), my = dev_upload(dev, NULL, t);
    cl_mem mg = dev_upload(dev, k.gamma, c), mb = dev_upload(dev, k.beta, c);
    cl_mem mrm = dev_upload(dev, k.rm, c), mrv = dev_upload(dev, k.rv, c);
    cl_mem msm = dev_upload(dev, NULL, c), msi = dev_upload(dev, NULL, c);
    fn_ref_batchnorm_forward_train(y, sm, si, k.x, k.gamma, k.beta, k.rm, k.rv, k.n, k.c, k.hw,
                                   MOMENTUM, EPS);
    (act == 1 ? fn_ref_relu_forward : fn_ref_relu6_forward)(y, y, t);
    CHECK_OK(fn_batchnorm_forward_train_ex(dev, my, msm, msi, mx, mg, mb, mrm, mrv, k.n, k.c, k.hw,
                                           MOMENTUM, EPS, act));
    dev_download(dev, my, got, t);
    check_close(act == 1 ? "train y + relu" : "train y + relu6", got, y, t, 2e-5f, 2e-5f);
    CHECK_OK(fn_buffer_write(dev, mrm, 0, c * sizeof(float), k.rm));
    CHECK_OK(fn_buffer_write(dev, mrv, 0, c * sizeof(float), k.rv));
    fn_ref_batchnorm_forward_eval(y, k.x, k.gamma, k.beta, k.rm, k.rv, k.n, k.c, k.hw, EPS);
    (act == 1 ? fn_ref_relu_forward : fn_ref_relu6_forward)(y, y, t);
    CHECK_OK(fn_batchnorm_forward_eval_ex(dev, my, mx, mg, mb, mrm, mrv, k.n, k.c, k.hw, EPS, act));
    dev_download(dev, my, got, t);
    check_close(act == 1 ? "eval y + relu" : "eval y + relu6", got, y, t, 1e-5f, 1e-5f);
    cl_mem m[] = {mx, my, mg, mb, mrm, mrv, msm, msi};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
    free(y), free(got), free(sm), free(si);
    case_free(&k);
}

/* NaN in batch norm's two scratch slots (per-plane partial sums, per-channel
 * values), large enough for n*c planes: a kernel reading a value no earlier
 * kernel wrote shows as NaN in its outputs. */
static void poison_scratch(fn_device *dev, int planes)
{
    for (int slot = 0; slot < 2; slot++) {
        cl_mem m;
        size_t bytes = 2 * (size_t)planes * sizeof(float);
        CHECK_OK(fn_scratch(dev, slot, bytes, &m));
        CHECK_OK(fn_buffer_fill(dev, m, 0, bytes, NAN));
    }
}

static int same_bits(const char *what, const float *a, const float *b, size_t n)
{
    int same = memcmp(a, b, n * sizeof(float)) == 0;
    CHECK(same, "%s: not bit for bit the same", what);
    return same;
}

/* Batch norm's backward with the ReLU (act 1) or ReLU6 (act 2) after it
 * folded in (fn_batchnorm_backward_ex), from a fused training forward:
 * against the twins (the activation's backward masking by the device's
 * output, then batch norm's), bit for bit against the device's two separate
 * passes, and, like the forward, bit for bit the same with small planes one
 * or several to a work-item (dev->bn_group). */
static void test_fused_backward(fn_device *dev, fn_rng *r, const shape *s, int act)
{
    bn_case k;
    case_new(&k, r, s);
    int t = k.total, c = k.c;
    char what[80];
    snprintf(what, sizeof what, "fused backward act %d (%d,%d,%d)", act, s->n, s->c, s->hw);
    for (int i = 0; i < c; i++) /* outputs beyond 6 for ReLU6 to clip */
        k.gamma[i] *= 4;
    float *y = malloc(t * sizeof(float)), *y2 = malloc(t * sizeof(float));
    float *sm = malloc(c * sizeof(float)), *si = malloc(c * sizeof(float));
    float *dy = malloc(t * sizeof(float)), *g = malloc(t * sizeof(float));
    float *dx = malloc(t * sizeof(float)), *dg = malloc(c * sizeof(float));
    float *db = malloc(c * sizeof(float)), *dg0 = malloc(c * sizeof(float));
    float *db0 = malloc(c * sizeof(float));
    float *got[2][3];
    for (int v = 0; v < 2; v++) {
        got[v][0] = malloc(t * sizeof(float));
        got[v][1] = malloc(c * sizeof(float));
        got[v][2] = malloc(c * sizeof(float));
    }
    cl_mem mx = dev_upload(dev, k.x, t), my = dev_upload(dev, NULL, t);
    cl_mem mg = dev_upload(dev, k.gamma, c), mb = dev_upload(dev, k.beta, c);
    cl_mem mrm = dev_upload(dev, k.rm, c), mrv = dev_upload(dev, k.rv, c);
    cl_mem msm = dev_upload(dev, NULL, c), msi = dev_upload(dev, NULL, c);
    fill_uniform(r, dy, t, -1, 1);
    fill_uniform(r, dg0, c, -1, 1);
    fill_uniform(r, db0, c, -1, 1);
    cl_mem mdy = dev_upload(dev, dy, t), mdx = dev_upload(dev, NULL, t);
    cl_mem mdg = dev_upload(dev, NULL, c), mdb = dev_upload(dev, NULL, c);
    cl_mem mgm = dev_upload(dev, NULL, t);

    /* The forward, one plane and several to an item: the same bits. */
    int group = dev->bn_group;
    for (int v = 0; v < 2; v++) {
        dev->bn_group = v == 0;
        poison_scratch(dev, k.n * k.c);
        CHECK_OK(fn_buffer_fill(dev, my, 0, t * sizeof(float), NAN));
        CHECK_OK(fn_batchnorm_forward_train_ex(dev, my, msm, msi, mx, mg, mb, mrm, mrv, k.n, k.c,
                                               k.hw, MOMENTUM, EPS, act));
        dev_download(dev, my, v ? y2 : y, t);
    }
    same_bits("forward, planes grouped or not", y, y2, t);
    dev_download(dev, msm, sm, c);
    dev_download(dev, msi, si, c);

    /* The twins: the activation's backward masks by the device's output. */
    (act == 1 ? fn_ref_relu_backward : fn_ref_relu6_backward)(g, dy, y, t);
    memcpy(dg, dg0, c * sizeof(float));
    memcpy(db, db0, c * sizeof(float));
    fn_ref_batchnorm_backward(dx, dg, db, g, k.x, sm, si, k.gamma, k.n, k.c, k.hw);
    float atol = 1e-6f * (float)(k.n * k.hw) + 1e-5f;
    for (int v = 0; v < 2; v++) {
        dev->bn_group = v == 0;
        poison_scratch(dev, k.n * k.c);
        CHECK_OK(fn_buffer_fill(dev, mdx, 0, t * sizeof(float), NAN));
        CHECK_OK(fn_buffer_write(dev, mdg, 0, c * sizeof(float), dg0));
        CHECK_OK(fn_buffer_write(dev, mdb, 0, c * sizeof(float), db0));
        CHECK_OK(fn_batchnorm_backward_ex(dev, mdx, mdg, mdb, mdy, mx, msm, msi, mg, mb, k.n, k.c,
                                          k.hw, act));
        dev_download(dev, mdx, got[v][0], t);
        dev_download(dev, mdg, got[v][1], c);
        dev_download(dev, mdb, got[v][2], c);
    }
    check_close("fused dx", got[0][0], dx, t, 2e-5f, 1e-4f);
    check_close("fused dgamma", got[0][1], dg, c, atol, 1e-5f);
    check_close("fused dbeta", got[0][2], db, c, atol, 1e-5f);
    same_bits("fused dx, planes grouped or not", got[0][0], got[1][0], t);
    same_bits("fused dgamma, planes grouped or not", got[0][1], got[1][1], c);
    same_bits("fused dbeta, planes grouped or not", got[0][2], got[1][2], c);
    dev->bn_group = group;

    /* The device's two passes: the same bits as the fused one. */
    poison_scratch(dev, k.n * k.c);
    CHECK_OK(fn_buffer_fill(dev, mdx, 0, t * sizeof(float), NAN));
    CHECK_OK(fn_buffer_write(dev, mdg, 0, c * sizeof(float), dg0));
    CHECK_OK(fn_buffer_write(dev, mdb, 0, c * sizeof(float), db0));
    CHECK_OK((act == 1 ? fn_relu_backward : fn_relu6_backward)(dev, mgm, mdy, my, t));
    CHECK_OK(fn_batchnorm_backward(dev, mdx, mdg, mdb, mgm, mx, msm, msi, mg, k.n, k.c, k.hw));
    dev_download(dev, mdx, got[1][0], t);
    dev_download(dev, mdg, got[1][1], c);
    dev_download(dev, mdb, got[1][2], c);
    same_bits("dx, fused or two passes", got[0][0], got[1][0], t);
    same_bits("dgamma, fused or two passes", got[0][1], got[1][1], c);
    same_bits("dbeta, fused or two passes", got[0][2], got[1][2], c);

    /* No dx wanted: dgamma and dbeta still get the masked sums. */
    CHECK_OK(fn_buffer_write(dev, mdg, 0, c * sizeof(float), dg0));
    CHECK_OK(fn_buffer_write(dev, mdb, 0, c * sizeof(float), db0));
    CHECK_OK(fn_batchnorm_backward_ex(dev, NULL, mdg, mdb, mdy, mx, msm, msi, mg, mb, k.n, k.c,
                                      k.hw, act));
    dev_download(dev, mdg, got[1][1], c);
    dev_download(dev, mdb, got[1][2], c);
    same_bits("fused dgamma (dx NULL)", got[0][1], got[1][1], c);
    same_bits("fused dbeta (dx NULL)", got[0][2], got[1][2], c);
    if (check_failed) fprintf(stderr, "  after %s\n", what);

    cl_mem m[] = {mx, my, mg, mb, mrm, mrv, msm, msi, mdy, mdx, mdg, mdb, mgm};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
    for (int v = 0; v < 2; v++)
        free(got[v][0]), free(got[v][1]), free(got[v][2]);
    free(y), free(y2), free(sm), free(si), free(dy), free(g), free(dx), free(dg), free(db);
    free(dg0), free(db0);
    case_free(&k);
}

/* fn_batchnorm_backward_ex refuses an activation it does not know, and one
 * without the beta it needs to find where the activation was flat. */
static void test_backward_ex_args(fn_device *dev)
{
    cl_mem m = dev_upload(dev, NULL, 8);
    CHECK(fn_batchnorm_backward_ex(dev, m, m, m, m, m, m, m, m, NULL, 1, 2, 4, 1) == FN_ERR_ARG,
          "act 1 without beta accepted");
    CHECK(fn_batchnorm_backward_ex(dev, m, m, m, m, m, m, m, m, m, 1, 2, 4, 3) == FN_ERR_ARG,
          "act 3 accepted");
    CHECK(fn_batchnorm_backward_ex(dev, m, m, m, m, m, m, m, m, m, 1, 2, 4, -1) == FN_ERR_ARG,
          "act -1 accepted");
    fn_buffer_free(m);
}

static void test_device_shape(fn_device *dev, fn_rng *r, const shape *s)
{
    bn_case k;
    case_new(&k, r, s);
    int t = k.total, c = k.c;
    char what[64];
    snprintf(what, sizeof what, "(%d,%d,%d)+%g", s->n, s->c, s->hw, s->offset);
    float *y = malloc(t * sizeof(float)), *got = malloc(t * sizeof(float));
    float *sm = malloc(c * sizeof(float)), *si = malloc(c * sizeof(float));
    float *gotc = malloc(c * sizeof(float));

    cl_mem mx = dev_upload(dev, k.x, t), my = dev_upload(dev, NULL, t);
    cl_mem mg = dev_upload(dev, k.gamma, c), mb = dev_upload(dev, k.beta, c);
    cl_mem mrm = dev_upload(dev, k.rm, c), mrv = dev_upload(dev, k.rv, c);
    cl_mem msm = dev_upload(dev, NULL, c), msi = dev_upload(dev, NULL, c);

    /* Training forward, twice, so the running estimates compound. */
    for (int step = 0; step < 2; step++) {
        fn_ref_batchnorm_forward_train(y, sm, si, k.x, k.gamma, k.beta, k.rm, k.rv, k.n, k.c, k.hw,
                                       MOMENTUM, EPS);
        CHECK_OK(fn_batchnorm_forward_train(dev, my, msm, msi, mx, mg, mb, mrm, mrv, k.n, k.c, k.hw,
                                            MOMENTUM, EPS));
        dev_download(dev, my, got, t);
        /* Device statistics are float sums; the twin's are double. */
        check_close("train y", got, y, t, 2e-5f, 2e-5f);
        dev_download(dev, msm, gotc, c);
        check_close("save_mean", gotc, sm, c, 1e-6f, 1e-6f);
        dev_download(dev, msi, gotc, c);
        check_close("save_invstd", gotc, si, c, 0, 1e-5f);
        dev_download(dev, mrm, gotc, c);
        check_close("running_mean", gotc, k.rm, c, 1e-6f, 1e-6f);
        dev_download(dev, mrv, gotc, c);
        check_close("running_var", gotc, k.rv, c, 1e-6f, 1e-5f);
        if (check_failed) fprintf(stderr, "  after shape %s, step %d\n", what, step);
    }

    /* Evaluation with the running estimates the device now holds (the
     * twin's match them to within the tolerance just checked). */
    CHECK_OK(fn_buffer_write(dev, mrm, 0, c * sizeof(float), k.rm));
    CHECK_OK(fn_buffer_write(dev, mrv, 0, c * sizeof(float), k.rv));
    fn_ref_batchnorm_forward_eval(y, k.x, k.gamma, k.beta, k.rm, k.rv, k.n, k.c, k.hw, EPS);
    CHECK_OK(fn_batchnorm_forward_eval(dev, my, mx, mg, mb, mrm, mrv, k.n, k.c, k.hw, EPS));
    dev_download(dev, my, got, t);
    check_close("eval y", got, y, t, 1e-5f, 1e-5f);

    /* Backward from the device's saved statistics, so both sides see the same
     * ones; dx starts as garbage, dgamma and dbeta as something to add to. */
    dev_download(dev, msm, sm, c);
    dev_download(dev, msi, si, c);
    float *dy = malloc(t * sizeof(float)), *dx = malloc(t * sizeof(float));
    float *dg = malloc(c * sizeof(float)), *db = malloc(c * sizeof(float));
    fill_uniform(r, dy, t, -1, 1);
    fill_uniform(r, dg, c, -1, 1);
    fill_uniform(r, db, c, -1, 1);
    cl_mem mdy = dev_upload(dev, dy, t), mdx = dev_upload(dev, NULL, t);
    cl_mem mdg = dev_upload(dev, dg, c), mdb = dev_upload(dev, db, c);
    CHECK_OK(fn_buffer_fill(dev, mdx, 0, t * sizeof(float), NAN));
    for (int call = 0; call < 2; call++) {
        fn_ref_batchnorm_backward(dx, dg, db, dy, k.x, sm, si, k.gamma, k.n, k.c, k.hw);
        CHECK_OK(fn_batchnorm_backward(dev, mdx, mdg, mdb, mdy, mx, msm, msi, mg, k.n, k.c, k.hw));
    }
    dev_download(dev, mdx, got, t);
    check_close("dx", got, dx, t, 2e-5f, 1e-4f);
    /* Sums of M terms of size ~1: allow for float accumulation over M. */
    float atol = 1e-6f * (float)(k.n * k.hw) + 1e-5f;
    dev_download(dev, mdg, gotc, c);
    check_close("dgamma (accumulated twice)", gotc, dg, c, atol, 1e-5f);
    dev_download(dev, mdb, gotc, c);
    check_close("dbeta (accumulated twice)", gotc, db, c, atol, 1e-5f);

    /* No dx wanted: the parameter gradients still accumulate. */
    fn_ref_batchnorm_backward(NULL, dg, db, dy, k.x, sm, si, k.gamma, k.n, k.c, k.hw);
    CHECK_OK(fn_batchnorm_backward(dev, NULL, mdg, mdb, mdy, mx, msm, msi, mg, k.n, k.c, k.hw));
    dev_download(dev, mdg, gotc, c);
    check_close("dgamma (dx NULL)", gotc, dg, c, atol, 1e-5f);
    dev_download(dev, mdb, gotc, c);
    check_close("dbeta (dx NULL)", gotc, db, c, atol, 1e-5f);
    if (check_failed) fprintf(stderr, "  after shape %s\n", what);

    cl_mem ms[] = {mx, my, mg, mb, mrm, mrv, msm, msi, mdy, mdx, mdg, mdb};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        fn_buffer_free(ms[i]);
    free(y);
    free(got);
    free(sm);
    free(si);
    free(gotc);
    free(dy);
    free(dx);
    free(dg);
    free(db);
    case_free(&k);
}

/* --sync-bn: a communicator whose other rank holds this one's rows twice
 * (2N of the 3N rows), so that the sum over the ranks is three times this
 * rank's part. The synchronized pass over X must then be the plain pass
 * over [X; X; X]: statistics, running estimates (unbiased over 3M values),
 * y, and dx for dy = [D; D; D]; dgamma and dbeta get this rank's third.
 * (Each rank weighting its backward sums by its share cancels out against
 * a twin; tests/test_mpi.sh checks it with two ranks on unequal shards.) */
static int twin_calls;

static fn_status twin_f64(const fn_comm *c, double *d, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i++)
        d[i] *= 3;
    twin_calls++;
    return FN_OK;
}

static int twin_size(const fn_comm *c)
{
    (void)c;
    return 2;
}

static void test_sync(fn_device *dev, fn_rng *r, const shape *s)
{
    fn_comm twin = *fn_comm_self();
    twin.size = twin_size;
    twin.allreduce_f64 = twin_f64;
    bn_case k;
    case_new(&k, r, s);
    int t = k.total, c = k.c, count = 3 * k.n * k.hw;
    char what[64];
    snprintf(what, sizeof what, "sync (%d,%d,%d)+%g", s->n, s->c, s->hw, s->offset);
    float *x2 = malloc(3 * t * sizeof(float)), *y2 = malloc(3 * t * sizeof(float));
    float *dy2 = malloc(3 * t * sizeof(float)), *dx2 = malloc(3 * t * sizeof(float));
    float *got = malloc(t * sizeof(float)), *gotc = malloc(c * sizeof(float));
    float *sm = malloc(c * sizeof(float)), *si = malloc(c * sizeof(float));
    float *dg = calloc(c, sizeof(float)), *db = calloc(c, sizeof(float));
    double *host = malloc(3 * c * sizeof(double));
    fill_uniform(r, dy2, t, -1, 1);
    for (int part = 0; part < 3; part++) {
        memcpy(x2 + part * t, k.x, t * sizeof(float));
        if (part) memcpy(dy2 + part * t, dy2, t * sizeof(float));
    }
    cl_mem mx = dev_upload(dev, k.x, t), my = dev_upload(dev, NULL, t);
    cl_mem mg = dev_upload(dev, k.gamma, c), mb = dev_upload(dev, k.beta, c);
    cl_mem mrm = dev_upload(dev, k.rm, c), mrv = dev_upload(dev, k.rv, c);
    cl_mem msm = dev_upload(dev, NULL, c), msi = dev_upload(dev, NULL, c);
    cl_mem mdy = dev_upload(dev, dy2, t), mdx = dev_upload(dev, NULL, t);
    cl_mem mdg = dev_upload(dev, dg, c), mdb = dev_upload(dev, db, c);
    twin_calls = 0;
    /* Twice, so that the second step's shift (the running mean) is not 0. */
    for (int step = 0; step < 2; step++) {
        fn_ref_batchnorm_forward_train(y2, sm, si, x2, k.gamma, k.beta, k.rm, k.rv, 3 * k.n, k.c,
                                       k.hw, MOMENTUM, EPS);
        CHECK_OK(fn_batchnorm_forward_train_sync(dev, my, msm, msi, mx, mg, mb, mrm, mrv, k.n, k.c,
                                                 k.hw, MOMENTUM, EPS, 0, &twin, count, host));
        dev_download(dev, my, got, t);
        check_close("sync y", got, y2, t, 2e-5f, 2e-5f);
        dev_download(dev, msm, gotc, c);
        check_close("sync save_mean", gotc, sm, c, 1e-6f, 1e-6f);
        dev_download(dev, msi, gotc, c);
        check_close("sync save_invstd", gotc, si, c, 0, 1e-5f);
        dev_download(dev, mrm, gotc, c);
        check_close("sync running_mean", gotc, k.rm, c, 1e-6f, 1e-6f);
        dev_download(dev, mrv, gotc, c);
        check_close("sync running_var", gotc, k.rv, c, 1e-6f, 1e-5f);
    }
    dev_download(dev, msm, sm, c);
    dev_download(dev, msi, si, c);
    fn_ref_batchnorm_backward(dx2, dg, db, dy2, x2, sm, si, k.gamma, 3 * k.n, k.c, k.hw);
    CHECK_OK(fn_batchnorm_backward_sync(dev, mdx, mdg, mdb, mdy, mx, msm, msi, mg, k.n, k.c, k.hw,
                                        &twin, count, host));
    dev_download(dev, mdx, got, t);
    /* dx = invstd gamma (dy - mean(dy) - xhat mean(dy xhat)): the rounding of
     * the synchronized sums (a few ulps of |dy| <= 1, from the share's round
     * trip through double) comes out times invstd |gamma|, which reaches
     * 1/sqrt(eps), about 316, where a channel's values are all equal (the
     * (1,3,1) case: one value replicated; oclgrind's rounding shows it). */
    float amp = 0;
    for (int i = 0; i < c; i++)
        amp = fmaxf(amp, si[i] * fabsf(k.gamma[i]));
    check_close("sync dx", got, dx2, t, 2e-5f + 8 * FLT_EPSILON * amp, 1e-4f);
    for (int i = 0; i < c; i++)
        dg[i] /= 3, db[i] /= 3;
    float atol = 1e-6f * (float)(k.n * k.hw) + 1e-5f;
    dev_download(dev, mdg, gotc, c);
    check_close("sync dgamma (this rank's third)", gotc, dg, c, atol, 1e-5f);
    dev_download(dev, mdb, gotc, c);
    check_close("sync dbeta (this rank's third)", gotc, db, c, atol, 1e-5f);
    /* One allreduce per pass; a rank without rows makes the same ones. */
    CHECK(twin_calls == 3, "%d allreduces in a forward and a backward, not 2 + 1", twin_calls);
    CHECK_OK(fn_batchnorm_sync_idle(&twin, c, host));
    CHECK(twin_calls == 4 && host[0] == 0 && host[2 * c - 1] == 0,
          "sync_idle: no allreduce of zeros");
    /* Fewer values in all than on this rank is a caller's error. */
    CHECK(fn_batchnorm_forward_train_sync(dev, my, msm, msi, mx, mg, mb, mrm, mrv, k.n, k.c, k.hw,
                                          MOMENTUM, EPS, 0, &twin, k.n * k.hw - 1,
                                          host) == FN_ERR_ARG,
          "a count below this rank's values is accepted");
    if (check_failed) fprintf(stderr, "  after %s\n", what);
    cl_mem ms[] = {mx, my, mg, mb, mrm, mrv, msm, msi, mdy, mdx, mdg, mdb};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        fn_buffer_free(ms[i]);
    free(x2), free(y2), free(dy2), free(dx2), free(got), free(gotc);
    free(sm), free(si), free(dg), free(db), free(host);
    case_free(&k);
}

/* PyTorch's numbers, worked by hand: one channel, x = 1, 2, 3, 4 as (2, 1, 2).
 * mean 2.5, biased var 1.25, unbiased 5/3; running estimates from (0, 1). */
static void test_semantics(fn_device *dev)
{
    float x[] = {1, 2, 3, 4}, gamma = 2, beta = 0.5f, rm = 0, rv = 1;
    float y[4], sm, si, got[4];
    float want_is = (float)(1 / sqrt(1.25 + 1e-5));
    fn_ref_batchnorm_forward_train(y, &sm, &si, x, &gamma, &beta, &rm, &rv, 2, 1, 2, 0.1f, 1e-5f);
    CHECK(sm == 2.5f, "mean %g, want 2.5", sm);
    CHECK(si == want_is, "invstd %.9g, want %.9g", si, want_is);
    CHECK(fabsf(rm - 0.25f) < 1e-7f, "running_mean %.9g, want 0.25", rm);
    CHECK(fabsf(rv - (0.9f + 0.1f * 5 / 3.0f)) < 1e-7f, "running_var %.9g, want %.9g", rv,
          0.9f + 0.1f * 5 / 3.0f);
    for (int i = 0; i < 4; i++)
        CHECK(fabsf(y[i] - ((x[i] - 2.5f) * want_is * 2 + 0.5f)) < 1e-6f, "y[%d] %g", i, y[i]);

    cl_mem mx = dev_upload(dev, x, 4), my = dev_upload(dev, NULL, 4);
    float one[] = {gamma, beta, 0, 1};
    cl_mem mg = dev_upload(dev, &one[0], 1), mb = dev_upload(dev, &one[1], 1);
    cl_mem mrm = dev_upload(dev, &one[2], 1), mrv = dev_upload(dev, &one[3], 1);
    cl_mem msm = dev_upload(dev, NULL, 1), msi = dev_upload(dev, NULL, 1);
    CHECK_OK(
        fn_batchnorm_forward_train(dev, my, msm, msi, mx, mg, mb, mrm, mrv, 2, 1, 2, 0.1f, 1e-5f));
    dev_download(dev, my, got, 4);
    check_close("hand y", got, y, 4, 1e-6f, 0);
    dev_download(dev, mrm, got, 1);
    dev_download(dev, mrv, got + 1, 1);
    CHECK(fabsf(got[0] - 0.25f) < 1e-7f && fabsf(got[1] - rv) < 1e-7f,
          "device running (%.9g, %.9g), want (0.25, %.9g)", got[0], got[1], rv);

    /* M == 1: mean is x, variance 0, y is beta; running_var moves toward 0. */
    rm = 0;
    rv = 1;
    fn_ref_batchnorm_forward_train(y, &sm, &si, x, &gamma, &beta, &rm, &rv, 1, 1, 1, 0.1f, 1e-5f);
    CHECK(y[0] == beta && sm == 1 && rv == 0.9f, "M=1 twin: y %g mean %g running_var %g", y[0], sm,
          rv);
    CHECK_OK(fn_buffer_write(dev, mrv, 0, sizeof(float), &one[3]));
    CHECK_OK(
        fn_batchnorm_forward_train(dev, my, msm, msi, mx, mg, mb, mrm, mrv, 1, 1, 1, 0.1f, 1e-5f));
    dev_download(dev, my, got, 1);
    dev_download(dev, mrv, got + 1, 1);
    CHECK(got[0] == beta && got[1] == 0.9f, "M=1 device: y %g running_var %g", got[0], got[1]);

    CHECK(fn_batchnorm_forward_train(dev, my, msm, msi, mx, mg, mb, mrm, mrv, 0, 1, 1, 0.1f,
                                     1e-5f) == FN_ERR_ARG,
          "empty batch accepted");
    cl_mem ms[] = {mx, my, mg, mb, mrm, mrv, msm, msi};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        fn_buffer_free(ms[i]);
}

/* ---- the twin's backward against finite differences of sum(y * r) ---- */

typedef struct {
    bn_case *k;
    const float *rr;
    float *y, *sm, *si, *rm, *rv;
} fd_ctx;

static double fd_loss(void *p)
{
    fd_ctx *f = p;
    bn_case *k = f->k;
    /* Running estimates are outputs here; they do not feed y. */
    fn_ref_batchnorm_forward_train(f->y, f->sm, f->si, k->x, k->gamma, k->beta, f->rm, f->rv, k->n,
                                   k->c, k->hw, MOMENTUM, EPS);
    double s = 0;
    for (int i = 0; i < k->total; i++)
        s += (double)f->y[i] * f->rr[i];
    return s;
}

static void test_fd(fn_rng *r, const shape *s)
{
    bn_case k;
    case_new(&k, r, s);
    int t = k.total, c = k.c;
    float *rr = malloc(t * sizeof(float)), *y = malloc(t * sizeof(float));
    float *dx = malloc(t * sizeof(float)), *dg = calloc(c, sizeof(float));
    float *db = calloc(c, sizeof(float)), *sm = malloc(c * sizeof(float));
    float *si = malloc(c * sizeof(float));
    fill_uniform(r, rr, t, -1, 1);
    fn_ref_batchnorm_forward_train(y, sm, si, k.x, k.gamma, k.beta, k.rm, k.rv, k.n, k.c, k.hw,
                                   MOMENTUM, EPS);
    fn_ref_batchnorm_backward(dx, dg, db, rr, k.x, sm, si, k.gamma, k.n, k.c, k.hw);

    fd_ctx f = {&k, rr, y, malloc(c * sizeof(float)), malloc(c * sizeof(float)), k.rm, k.rv};
    char what[64];
    snprintf(what, sizeof what, "fd dx (%d,%d,%d)", s->n, s->c, s->hw);
    /* The forward is float: a step of 3e-3 keeps its rounding and the
     * truncation error (channels are as narrow as 0.2) both near 1e-4. */
    check_fd(what, k.x, dx, t, fd_loss, &f, 3e-3, 1e-3);
    snprintf(what, sizeof what, "fd dgamma (%d,%d,%d)", s->n, s->c, s->hw);
    check_fd(what, k.gamma, dg, c, fd_loss, &f, 3e-3, 1e-3);
    snprintf(what, sizeof what, "fd dbeta (%d,%d,%d)", s->n, s->c, s->hw);
    check_fd(what, k.beta, db, c, fd_loss, &f, 3e-3, 1e-3);

    /* The gradient rule in the twin: a second call adds to dgamma and dbeta
     * and overwrites dx. */
    float *dg2 = malloc(c * sizeof(float)), *db2 = malloc(c * sizeof(float));
    float *dx2 = malloc(t * sizeof(float));
    memcpy(dg2, dg, c * sizeof(float));
    memcpy(db2, db, c * sizeof(float));
    for (int i = 0; i < t; i++)
        dx2[i] = NAN;
    fn_ref_batchnorm_backward(dx2, dg2, db2, rr, k.x, sm, si, k.gamma, k.n, k.c, k.hw);
    check_close("twin dx overwritten", dx2, dx, t, 0, 0);
    for (int ch = 0; ch < c; ch++) {
        CHECK(dg2[ch] == 2 * dg[ch], "twin dgamma[%d] %g, want %g", ch, dg2[ch], 2 * dg[ch]);
        CHECK(db2[ch] == 2 * db[ch], "twin dbeta[%d] %g, want %g", ch, db2[ch], 2 * db[ch]);
    }

    free(f.sm);
    free(f.si);
    free(rr);
    free(y);
    free(dx);
    free(dg);
    free(db);
    free(sm);
    free(si);
    free(dg2);
    free(db2);
    free(dx2);
    case_free(&k);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 5);
    test_semantics(dev);
    const shape shapes[] = {
        {1, 3, 1, 0},  /* M == 1 */
        {3, 2, 1, 0},  /* 1x1 spatial */
        {1, 7, 13, 0}, /* batch 1, odd plane */
        {2, 5, 49, 0},    {8, 16, 9, 0},      {5, 3, 257, 0.5f},
        {4, 64, 1024, 0}, {16, 3, 16384, 50}, /* M = 262144 around a large mean */
    };
    /* Both ways of cutting planes into runs: whole planes (CPUs), one vector (GPUs). */
    for (int long_runs = 0; long_runs <= 1; long_runs++) {
        dev->long_runs = long_runs;
        /* Small-shape mode drops the two large planes (the rest has every branch). */
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] - (test_small() ? 2 : 0); i++)
            test_device_shape(dev, &r, &shapes[i]);
        for (size_t i = 0; i < 6; i++)
            for (int act = 1; act <= 2; act++)
                test_fused_act(dev, &r, &shapes[i], act);
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] - (test_small() ? 2 : 0); i++)
        test_sync(dev, &r, &shapes[i]);
    const shape fd_shapes[] = {{1, 3, 1, 0}, {3, 2, 1, 0}, {1, 4, 5, 0}, {2, 5, 49, 0}};
    for (size_t i = 0; i < sizeof fd_shapes / sizeof fd_shapes[0]; i++)
        test_fd(&r, &fd_shapes[i]);

    /* The fused backward and the grouping of small planes, on their own
     * random stream (the cases above keep theirs): small planes in numbers,
     * several to a CPU work-item (a last group short), beside the shapes
     * above; both ways of cutting planes into runs. */
    fn_rng_seed(&r, 7);
    const shape fused[] = {{1, 3, 1, 0},   {3, 2, 1, 0},   {1, 7, 13, 0},     {8, 16, 9, 0},
                           {64, 30, 4, 0}, {7, 37, 17, 0}, {5, 3, 257, 0.5f}, {4, 64, 1024, 0}};
    for (int long_runs = 0; long_runs <= 1; long_runs++) {
        dev->long_runs = long_runs;
        for (size_t i = 0; i < sizeof fused / sizeof fused[0] - (test_small() ? 1 : 0); i++) {
            /* (M == 1 is the cases' above: y = beta from a product near
             * gamma/sqrt(eps) is ulp-bound, data-dependent.) */
            if (fused[i].n * fused[i].hw > 1) test_device_shape(dev, &r, &fused[i]);
            for (int act = 1; act <= 2; act++)
                test_fused_backward(dev, &r, &fused[i], act);
        }
    }
    test_backward_ex_args(dev);
    fn_device_free(dev);
    return check_summary("test_batchnorm");
}
