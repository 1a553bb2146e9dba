/* Cross-entropy, label smoothing and distillation (lib/loss): hand-worked
 * values, the reference's gradient against finite differences, the device
 * against the reference, and the edges (K = 1, logits of 1e4, bad labels,
 * absent outputs, bad options). The focus loss has test_focus.c. */
#include "loss_util.h"

/* One sample on the reference and on the device; both must give want_loss and want_grad. */
static void check_hand(fn_device *dev, const fn_loss_opts *o, const char *what, int k,
                       const float *z, const float *zr, int y, double want_loss,
                       const double *want_grad)
{
    batch b = batch_new(1, k);
    memcpy(b.z, z, k * sizeof(float));
    if (zr) memcpy(b.zr, zr, k * sizeof(float));
    b.y[0] = y;
    loss_out r = out_new(1, k), d = out_new(1, k);
    run_ref(o, &b, &r);
    CHECK_OK(run_device(dev, o, &b, &d));
    CHECK(fabs(r.loss[0] - want_loss) < 1e-6, "%s: reference loss %.7g, want %.7g", what, r.loss[0],
          want_loss);
    CHECK(fabs(d.loss[0] - want_loss) < 1e-5, "%s: device loss %.7g, want %.7g", what, d.loss[0],
          want_loss);
    for (int j = 0; j < k; j++) {
        CHECK(fabs(r.grad[j] - want_grad[j]) < 1e-6, "%s: reference dz[%d] %.7g, want %.7g", what,
              j, r.grad[j], want_grad[j]);
        CHECK(fabs(d.grad[j] - want_grad[j]) < 1e-5, "%s: device dz[%d] %.7g, want %.7g", what, j,
              d.grad[j], want_grad[j]);
    }
    out_free(&r);
    out_free(&d);
    batch_free(&b);
}

static void hand_values(fn_device *dev)
{
    fn_loss_opts o;
    const float ln3 = logf(3.0f), ln9 = logf(9.0f);

    /* CE, K = 2, z = (0, ln 3), y = 0: p = (1, 3)/4 = (0.25, 0.75).
     * L = -ln(0.25) = ln 4 = 1.3862944; dL/dz = p - onehot = (-0.75, 0.75). */
    fn_loss_opts_default(&o, FN_LOSS_CE);
    const float z1[] = {0.0f, ln3};
    const double g_ce[] = {-0.75, 0.75};
    check_hand(dev, &o, "CE hand", 2, z1, NULL, 0, log(4.0), g_ce);

    /* LS, eps = 0.1, same z and y: t = 0.9 onehot + 0.05 = (0.95, 0.05).
     * L = -(0.95 ln 0.25 + 0.05 ln 0.75) = 0.95 * 1.3862944 + 0.05 * 0.2876821
     *   = 1.3169796 + 0.0143841 = 1.3313637; dL/dz = p - t = (-0.7, 0.7). */
    fn_loss_opts_default(&o, FN_LOSS_LS);
    const double g_ls[] = {-0.7, 0.7};
    check_hand(dev, &o, "LS hand", 2, z1, NULL, 0, 0.95 * log(4.0) - 0.05 * log(0.75), g_ls);

    /* KD, T = 2, w = 0.5, K = 2, z = (0, ln 9), teacher (0, 0), y = 0:
     * p = (0.1, 0.9), ps = softmax(z/2) = softmax(0, ln 3) = (0.25, 0.75),
     * pt = (0.5, 0.5). CE = ln 10 = 2.3025851.
     * KL(pt || ps) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln(4/3) = 0.1438410.
     * L = 0.5 * 2.3025851 + 0.5 * 4 * 0.1438410 = 1.1512925 + 0.2876821 = 1.4389746.
     * dL/dz = 0.5 (p - onehot) + 0.5 * 2 (ps - pt)
     *       = 0.5 (-0.9, 0.9) + (-0.25, 0.25) = (-0.7, 0.7). */
    fn_loss_opts_default(&o, FN_LOSS_KD);
    o.kd_temperature = 2.0f;
    o.kd_weight = 0.5f;
    const float z2[] = {0.0f, ln9}, zt[] = {0.0f, 0.0f};
    const double g_kd[] = {-0.7, 0.7};
    check_hand(dev, &o, "KD hand", 2, z2, zt, 0, 0.5 * log(10.0) + 0.5 * 4 * 0.5 * log(4.0 / 3),
               g_kd);

    /* K = 1: the only class is always right. CE = -log 1 = 0; LS's target is
     * (1 - eps) + eps/1 = 1, so 0; KD: CE 0 and KL of two (1) distributions 0. */
    const float z_one[] = {3.5f}, zt_one[] = {-2.0f};
    const double g_zero[] = {0.0};
    fn_loss_kind kinds[] = {FN_LOSS_CE, FN_LOSS_LS, FN_LOSS_KD};
    for (int i = 0; i < 3; i++) {
        fn_loss_opts_default(&o, kinds[i]);
        check_hand(dev, &o, "K=1", 1, z_one, zt_one, 0, 0.0, g_zero);
    }
}

static void option_sets(int i, fn_loss_opts *o, char *name, size_t len)
{
    switch (i) {
    case 0:
        fn_loss_opts_default(o, FN_LOSS_CE);
        break;
    case 1:
        fn_loss_opts_default(o, FN_LOSS_LS);
        break;
    case 2:
        fn_loss_opts_default(o, FN_LOSS_LS);
        o->smoothing = 0.37f;
        break;
    case 3:
        fn_loss_opts_default(o, FN_LOSS_KD);
        break;
    default:
        fn_loss_opts_default(o, FN_LOSS_KD);
        o->kd_temperature = 1.5f;
        o->kd_weight = 0.3f;
        break;
    }
    snprintf(name, len, "%s#%d", fn_loss_kind_name(o->kind), i);
}
#define N_OPTION_SETS 5

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);
    hand_values(dev);

    for (int s = 0; s < N_OPTION_SETS; s++) {
        fn_loss_opts o;
        char name[64], what[96];
        option_sets(s, &o, name, sizeof name);
        /* the reference against finite differences (double accumulation) */
        const int fd_k[] = {2, 5, 11};
        for (int t = 0; t < 3; t++) {
            batch b = batch_random(&r, 3, fd_k[t], 3.0f);
            snprintf(what, sizeof what, "%s finite differences K=%d", name, fd_k[t]);
            check_ref_gradient(&o, &b, what);
            batch_free(&b);
        }
        /* the device against the reference */
        const int ns[] = {1, 7, 64}, ks[] = {2, 10, 1000};
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 3; c++) {
                batch b = batch_random(&r, ns[a], ks[c], 4.0f);
                compare_device(dev, &o, &b, name);
                batch_free(&b);
            }
        /* logits of 1e4: finite, and still as the reference */
        batch big = batch_random(&r, 7, 1000, 1e4f);
        check_huge_logits(dev, &o, &big, name);
    }

    /* A label outside [0, K) gives a NaN loss and a zero gradient. */
    {
        fn_loss_opts o;
        fn_loss_opts_default(&o, FN_LOSS_LS);
        batch b = batch_random(&r, 3, 10, 2.0f);
        b.y[1] = 10;
        loss_out d = out_new(3, 10), rr = out_new(3, 10);
        CHECK_OK(run_device(dev, &o, &b, &d));
        run_ref(&o, &b, &rr);
        CHECK(isnan(d.loss[1]) && isnan(rr.loss[1]), "bad label: loss %g / %g, want NaN", d.loss[1],
              rr.loss[1]);
        CHECK(isfinite(d.loss[0]) && isfinite(d.loss[2]), "bad label spoils its neighbours");
        for (int j = 0; j < 10; j++)
            CHECK(d.grad[10 + j] == 0 && rr.grad[10 + j] == 0, "bad label: gradient not zero");
        out_free(&d);
        out_free(&rr);
        batch_free(&b);
    }

    /* Absent outputs are skipped; argument errors are reported. */
    {
        fn_loss_opts o;
        fn_loss_opts_default(&o, FN_LOSS_CE);
        batch b = batch_random(&r, 4, 6, 2.0f);
        loss_out rr = out_new(4, 6);
        run_ref(&o, &b, &rr);
        cl_mem z = dev_upload(dev, b.z, 24), y = dev_upload_int(dev, b.y, 4);
        cl_mem loss = dev_upload(dev, NULL, 4), g = dev_upload(dev, NULL, 24);
        float got[24];
        CHECK_OK(fn_loss_compute(dev, &o, loss, NULL, NULL, z, y, NULL, 4, 6));
        dev_download(dev, loss, got, 4);
        check_close("loss without gradient", got, rr.loss, 4, 1e-5f, 1e-5f);
        CHECK_OK(fn_loss_compute(dev, &o, NULL, g, NULL, z, y, NULL, 4, 6));
        dev_download(dev, g, got, 24);
        check_close("gradient without loss", got, rr.grad, 24, 1e-6f, 1e-5f);
        CHECK_OK(fn_loss_compute(dev, &o, loss, g, NULL, z, y, NULL, 0, 6));
        CHECK(fn_loss_compute(dev, &o, loss, g, NULL, z, y, NULL, 4, 0) == FN_ERR_ARG, "K=0");
        fn_loss_opts_default(&o, FN_LOSS_KD);
        CHECK(fn_loss_compute(dev, &o, loss, g, NULL, z, y, NULL, 4, 6) == FN_ERR_ARG,
              "KD without a teacher");
        o.kd_temperature = 0;
        CHECK(fn_loss_compute(dev, &o, loss, g, NULL, z, y, z, 4, 6) == FN_ERR_ARG, "KD T=0");
        fn_loss_opts_default(&o, FN_LOSS_LS);
        o.smoothing = 1.5f;
        CHECK(fn_loss_compute(dev, &o, loss, g, NULL, z, y, NULL, 4, 6) == FN_ERR_ARG,
              "smoothing 1.5");
        fn_loss_kind kind;
        CHECK(fn_loss_kind_parse("focus", &kind) == FN_OK && kind == FN_LOSS_FOCUS, "parse");
        CHECK(fn_loss_kind_parse("dropmax", &kind) == FN_ERR_ARG, "parse unknown");
        cl_mem all[] = {z, y, loss, g};
        for (int i = 0; i < 4; i++)
            fn_buffer_free(all[i]);
        out_free(&rr);
        batch_free(&b);
    }

    fn_device_free(dev);
    return check_summary("test_loss");
}
