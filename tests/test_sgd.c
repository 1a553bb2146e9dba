/* SGD (torch.optim.SGD's rule) on the device and in plain C: steps worked
 * out by hand, device against reference on random tensors, argument errors,
 * and the learning-rate schedules at their boundaries. */
#include "check.h"
#include "optim/sgd.h"

/* Runs `steps` updates of a one-element tensor with gradients g[] on the
 * device and the reference; both must follow want_p[] (after each step). */
static void hand_case(fn_device *dev, const char *what, const fn_sgd_opts *o, float p0,
                      const float *g, const double *want_p, int steps)
{
    float p = p0, buf = 12345.0f; /* the buffer's first contents must not matter */
    cl_mem dp = dev_upload(dev, &p0, 1), dg = dev_upload(dev, NULL, 1),
           db = dev_upload(dev, &buf, 1);
    for (int s = 0; s < steps; s++) {
        fn_ref_sgd_step(o, &p, &g[s], &buf, 1, s == 0);
        fn_buffer_write(dev, dg, 0, sizeof(float), &g[s]);
        CHECK_OK(fn_sgd_step(dev, o, dp, dg, o->momentum != 0 ? db : NULL, 1, s == 0));
        float got;
        dev_download(dev, dp, &got, 1);
        CHECK(fabs(p - want_p[s]) < 1e-6, "%s step %d: reference %.8g, want %.8g", what, s + 1, p,
              want_p[s]);
        CHECK(fabs(got - want_p[s]) < 1e-6, "%s step %d: device %.8g, want %.8g", what, s + 1, got,
              want_p[s]);
    }
    fn_buffer_free(dp);
    fn_buffer_free(dg);
    fn_buffer_free(db);
}

static void hand_values(fn_device *dev)
{
    fn_sgd_opts o = {0.1f, 0, 0, 0, 0, 0};

    /* Plain, lr 0.1, p = 1: g = 0.5 -> 1 - 0.05 = 0.95; g = -1 -> 0.95 + 0.1 = 1.05. */
    const float ga[] = {0.5f, -1.0f};
    const double pa[] = {0.95, 1.05};
    hand_case(dev, "plain", &o, 1.0f, ga, pa, 2);

    /* Momentum 0.9, lr 0.1, p = 1.
     * 1: g = 0.5, buf = g = 0.5 (first step), p = 1 - 0.05 = 0.95
     * 2: g = 0.5, buf = 0.9 * 0.5 + 0.5 = 0.95, p = 0.95 - 0.095 = 0.855
     * 3: g = -1, buf = 0.9 * 0.95 - 1 = -0.145, p = 0.855 + 0.0145 = 0.8695 */
    o.momentum = 0.9f;
    const float gb[] = {0.5f, 0.5f, -1.0f};
    const double pb[] = {0.95, 0.855, 0.8695};
    hand_case(dev, "momentum", &o, 1.0f, gb, pb, 3);

    /* Momentum 0.9, weight decay 0.01, lr 0.1, p = 2, g = 1 twice.
     * 1: g' = 1 + 0.01 * 2 = 1.02, buf = 1.02, p = 2 - 0.102 = 1.898
     * 2: g' = 1 + 0.01 * 1.898 = 1.01898, buf = 0.9 * 1.02 + 1.01898 = 1.93698,
     *    p = 1.898 - 0.193698 = 1.704302 */
    o.weight_decay = 0.01f;
    const float gc[] = {1.0f, 1.0f};
    const double pc[] = {1.898, 1.704302};
    hand_case(dev, "momentum + weight decay", &o, 2.0f, gc, pc, 2);

    /* Weight decay alone (0.01), lr 0.1, p = 2, g = 1: g' = 1.02, p = 1.898;
     * then g' = 1.01898, p = 1.898 - 0.101898 = 1.796102. */
    o.momentum = 0;
    const double pd[] = {1.898, 1.796102};
    hand_case(dev, "weight decay", &o, 2.0f, gc, pd, 2);

    /* Nesterov, momentum 0.9, lr 0.1, p = 1, g = 0.5 twice.
     * 1: buf = 0.5, g = 0.5 + 0.9 * 0.5 = 0.95, p = 1 - 0.095 = 0.905
     * 2: buf = 0.45 + 0.5 = 0.95, g = 0.5 + 0.9 * 0.95 = 1.355, p = 0.905 - 0.1355 = 0.7695 */
    o = (fn_sgd_opts){0.1f, 0.9f, 0, 0, 1, 0};
    const float ge[] = {0.5f, 0.5f};
    const double pe[] = {0.905, 0.7695};
    hand_case(dev, "nesterov", &o, 1.0f, ge, pe, 2);

    /* Dampening 0.5, momentum 0.9, lr 0.1, p = 1, g = 0.5 three times.
     * 1: buf = g = 0.5 (the first step copies, no dampening), p = 0.95
     * 2: buf = 0.9 * 0.5 + 0.5 * 0.5 = 0.7, p = 0.95 - 0.07 = 0.88
     * 3: buf = 0.9 * 0.7 + 0.25 = 0.88, p = 0.88 - 0.088 = 0.792 */
    o = (fn_sgd_opts){0.1f, 0.9f, 0.5f, 0, 0, 0};
    const float gf[] = {0.5f, 0.5f, 0.5f};
    const double pf[] = {0.95, 0.88, 0.792};
    hand_case(dev, "dampening", &o, 1.0f, gf, pf, 3);
}

static void random_tensors(fn_device *dev, fn_rng *r)
{
    const fn_sgd_opts sets[] = {
        {0.1f, 0, 0, 0, 0, 0},         {0.1f, 0.9f, 0, 1e-4f, 0, 0},
        {0.05f, 0.9f, 0, 5e-4f, 1, 0}, {0.2f, 0.8f, 0.3f, 1e-3f, 0, 0},
        {0.1f, 0, 0, 1e-2f, 0, 0},
    };
    const int sizes[] = {1, 1000, 100003};
    for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++)
        for (int t = 0; t < 3; t++) {
            const fn_sgd_opts *o = &sets[si];
            int n = sizes[t];
            float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
            float *buf = malloc(n * sizeof *buf), *got = malloc(n * sizeof *got);
            fill_uniform(r, p, n, -2, 2);
            fill_uniform(r, buf, n, -1e3f, 1e3f); /* garbage the first step must ignore */
            cl_mem dp = dev_upload(dev, p, n), dg = dev_upload(dev, NULL, n);
            cl_mem db = dev_upload(dev, buf, n);
            for (int s = 0; s < 3; s++) {
                fill_uniform(r, g, n, -1, 1);
                fn_buffer_write(dev, dg, 0, n * sizeof *g, g);
                CHECK_OK(fn_sgd_step(dev, o, dp, dg, db, n, s == 0));
                fn_ref_sgd_step(o, p, g, buf, n, s == 0);
                char what[96];
                snprintf(what, sizeof what, "sgd set %zu n=%d step %d param", si, n, s + 1);
                dev_download(dev, dp, got, n);
                check_close(what, got, p, n, 1e-6f, 1e-6f);
                if (o->momentum != 0) {
                    snprintf(what, sizeof what, "sgd set %zu n=%d step %d buffer", si, n, s + 1);
                    dev_download(dev, db, got, n);
                    check_close(what, got, buf, n, 1e-6f, 1e-6f);
                }
            }
            fn_buffer_free(dp);
            fn_buffer_free(dg);
            fn_buffer_free(db);
            free(p);
            free(g);
            free(buf);
            free(got);
        }
}

/* The optimizer's gradient-norm clip (fn_sgd_update with clip_norm > 0)
 * against torch's rule by hand and the plain-C twins over several tensors
 * and steps: clip all tensors' gradients together, then SGD with weight
 * decay and momentum. */
static void clipped(fn_device *dev, fn_rng *r)
{
    /* Hand values: gradients (3) and (4) have norm 5; a clip of 1 scales by
     * 1 / (5 + 1e-6): 0.6 and 0.8 (p = 0, no decay, lr 1: p = -g). */
    fn_sgd_opts o = {1.0f, 0, 0, 0, 0, 1.0f};
    size_t one[2] = {1, 1};
    fn_sgd *s = NULL;
    CHECK_OK(fn_sgd_create(dev, &o, 2, one, &s));
    float three = 3, four = 4, zero = 0, got[2];
    cl_mem hp[2] = {dev_upload(dev, &zero, 1), dev_upload(dev, &zero, 1)};
    cl_mem hg[2] = {dev_upload(dev, &three, 1), dev_upload(dev, &four, 1)};
    if (s) {
        CHECK_OK(fn_sgd_update(s, hp, hg));
        dev_download(dev, hp[0], got, 1);
        dev_download(dev, hp[1], got + 1, 1);
        CHECK(fabsf(got[0] + 0.6f) < 1e-6f && fabsf(got[1] + 0.8f) < 1e-6f,
              "clip 1 of (3, 4): p = %g %g, want -0.6 -0.8", got[0], got[1]);
        /* Below the clip: untouched (norm 0.5, clip 1). */
        float a = 0.3f, b = 0.4f;
        CHECK_OK(fn_buffer_write(dev, hg[0], 0, sizeof a, &a));
        CHECK_OK(fn_buffer_write(dev, hg[1], 0, sizeof b, &b));
        CHECK_OK(fn_sgd_clip(s, hg));
        dev_download(dev, hg[0], got, 1);
        dev_download(dev, hg[1], got + 1, 1);
        CHECK(got[0] == a && got[1] == b, "under the clip: %g %g unchanged", got[0], got[1]);
    }
    fn_sgd_free(s);
    for (int i = 0; i < 2; i++) {
        fn_buffer_free(hp[i]);
        fn_buffer_free(hg[i]);
    }

    enum { T = 3 };
    size_t numel[T] = {5, 1000, 70001};
    float *p[T], *g[T], *buf[T], *gref[T];
    cl_mem dp[T], dg[T];
    for (int t = 0; t < T; t++) {
        p[t] = malloc(numel[t] * sizeof(float));
        g[t] = malloc(numel[t] * sizeof(float));
        gref[t] = malloc(numel[t] * sizeof(float));
        buf[t] = calloc(numel[t], sizeof(float));
        fill_uniform(r, p[t], (int)numel[t], -2, 2);
        dp[t] = dev_upload(dev, p[t], (int)numel[t]);
        dg[t] = dev_upload(dev, NULL, (int)numel[t]);
    }
    o = (fn_sgd_opts){0.1f, 0.9f, 0, 1e-2f, 0, 20.0f}; /* the norms below: about 48 */
    CHECK_OK(fn_sgd_create(dev, &o, T, numel, &s));
    int clipped_steps = 0;
    for (int step = 0; s && step < 4; step++) {
        /* Step 3 has small gradients: under the clip, no scaling. */
        float amp = step == 2 ? 0.01f : 0.3f;
        for (int t = 0; t < T; t++) {
            fill_uniform(r, g[t], (int)numel[t], -amp, amp);
            memcpy(gref[t], g[t], numel[t] * sizeof(float));
            CHECK_OK(fn_buffer_write(dev, dg[t], 0, numel[t] * sizeof(float), g[t]));
        }
        float norm = fn_ref_clip_grad_norm(gref, numel, T, o.clip_norm);
        clipped_steps += norm > o.clip_norm;
        CHECK_OK(fn_sgd_update(s, dp, dg));
        for (int t = 0; t < T; t++) {
            fn_ref_sgd_step(&o, p[t], gref[t], buf[t], (int)numel[t], step == 0);
            float *dv = malloc(numel[t] * sizeof(float));
            char what[80];
            dev_download(dev, dg[t], dv, numel[t]);
            snprintf(what, sizeof what, "clip step %d tensor %d gradient", step + 1, t);
            check_close(what, dv, gref[t], numel[t], 1e-6f, 1e-5f);
            dev_download(dev, dp[t], dv, numel[t]);
            snprintf(what, sizeof what, "clip step %d tensor %d param", step + 1, t);
            check_close(what, dv, p[t], numel[t], 1e-6f, 1e-5f);
            free(dv);
        }
    }
    CHECK(clipped_steps == 3, "3 of the 4 steps were above the clip (%d)", clipped_steps);
    fn_sgd_free(s);
    for (int t = 0; t < T; t++) {
        free(p[t]);
        free(g[t]);
        free(gref[t]);
        free(buf[t]);
        fn_buffer_free(dp[t]);
        fn_buffer_free(dg[t]);
    }
    /* A negative (other than -1, "none") or non-finite clip is refused. */
    size_t n1 = 1;
    const float bad[] = {-0.5f, -2.0f, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        o.clip_norm = bad[i];
        s = NULL;
        CHECK(fn_sgd_create(dev, &o, 1, &n1, &s) == FN_ERR_ARG && !s, "clip %g accepted", bad[i]);
    }
}

static void bad_arguments(fn_device *dev)
{
    cl_mem a = dev_upload(dev, NULL, 4), b = dev_upload(dev, NULL, 4);
    fn_sgd_opts o;
    fn_sgd_opts_default(&o);
    CHECK(o.lr == 0.1f && o.momentum == 0.9f && o.weight_decay == 1e-4f && !o.nesterov &&
              o.dampening == 0,
          "defaults are not the paper's");
    CHECK(fn_sgd_step(dev, &o, a, b, NULL, 4, 1) == FN_ERR_ARG, "momentum without a buffer");
    o.nesterov = 1;
    o.dampening = 0.1f;
    CHECK(fn_sgd_step(dev, &o, a, b, a, 4, 1) == FN_ERR_ARG, "nesterov with dampening");
    o = (fn_sgd_opts){0.1f, 0, 0, 0, 1, 0};
    CHECK(fn_sgd_step(dev, &o, a, b, NULL, 4, 1) == FN_ERR_ARG, "nesterov without momentum");
    o.nesterov = 0;
    CHECK_OK(fn_sgd_step(dev, &o, a, b, NULL, 0, 1));
    CHECK_OK(fn_sgd_step(dev, &o, a, b, NULL, 4, 0));
    fn_buffer_free(a);
    fn_buffer_free(b);
}

/* Linear warm-up in front of a step schedule: lr 0.1, one epoch of 100
 * steps, /10 at epoch 2. Step k (from 0) of the run gets 0.1 (k + 1) / 100
 * while k < 100: step 0 takes 0.001, step 49 0.05, step 99 the full 0.1. */
static void warmups(void)
{
    fn_lr_schedule s;
    const int ms[] = {2};
    CHECK_OK(fn_lr_step(&s, 0.1f, 0.1f, ms, 1));
    CHECK(s.warmup == 0, "a new schedule has no warm-up");
    CHECK_OK(fn_lr_warmup(&s, 1));
    CHECK(fabs(fn_lr_at(&s, 0, 0, 100) - 0.001) < 1e-9, "warm-up step 0: %g",
          fn_lr_at(&s, 0, 0, 100));
    CHECK(fabs(fn_lr_at(&s, 0, 49, 100) - 0.05) < 1e-8, "warm-up step 49: %g",
          fn_lr_at(&s, 0, 49, 100));
    CHECK(fn_lr_at(&s, 0, 99, 100) == 0.1f, "warm-up ends at the full rate: %g",
          fn_lr_at(&s, 0, 99, 100));
    CHECK(fn_lr_at(&s, 1, 0, 100) == 0.1f && fn_lr_at(&s, 1, 99, 100) == 0.1f,
          "after the warm-up the schedule's rate");
    CHECK(fabs(fn_lr_at(&s, 2, 0, 100) - 0.01) < 1e-9, "the milestone still divides");
    /* Whole epochs (steps_per_epoch 0): the factor of the epoch's last step. */
    CHECK(fn_lr_at(&s, 0, 0, 0) == 0.1f, "one-epoch warm-up, epoch 0 as a whole");
    /* Two epochs of warm-up: step 150 of 100 per epoch is (151 / 200) 0.1. */
    CHECK_OK(fn_lr_warmup(&s, 2));
    CHECK(fabs(fn_lr_at(&s, 1, 50, 100) - 0.0755) < 1e-8, "two-epoch warm-up at step 150: %g",
          fn_lr_at(&s, 1, 50, 100));
    CHECK(fabs(fn_lr_at(&s, 0, 0, 0) - 0.05) < 1e-8, "two-epoch warm-up, epoch 0 as a whole");
    /* Half an epoch: full rate from step 50 on. */
    CHECK_OK(fn_lr_warmup(&s, 0.5f));
    CHECK(fn_lr_at(&s, 0, 49, 100) == 0.1f && fn_lr_at(&s, 0, 24, 100) < 0.051f,
          "half-epoch warm-up");
    /* Off again: the plain schedule, bit for bit. */
    CHECK_OK(fn_lr_warmup(&s, 0));
    CHECK(fn_lr_at(&s, 0, 0, 100) == 0.1f, "warm-up 0 is no warm-up");
    CHECK(fn_lr_warmup(&s, -1) == FN_ERR_ARG && fn_lr_warmup(&s, NAN) == FN_ERR_ARG,
          "negative or NaN warm-up refused");
    /* In front of a cosine. */
    CHECK_OK(fn_lr_cosine(&s, 0.1f, 0.0f, 10, 0));
    CHECK_OK(fn_lr_warmup(&s, 1));
    CHECK(fabs(fn_lr_at(&s, 0, 9, 10) - 0.1) < 1e-8 && fabs(fn_lr_at(&s, 0, 4, 10) - 0.05) < 1e-8,
          "warm-up before cosine");
}

static void schedules(void)
{
    fn_lr_schedule s;
    /* Step decay, the paper's CIFAR recipe: 0.1, /10 at epochs 100 and 150 of 200. */
    const int ms[] = {100, 150};
    CHECK_OK(fn_lr_step(&s, 0.1f, 0.1f, ms, 2));
    const int ep[] = {0, 99, 100, 149, 150, 199};
    const double want[] = {0.1, 0.1, 0.01, 0.01, 0.001, 0.001};
    for (int i = 0; i < 6; i++)
        CHECK(fabs(fn_lr_at(&s, ep[i], 0, 0) - want[i]) < 1e-7 * want[i],
              "step lr at epoch %d: %g, want %g", ep[i], fn_lr_at(&s, ep[i], 0, 0), want[i]);
    CHECK(fn_lr_at(&s, 99, 390, 391) == fn_lr_at(&s, 99, 0, 0),
          "step decay changed within an epoch");
    const int bad[] = {60, 30};
    CHECK(fn_lr_step(&s, 0.1f, 0.1f, bad, 2) == FN_ERR_ARG, "descending milestones");

    /* Cosine, lr0 0.1 -> 0.001 over 10 epochs:
     *   t = 0: 0.001 + 0.5 * 0.099 * (1 + cos 0) = 0.1
     *   t = 5: 0.001 + 0.5 * 0.099 * (1 + cos(pi/2)) = 0.0505
     *   t = 10: 0.001 + 0.5 * 0.099 * (1 + cos pi) = 0.001, and it stays there. */
    CHECK_OK(fn_lr_cosine(&s, 0.1f, 0.001f, 10, 0));
    CHECK(fabs(fn_lr_at(&s, 0, 0, 0) - 0.1) < 1e-8, "cosine start %g", fn_lr_at(&s, 0, 0, 0));
    CHECK(fabs(fn_lr_at(&s, 5, 0, 0) - 0.0505) < 1e-8, "cosine middle %g", fn_lr_at(&s, 5, 0, 0));
    CHECK(fabs(fn_lr_at(&s, 10, 0, 0) - 0.001) < 1e-8, "cosine end %g", fn_lr_at(&s, 10, 0, 0));
    CHECK(fabs(fn_lr_at(&s, 12, 0, 0) - 0.001) < 1e-8, "cosine past the end");
    /* per epoch: constant within the epoch */
    CHECK(fn_lr_at(&s, 4, 50, 100) == fn_lr_at(&s, 4, 0, 100), "per-epoch cosine moved in epoch");
    /* per step: half-way through epoch 4 is t = 4.5:
     *   0.001 + 0.0495 * (1 + cos(0.45 pi)) = 0.001 + 0.0495 * 1.1564345 = 0.0582435 */
    CHECK_OK(fn_lr_cosine(&s, 0.1f, 0.001f, 10, 1));
    CHECK(fabs(fn_lr_at(&s, 4, 50, 100) - (0.001 + 0.0495 * (1 + cos(0.45 * M_PI)))) < 1e-8,
          "per-step cosine at t = 4.5: %g", fn_lr_at(&s, 4, 50, 100));
    CHECK(fabs(fn_lr_at(&s, 9, 99, 100) - (0.001 + 0.0495 * (1 + cos(0.999 * M_PI)))) < 1e-8,
          "per-step cosine at the last step");
    CHECK(fabs(fn_lr_at(&s, 10, 0, 100) - 0.001) < 1e-8, "per-step cosine end");
    CHECK(fn_lr_cosine(&s, 0.1f, 0, 0, 0) == FN_ERR_ARG, "cosine over 0 epochs");

    fn_lr_constant(&s, 0.05f);
    CHECK(fn_lr_at(&s, 0, 0, 0) == 0.05f && fn_lr_at(&s, 1000, 3, 10) == 0.05f, "constant");
    warmups();
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 3);
    hand_values(dev);
    random_tensors(dev, &r);
    clipped(dev, &r);
    bad_arguments(dev);
    schedules();
    fn_device_free(dev);
    return check_summary("test_sgd");
}
