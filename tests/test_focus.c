/* The focus-picking loss (paper Eq. 4-12) and its multi-warm label: values
 * worked out by hand, an independent straight-from-the-equations version,
 * the reference's gradient against finite differences for every option, the
 * device against the reference, and the edges. */
#include "loss_util.h"

/* Eq. 4-12 term by term in double, naive softmax (only for |z| of a few units).
 * d_fixed (K) replaces d = softmax(z) - softmax(z_b) when not NULL: the loss
 * whose gradient is the detach_d one. */
static double naive_focus(const fn_loss_opts *o, const float *z, const float *zb, int y, int k,
                          const double *d_fixed)
{
    double p[1024], pb[1024], l[1024], sq = 0, s = 0, sb = 0, st = 0, count = 0;
    for (int j = 0; j < k; j++) {
        s += exp(z[j]);
        sb += exp(zb[j]);
        st += exp(zb[j] / o->rule_temperature);
    }
    for (int j = 0; j < k; j++) {
        p[j] = exp(z[j]) / s;
        pb[j] = exp(zb[j]) / sb;
        int warm = o->rule == FN_MULTIWARM_SOFTMAX ? exp(zb[j] / o->rule_temperature) / st > 1.0 / k
                                                   : zb[j] > 0; /* Eq. 4 */
        l[j] = fmin(1.0, warm + (j == y));                      /* Eq. 5 */
        count += l[j];
    }
    double l_cls = 0, r_att = 0, r_ent = 0;
    for (int j = 0; j < k; j++)
        sq += exp(z[j] + (d_fixed ? d_fixed[j] : p[j] - pb[j])); /* Eq. 7-8 */
    for (int j = 0; j < k; j++) {
        double q = exp(z[j] + (d_fixed ? d_fixed[j] : p[j] - pb[j])) / sq;
        double t = (1 - o->cls_smoothing) * (j == y) + o->cls_smoothing / k;
        l_cls -= t * log(q);               /* Eq. 9 */
        r_att -= l[j] / count * log(p[j]); /* Eq. 6, 10 */
        r_ent -= p[j] * log(p[j]);         /* Eq. 11 */
    }
    return l_cls + o->alpha * r_att - o->beta * r_ent; /* Eq. 12 */
}

typedef struct {
    const fn_loss_opts *o;
    const float *z, *zb;
    int y, k;
    const double *d;
} naive_ctx;

static double naive_fd(void *p)
{
    naive_ctx *c = p;
    return naive_focus(c->o, c->z, c->zb, c->y, c->k, c->d);
}

/* One sample by hand: reference and device against the worked numbers. */
static void check_hand(fn_device *dev, const fn_loss_opts *o, const char *what, int k,
                       const float *z, const float *zb, int y, double want_loss,
                       const double *want_grad, const double *want_mw)
{
    batch b = batch_new(1, k);
    memcpy(b.z, z, k * sizeof(float));
    memcpy(b.zr, zb, k * sizeof(float));
    b.y[0] = y;
    loss_out r = out_new(1, k), d = out_new(1, k);
    run_ref(o, &b, &r);
    CHECK_OK(run_device(dev, o, &b, &d));
    CHECK(fabs(r.loss[0] - want_loss) < 1e-6, "%s: reference loss %.7g, want %.7g", what, r.loss[0],
          want_loss);
    CHECK(fabs(d.loss[0] - want_loss) < 1e-5, "%s: device loss %.7g, want %.7g", what, d.loss[0],
          want_loss);
    for (int j = 0; j < k; j++) {
        if (want_grad) {
            CHECK(fabs(r.grad[j] - want_grad[j]) < 1e-6, "%s: reference dz[%d] %.7g, want %.7g",
                  what, j, r.grad[j], want_grad[j]);
            CHECK(fabs(d.grad[j] - want_grad[j]) < 1e-5, "%s: device dz[%d] %.7g, want %.7g", what,
                  j, d.grad[j], want_grad[j]);
        }
        CHECK(fabs(r.mw[j] - want_mw[j]) < 1e-7 && fabs(d.mw[j] - want_mw[j]) < 1e-7,
              "%s: multi-warm[%d] %g (reference) / %g (device), want %g", what, j, r.mw[j], d.mw[j],
              want_mw[j]);
    }
    out_free(&r);
    out_free(&d);
    batch_free(&b);
}

static void hand_values(fn_device *dev)
{
    fn_loss_opts o;
    const float ln2 = logf(2.0f);

    /* Paper rule, K = 3, z = (0, 0, 0), z_b = (ln 2, 0, 0), y = 1.
     * Eq. 4: only z_b_0 > 0, l' = (1, 0, 0); Eq. 5: l'' = (1, 1, 0); Eq. 6: l = (1/2, 1/2, 0).
     * p = (1/3, 1/3, 1/3), pb = (2, 1, 1)/4 = (1/2, 1/4, 1/4),
     * d = p - pb = (-1/6, 1/12, 1/12), u = z + d = (-1/6, 1/12, 1/12).
     * L_cls = -log softmax(u)_1 = log(e^{-1/6} + 2 e^{1/12}) - 1/12
     *       = log(0.8464817 + 2 * 1.0869040) - 0.0833333 = 1.1053528 - 0.0833333 = 1.0220195.
     * R_att = -(1/2 + 1/2) log(1/3) = ln 3;  R_ent = ln 3 (uniform p).
     * L = 1.0220195 + ln 3 - ln 3 = 1.0220195.
     * Gradient: q = softmax(u) = (0.8464817, 1.0869040, 1.0869040) / 3.0202898
     *             = (0.2802651, 0.3598675, 0.3598675), g = q - onehot(1) = (0.2802651, -0.6401325,
     * 0.3598675). path through d: p * (g - <p, g>) with <p, g> = (sum g)/3 = 0: g/3 = (0.0934217,
     * -0.2133775, 0.1199558) alpha (p - l) = (-1/6, -1/6, 1/3);  beta p (logp + H) = p (-ln 3 + ln
     * 3) = 0. dL/dz = (0.2802651 + 0.0934217 - 0.1666667, -0.6401325 - 0.2133775 - 0.1666667,
     *            0.3598675 + 0.1199558 + 0.3333333) = (0.2070201, -1.0201767, 0.8131566).
     *   detached (no d path): (0.1135984, -0.8067992, 0.6932008); same L. */
    fn_loss_opts_default(&o, FN_LOSS_FOCUS);
    const float z0[] = {0, 0, 0}, zb0[] = {ln2, 0, 0};
    const double mw0[] = {0.5, 0.5, 0}, g0[] = {0.2070200871, -1.0201767102, 0.8131566231};
    const double g0_detached[] = {0.1135983987, -0.8067991993, 0.6932008007};
    check_hand(dev, &o, "focus hand", 3, z0, zb0, 1, 1.0220194616, g0, mw0);
    o.detach_d = 1;
    check_hand(dev, &o, "focus hand detached", 3, z0, zb0, 1, 1.0220194616, g0_detached, mw0);

    /* Authors' variant, z = z_b = (ln 2, 0, 0), y = 0, T = 2, cls_smoothing 0.1.
     * softmax(z_b/2) = (sqrt 2, 1, 1)/(2 + sqrt 2) = (0.414, 0.293, 0.293): only class 0 > 1/3,
     * so l = (1, 0, 0). p = pb = (1/2, 1/4, 1/4), d = 0, q = p.
     * t = 0.9 onehot + 0.1/3 = (0.9333333, 0.0333333, 0.0333333).
     * L_cls = -(0.9333333 ln(1/2) + 0.0666667 ln(1/4)) = 0.6469374 + 0.0924196 = 0.7393570.
     * R_att = -ln(1/2) = 0.6931472;  R_ent = -(1/2 ln 1/2 + 2 * 1/4 ln 1/4) = 1.5 ln 2 = 1.0397208.
     * L = 0.7393570 + 0.6931472 - 1.0397208 = 0.3927834.
     * Gradient: g = q - t = (-0.4333333, 0.2166667, 0.2166667), <p, g> = -0.2166667 + 0.1083333 =
     * -0.1083333; d path p (g - <p,g>) = (0.5 * -0.325, 0.25 * 0.325, 0.25 * 0.325) = (-0.1625,
     * 0.08125, 0.08125); p - l = (-0.5, 0.25, 0.25);  p (logp + H): logp + H = (0.3465736,
     * -0.3465736, -0.3465736)
     *   -> (0.1732868, -0.0866434, -0.0866434).
     *   dL/dz = (-0.4333333 - 0.1625 - 0.5 + 0.1732868, 0.2166667 + 0.08125 + 0.25 - 0.0866434,
     * same) = (-0.9225465, 0.4612733, 0.4612733). */
    fn_loss_opts_authors(&o);
    const double mw1[] = {1, 0, 0}, g1[] = {-0.9225465382, 0.4612732691, 0.4612732691};
    check_hand(dev, &o, "focus authors hand", 3, zb0, zb0, 0, 0.3927834023, g1, mw1);

    /* The rules differ: z_b = (2, 1, -1), y = 2.
     * Paper: z_b > 0 for classes 0, 1, plus the label 2: l = (1/3, 1/3, 1/3).
     * Authors: softmax(z_b/2) = e^(1, 0.5, -0.5)/4.9733 = (0.547, 0.331, 0.122);
     * only 0.547 > 1/3, plus the label: l = (1/2, 0, 1/2).
     * (Loss: L_cls, R_att, R_ent are independent of the rule except through l;
     * the value is checked against the naive version below.) */
    const float zb2[] = {2, 1, -1};
    const double mw_paper[] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, mw_auth[] = {0.5, 0, 0.5};
    fn_loss_opts_default(&o, FN_LOSS_FOCUS);
    check_hand(dev, &o, "rule paper", 3, z0, zb2, 2, naive_focus(&o, z0, zb2, 2, 3, NULL), NULL,
               mw_paper);
    fn_loss_opts_authors(&o);
    check_hand(dev, &o, "rule authors", 3, z0, zb2, 2, naive_focus(&o, z0, zb2, 2, 3, NULL), NULL,
               mw_auth);

    /* Every baseline logit <= 0 (zeros included, Eq. 4 is strict): l = onehot(y). */
    const float z3[] = {0.3f, -0.2f, 1.0f, 0.0f}, zb3[] = {0.0f, -1.0f, -3.0f, 0.0f};
    const double mw3[] = {0, 0, 1, 0};
    fn_loss_opts_default(&o, FN_LOSS_FOCUS);
    check_hand(dev, &o, "baseline <= 0", 4, z3, zb3, 2, naive_focus(&o, z3, zb3, 2, 4, NULL), NULL,
               mw3);

    /* K = 1: p = pb = q = 1, d = 0, l = 1: every term is 0, and so is the gradient. */
    const float z4[] = {5.0f}, zb4[] = {-7.0f};
    const double zero[] = {0}, one[] = {1};
    check_hand(dev, &o, "focus K=1", 1, z4, zb4, 0, 0.0, zero, one);
    fn_loss_opts_authors(&o);
    check_hand(dev, &o, "focus authors K=1", 1, z4, zb4, 0, 0.0, zero, one);
}

/* Option sets: the paper, the authors, and the switches one at a time. */
static void option_set(int i, fn_loss_opts *o, char *name, size_t len)
{
    static const char *const names[] = {"paper",   "authors",   "detached",        "weights",
                                        "cls-eps", "rule-T1.5", "authors-detached"};
    fn_loss_opts_default(o, FN_LOSS_FOCUS);
    switch (i) {
    case 1:
        fn_loss_opts_authors(o);
        break;
    case 2:
        o->detach_d = 1;
        break;
    case 3:
        o->alpha = 0.3f;
        o->beta = 2.0f;
        break;
    case 4:
        o->cls_smoothing = 0.25f;
        break;
    case 5:
        o->rule = FN_MULTIWARM_SOFTMAX;
        o->rule_temperature = 1.5f;
        o->alpha = 1.7f;
        o->beta = 0.0f;
        break;
    case 6:
        fn_loss_opts_authors(o);
        o->detach_d = 1;
        break;
    }
    snprintf(name, len, "focus %s", names[i]);
}
#define N_OPTION_SETS 7

/* The reference against the naive version (values) and against finite
 * differences: of its own value when d is not detached, of the naive loss
 * with d held at its value when it is. */
static void check_gradients(fn_rng *r, const fn_loss_opts *o, const char *name)
{
    const int ks[] = {2, 5, 11};
    char what[128];
    for (int t = 0; t < 3; t++) {
        int k = ks[t];
        batch b = batch_random(r, 3, k, 3.0f);
        keep_off_threshold(&b, o->rule_temperature);
        loss_out ro = out_new(3, k);
        run_ref(o, &b, &ro);
        for (int i = 0; i < 3; i++) {
            double want = naive_focus(o, b.z + i * k, b.zr + i * k, b.y[i], k, NULL);
            CHECK(fabs(ro.loss[i] - want) < 1e-5 * fmax(1, fabs(want)),
                  "%s K=%d: reference %.7g, naive %.7g", name, k, ro.loss[i], want);
        }
        snprintf(what, sizeof what, "%s finite differences K=%d", name, k);
        if (!o->detach_d) {
            check_ref_gradient(o, &b, what);
        } else {
            /* One sample at a time (N = 1, so the gradient is not divided). */
            batch one = batch_new(1, k);
            memcpy(one.z, b.z, k * sizeof(float));
            memcpy(one.zr, b.zr, k * sizeof(float));
            one.y[0] = b.y[0];
            loss_out r1 = out_new(1, k);
            run_ref(o, &one, &r1);
            double d[64], s = 0, sb = 0;
            for (int j = 0; j < k; j++) {
                s += exp(one.z[j]);
                sb += exp(one.zr[j]);
            }
            for (int j = 0; j < k; j++)
                d[j] = exp(one.z[j]) / s - exp(one.zr[j]) / sb;
            naive_ctx c = {o, one.z, one.zr, one.y[0], k, d};
            check_fd(what, one.z, r1.grad, (size_t)k, naive_fd, &c, 1e-2, 3e-4);
            out_free(&r1);
            batch_free(&one);
        }
        out_free(&ro);
        batch_free(&b);
    }
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 11);
    hand_values(dev);

    for (int s = 0; s < N_OPTION_SETS; s++) {
        fn_loss_opts o;
        char name[64];
        option_set(s, &o, name, sizeof name);
        check_gradients(&r, &o, name);
        const int ns[] = {1, 7, 64}, ks[] = {2, 10, 1000};
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 3; c++) {
                batch b = batch_random(&r, ns[a], ks[c], 4.0f);
                keep_off_threshold(&b, o.rule_temperature);
                compare_device(dev, &o, &b, name);
                batch_free(&b);
            }
        /* logits and baseline logits of 1e4: finite, and as the reference */
        batch big = batch_random(&r, 7, 1000, 1e4f);
        keep_off_threshold(&big, o.rule_temperature);
        check_huge_logits(dev, &o, &big, name);
    }

    /* detach_d changes the gradient but not the value (device). */
    {
        fn_loss_opts o;
        fn_loss_opts_default(&o, FN_LOSS_FOCUS);
        batch b = batch_random(&r, 7, 10, 3.0f);
        loss_out a = out_new(7, 10), d = out_new(7, 10);
        CHECK_OK(run_device(dev, &o, &b, &a));
        o.detach_d = 1;
        CHECK_OK(run_device(dev, &o, &b, &d));
        check_close("detach_d keeps the value", d.loss, a.loss, 7, 0, 0);
        double diff = 0;
        for (int i = 0; i < 70; i++)
            diff = fmax(diff, fabs(a.grad[i] - d.grad[i]));
        CHECK(diff > 1e-3, "detach_d does not change the gradient (largest change %g)", diff);
        out_free(&a);
        out_free(&d);
        batch_free(&b);
    }

    /* A batch whose baseline logits are all <= 0: every multi-warm label is
     * one-hot (paper rule), so R_att is plain cross-entropy. */
    {
        fn_loss_opts o;
        fn_loss_opts_default(&o, FN_LOSS_FOCUS);
        batch b = batch_random(&r, 64, 10, 3.0f);
        for (int i = 0; i < 640; i++)
            b.zr[i] = -fabsf(b.zr[i]);
        loss_out d = out_new(64, 10);
        CHECK_OK(run_device(dev, &o, &b, &d));
        int bad = 0;
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 10; j++)
                bad += d.mw[i * 10 + j] != (j == b.y[i] ? 1.0f : 0.0f);
        CHECK(bad == 0, "baseline <= 0: %d multi-warm entries are not one-hot", bad);
        out_free(&d);
        batch_free(&b);
    }

    /* Argument errors. */
    {
        fn_loss_opts o;
        fn_loss_opts_default(&o, FN_LOSS_FOCUS);
        cl_mem z = dev_upload(dev, NULL, 6);
        CHECK(fn_loss_compute(dev, &o, z, z, z, z, z, NULL, 2, 3) == FN_ERR_ARG,
              "focus without a baseline");
        fn_loss_opts_authors(&o);
        o.rule_temperature = -1;
        CHECK(fn_loss_compute(dev, &o, z, z, z, z, z, z, 2, 3) == FN_ERR_ARG, "rule T=-1");
        fn_buffer_free(z);
    }

    fn_device_free(dev);
    return check_summary("test_focus");
}
