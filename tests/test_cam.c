/* CAM and Grad-CAM against a plain-C computation, the multi-warm label,
 * colormaps and the overlay, and reading an image as a model sees it.
 *
 * LeNet-5's Grad-CAM is recomputed from its parameters with the lib/ref
 * twins (forward to the logits, backward from a one-hot gradient to the
 * feature maps) and its feature gradient is also checked against finite
 * differences. For ResNet-18 and MobileNetV2, CAM is recomputed from the
 * feature maps and the classifier's weights, checked against the logits
 * (spatial mean + bias = logit), and Grad-CAM must equal ReLU(CAM) / (h w)
 * since the gradient through global average pooling is w_ck / (h w). */
#include <stb_image_write.h>

#include "check.h"
#include "nn/model.h"
#include "ref/ref.h"
#include "tmpdir.h"

/* Bilinear resize with half-pixel centres, written the long way. */
static void resize_ref(const float *src, int h, int w, float *dst, int H, int W)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double sy = ((double)y + 0.5) * h / H - 0.5, sx = ((double)x + 0.5) * w / W - 0.5;
            if (sy < 0) sy = 0;
            if (sx < 0) sx = 0;
            int y0 = (int)floor(sy), x0 = (int)floor(sx);
            if (y0 > h - 1) y0 = h - 1;
            if (x0 > w - 1) x0 = w - 1;
            int y1 = y0 + 1 > h - 1 ? h - 1 : y0 + 1;
            int x1 = x0 + 1 > w - 1 ? w - 1 : x0 + 1;
            double fy = sy - y0, fx = sx - x0;
            dst[y * W + x] =
                (float)((1 - fy) * (1 - fx) * src[y0 * w + x0] + (1 - fy) * fx * src[y0 * w + x1] +
                        fy * (1 - fx) * src[y1 * w + x0] + fy * fx * src[y1 * w + x1]);
        }
}

static float *param(fn_model *m, const char *name)
{
    int i = fn_model_find_param(m, name);
    if (i < 0) {
        fprintf(stderr, "FAIL: no parameter %s\n", name);
        exit(1);
    }
    float *p = malloc(m->params[i].numel * sizeof *p);
    dev_download(m->dev, m->params[i].data, p, m->params[i].numel);
    return p;
}

/* ---- LeNet-5 in plain C: 1x28x28 -> conv1 6@5x5 pad 2 -> ReLU -> pool 2 ->
 * conv2 16@5x5 -> ReLU (the features, 16x10x10) -> pool 2 -> fc 400-120-84-K. */
typedef struct {
    int k;
    float *w1, *b1, *w2, *b2, *f1w, *f1b, *f2w, *f2b, *f3w, *f3b;
    /* the tail's forward state */
    float p2[16 * 5 * 5], h1[120], h2[84], z[16];
    int arg2[16 * 5 * 5];
} lenet_ref;

static const fn_pool_shape pool2 = {1, 16, 10, 10, 2, 2, 0};

static void lenet_features(const lenet_ref *r, const float *x, float *feat /* (16, 10, 10) */)
{
    float c1[6 * 28 * 28], p1[6 * 14 * 14];
    fn_conv_shape s1 = {1, 1, 28, 28, 6, 5, 5, 1, 2, 1};
    fn_ref_conv_forward(c1, x, r->w1, r->b1, &s1);
    fn_ref_relu_forward(c1, c1, 6 * 28 * 28);
    fn_pool_shape ps = {1, 6, 28, 28, 2, 2, 0};
    fn_ref_maxpool_forward(p1, NULL, c1, &ps);
    fn_conv_shape s2 = {1, 6, 14, 14, 16, 5, 5, 1, 0, 1};
    fn_ref_conv_forward(feat, p1, r->w2, r->b2, &s2);
    fn_ref_relu_forward(feat, feat, 16 * 10 * 10);
}

static void lenet_tail(lenet_ref *r, const float *feat)
{
    fn_ref_maxpool_forward(r->p2, r->arg2, feat, &pool2);
    fn_ref_linear_forward(r->h1, r->p2, r->f1w, r->f1b, 1, 400, 120);
    fn_ref_relu_forward(r->h1, r->h1, 120);
    fn_ref_linear_forward(r->h2, r->h1, r->f2w, r->f2b, 1, 120, 84);
    fn_ref_relu_forward(r->h2, r->h2, 84);
    fn_ref_linear_forward(r->z, r->h2, r->f3w, r->f3b, 1, 84, r->k);
}

/* d z_cls / d features, after lenet_tail. */
static void lenet_tail_grad(lenet_ref *r, int cls, float *dfeat)
{
    float dz[16] = {0}, dh2[84], dh1[120], dp2[400];
    dz[cls] = 1;
    fn_ref_linear_backward(dh2, NULL, NULL, dz, r->h2, r->f3w, 1, 84, r->k);
    fn_ref_relu_backward(dh2, dh2, r->h2, 84);
    fn_ref_linear_backward(dh1, NULL, NULL, dh2, r->h1, r->f2w, 1, 120, 84);
    fn_ref_relu_backward(dh1, dh1, r->h1, 120);
    fn_ref_linear_backward(dp2, NULL, NULL, dh1, r->p2, r->f1w, 1, 400, 120);
    fn_ref_maxpool_backward(dfeat, dp2, r->arg2, &pool2);
}

typedef struct {
    lenet_ref *r;
    float *feat;
    int cls;
} fd_ctx;

static double tail_logit(void *p)
{
    fd_ctx *c = p;
    lenet_tail(c->r, c->feat);
    return c->r->z[c->cls];
}

/* fn_cam_predicted (the viewer's path, one forward) gives the class the
 * logits pick, those logits, and the map fn_cam_compute draws for it. */
static void check_predicted(fn_model *m, const float *x, int grad_cam, int k, size_t pixels)
{
    float z[16], z2[16], *heat = malloc(pixels * sizeof *heat),
                         *want = malloc(pixels * sizeof *want);
    int cls = -1, cls2 = -1;
    CHECK_OK(fn_cam_predicted(m, x, grad_cam, heat, z, &cls));
    int best = 0;
    for (int i = 1; i < k; i++)
        if (z[i] > z[best]) best = i;
    CHECK(cls == best, "fn_cam_predicted: class %d, the logits' argmax is %d", cls, best);
    CHECK_OK(fn_cam_compute(m, x, best, grad_cam, want, z2));
    check_close("cam_predicted logits", z, z2, (size_t)k, 0, 0);
    check_close("cam_predicted = cam of the predicted class", heat, want, pixels, 0, 0);
    CHECK_OK(fn_cam_predicted(m, x, grad_cam, heat, NULL, &cls2)); /* logits optional */
    CHECK(cls2 == best, "fn_cam_predicted without logits: class %d, not %d", cls2, best);
    CHECK(fn_cam_predicted(m, x, grad_cam, heat, z, NULL) == FN_ERR_ARG, "no class pointer");
    free(heat);
    free(want);
}

static void test_lenet_gradcam(fn_device *dev)
{
    const int K = 10;
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, "lenet5", K, 1, 28, 28));
    fn_model *m = NULL;
    CHECK_OK(fn_model_create(dev, &cfg, 1, 1, &m));
    if (!m) return;
    CHECK_OK(fn_model_init(m, 11));
    CHECK(!fn_cam_available(m), "LeNet-5 has no global average pooling: plain CAM unavailable");

    lenet_ref r = {.k = K};
    r.w1 = param(m, "conv1.weight"), r.b1 = param(m, "conv1.bias");
    r.w2 = param(m, "conv2.weight"), r.b2 = param(m, "conv2.bias");
    r.f1w = param(m, "fc1.weight"), r.f1b = param(m, "fc1.bias");
    r.f2w = param(m, "fc2.weight"), r.f2b = param(m, "fc2.bias");
    r.f3w = param(m, "fc3.weight"), r.f3b = param(m, "fc3.bias");

    fn_rng rng;
    fn_rng_seed(&rng, 5);
    float x[28 * 28], feat[1600], dfeat[1600], heat[28 * 28], want[28 * 28], z[10], low[100];
    fill_uniform(&rng, x, 28 * 28, -1.0f, 2.0f);
    lenet_features(&r, x, feat);
    lenet_tail(&r, feat);

    check_predicted(m, x, 1, K, 28 * 28);
    for (int cls = 0; cls < K; cls += 3) {
        CHECK_OK(fn_cam_compute(m, x, cls, 1, heat, z));
        check_close("lenet logits", z, r.z, K, 1e-4f, 1e-3f);
        lenet_tail(&r, feat);
        lenet_tail_grad(&r, cls, dfeat);
        for (int i = 0; i < 100; i++) {
            double s = 0;
            for (int k = 0; k < 16; k++) {
                double a = 0; /* a_k: spatial mean of the gradient */
                for (int j = 0; j < 100; j++)
                    a += dfeat[k * 100 + j];
                s += a / 100 * feat[k * 100 + i];
            }
            low[i] = s > 0 ? (float)s : 0.0f;
        }
        resize_ref(low, 10, 10, want, 28, 28);
        check_close("lenet grad-cam", heat, want, 28 * 28, 1e-5f, 1e-3f);
    }
    float mx = 0;
    for (int i = 0; i < 28 * 28; i++)
        mx = fmaxf(mx, heat[i]);
    CHECK(mx > 0, "the Grad-CAM of a random LeNet-5 is not all zero");

    /* The contrast "why A and not B": Grad-CAM of z_A - z_B, its weights the
     * spatial means of d z_A / dF - d z_B / dF (issue 17.1). */
    const int pairs[][2] = {{1, 7}, {7, 1}, {0, 9}};
    for (int p = 0; p < 3; p++) {
        int a = pairs[p][0], b = pairs[p][1];
        float da[1600];
        CHECK_OK(fn_cam_contrast(m, x, a, b, 1, heat, NULL));
        lenet_tail(&r, feat);
        lenet_tail_grad(&r, a, da);
        lenet_tail_grad(&r, b, dfeat);
        for (int i = 0; i < 100; i++) {
            double s = 0;
            for (int k = 0; k < 16; k++) {
                double g = 0;
                for (int j = 0; j < 100; j++)
                    g += da[k * 100 + j] - dfeat[k * 100 + j];
                s += g / 100 * feat[k * 100 + i];
            }
            low[i] = s > 0 ? (float)s : 0.0f;
        }
        resize_ref(low, 10, 10, want, 28, 28);
        check_close("lenet grad-cam contrast", heat, want, 28 * 28, 1e-5f, 1e-3f);
    }
    CHECK(fn_cam_contrast(m, x, 3, 3, 1, heat, NULL) == FN_ERR_ARG, "a class against itself");
    CHECK(fn_cam_contrast(m, x, 3, K, 1, heat, NULL) == FN_ERR_ARG, "class B out of range");
    CHECK(fn_cam_contrast(m, x, 3, -1, 1, heat, NULL) == FN_ERR_ARG, "class B -1");

    /* The reference gradient against finite differences of the tail, away
     * from max-pool ties (ReLU zeros tie with each other) and ReLU kinks. */
    lenet_tail(&r, feat);
    lenet_tail_grad(&r, 4, dfeat);
    fd_ctx c = {&r, feat, 4};
    int tried = 0, bad = 0;
    for (int i = 0; i < 1600 && tried < 200; i++) {
        if (feat[i] < 0.05f) continue;
        tried++;
        float keep = feat[i];
        feat[i] = keep + 1e-3f;
        double fp = tail_logit(&c);
        feat[i] = keep - 1e-3f;
        double fm = tail_logit(&c);
        feat[i] = keep;
        double num = (fp - fm) / 2e-3;
        if (fabs(num - dfeat[i]) > 2e-3 + 2e-2 * fabs(dfeat[i])) bad++;
    }
    CHECK(tried > 50 && bad <= 2, "LeNet-5 tail gradient vs finite differences: %d of %d differ",
          bad, tried);

    /* The model's own gradients are left alone; repeated calls agree. */
    CHECK_OK(fn_model_zero_grad(m));
    float heat2[28 * 28];
    CHECK_OK(fn_cam_compute(m, x, 2, 1, heat, NULL));
    CHECK_OK(fn_cam_compute(m, x, 2, 1, heat2, NULL));
    check_close("grad-cam twice", heat2, heat, 28 * 28, 0, 0);
    float *g3 = malloc(m->params[fn_model_find_param(m, "fc3.weight")].numel * sizeof *g3);
    fn_param *p3 = &m->params[fn_model_find_param(m, "fc3.weight")];
    dev_download(dev, p3->grad, g3, p3->numel);
    float gmax = 0;
    for (size_t i = 0; i < p3->numel; i++)
        gmax = fmaxf(gmax, fabsf(g3[i]));
    CHECK(gmax == 0, "Grad-CAM leaves parameter gradients at zero (largest %g)", gmax);
    free(g3);

    /* Errors */
    CHECK(fn_cam_compute(m, x, 0, 0, heat, NULL) == FN_ERR_ARG &&
              strstr(fn_last_error(), "Grad-CAM"),
          "plain CAM on LeNet-5 is refused with a hint: %s", fn_last_error());
    CHECK(fn_cam_compute(m, x, K, 1, heat, NULL) == FN_ERR_ARG, "class K is out of range");
    CHECK(fn_cam_compute(m, x, -1, 1, heat, NULL) == FN_ERR_ARG, "class -1 is out of range");
    fn_model *e = NULL;
    CHECK_OK(fn_model_create(dev, &cfg, 4, 0, &e));
    CHECK(e && fn_cam_compute(e, x, 0, 1, heat, NULL) == FN_ERR_ARG &&
              strstr(fn_last_error(), "training"),
          "Grad-CAM on an evaluation-only model is refused: %s", fn_last_error());
    fn_model_free(e);

    float *ps[] = {r.w1, r.b1, r.w2, r.b2, r.f1w, r.f1b, r.f2w, r.f2b, r.f3w, r.f3b};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        free(ps[i]);
    fn_model_free(m);
}

/* CAM from the model's feature maps and classifier, and Grad-CAM = ReLU(CAM) / hw. */
static void test_gap_model(fn_device *dev, const char *arch, const char *fc, int K, int H)
{
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, arch, K, 3, H, H));
    fn_model *m = NULL;
    CHECK_OK(fn_model_create(dev, &cfg, 1, 1, &m));
    if (!m) return;
    CHECK_OK(fn_model_init(m, 3));
    CHECK(fn_cam_available(m), "%s supports plain CAM", arch);
    /* Random running statistics make evaluation mode differ from the identity. */
    fn_rng rng;
    fn_rng_seed(&rng, 9);
    for (int i = 0; i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        if (!strstr(p->name, "running_")) continue;
        float *v = malloc(p->numel * sizeof *v);
        int var = strstr(p->name, "running_var") != NULL;
        fill_uniform(&rng, v, p->numel, var ? 0.5f : -0.2f, var ? 2.0f : 0.2f);
        fn_buffer_write(dev, p->data, 0, p->numel * sizeof *v, v);
        free(v);
    }
    size_t in = (size_t)3 * H * H;
    float *x = malloc(in * sizeof *x);
    fill_uniform(&rng, x, in, -2.0f, 2.0f);
    float *heat = malloc((size_t)H * H * sizeof *heat),
          *want = malloc((size_t)H * H * sizeof *want);
    float z[16], zp[16];
    const fn_act *f = &m->acts[m->features];
    int nf = f->c, h = f->h, w = f->w, hw = h * w;
    float *feat = malloc((size_t)nf * hw * sizeof *feat), *low = malloc((size_t)hw * sizeof *low);
    float *W = param(m, fc);
    char bias_name[64];
    snprintf(bias_name, sizeof bias_name, "%.*s.bias", (int)(strlen(fc) - 7), fc);
    float *b = param(m, bias_name);
    for (int cls = 0; cls < K; cls++) {
        CHECK_OK(fn_cam_compute(m, x, cls, 0, heat, z));
        dev_download(dev, f->data, feat, (size_t)nf * hw); /* features stay after the forward */
        double mean = 0;
        for (int i = 0; i < hw; i++) {
            double s = 0;
            for (int k = 0; k < nf; k++)
                s += (double)W[cls * nf + k] * feat[k * hw + i];
            low[i] = (float)s;
            mean += s / hw;
        }
        CHECK(fabs(mean + b[cls] - z[cls]) <= 1e-4 + 1e-3 * fabs(z[cls]),
              "%s class %d: mean CAM %g + bias %g = logit %g", arch, cls, mean, b[cls], z[cls]);
        resize_ref(low, h, w, want, H, H);
        check_close("cam", heat, want, (size_t)H * H, 1e-4f, 1e-3f);

        CHECK_OK(fn_cam_compute(m, x, cls, 1, heat, NULL));
        for (int i = 0; i < hw; i++)
            low[i] = low[i] > 0 ? low[i] / hw : 0.0f;
        resize_ref(low, h, w, want, H, H);
        check_close("grad-cam = relu(cam) / hw", heat, want, (size_t)H * H, 1e-5f, 2e-3f);
    }
    /* The contrast of a CAM model is exactly CAM_A - CAM_B, signed (issue
     * 17.1); its Grad-CAM contrast ReLU(CAM_A - CAM_B) / hw. */
    float *heat_b = malloc((size_t)H * H * sizeof *heat_b);
    int negative = 0; /* the pairs go round the classes: their contrasts sum to 0 */
    for (int a = 0; a < K; a++) {
        int bcls = (a + 1) % K;
        CHECK_OK(fn_cam_compute(m, x, a, 0, want, NULL));
        CHECK_OK(fn_cam_compute(m, x, bcls, 0, heat_b, NULL));
        for (size_t i = 0; i < (size_t)H * H; i++) {
            want[i] -= heat_b[i];
            negative |= want[i] < 0;
        }
        CHECK_OK(fn_cam_contrast(m, x, a, bcls, 0, heat, z));
        check_close("cam contrast = cam_a - cam_b", heat, want, (size_t)H * H, 1e-5f, 1e-4f);
        dev_download(dev, f->data, feat, (size_t)nf * hw);
        for (int i = 0; i < hw; i++) {
            double s = 0;
            for (int k = 0; k < nf; k++)
                s += ((double)W[a * nf + k] - W[bcls * nf + k]) * feat[k * hw + i];
            low[i] = s > 0 ? (float)(s / hw) : 0.0f;
        }
        resize_ref(low, h, w, want, H, H);
        CHECK_OK(fn_cam_contrast(m, x, a, bcls, 1, heat, NULL));
        check_close("grad-cam contrast = relu(cam_a - cam_b) / hw", heat, want, (size_t)H * H,
                    1e-5f, 2e-3f);
    }
    CHECK(negative, "%s: the CAM contrast keeps its sign", arch);
    free(heat_b);
    check_predicted(m, x, 0, K, (size_t)H * H);
    check_predicted(m, x, 1, K, (size_t)H * H);
    /* The logits are those of an evaluation-mode prediction. */
    fn_model *e = NULL;
    CHECK_OK(fn_model_create(dev, &cfg, 2, 0, &e));
    if (e) {
        for (int i = 0; i < m->n_params; i++) {
            const fn_param *p = &m->params[i];
            CHECK_OK(
                fn_buffer_copy(dev, e->params[i].data, 0, p->data, 0, p->numel * sizeof(float)));
        }
        CHECK_OK(fn_model_predict(e, x, 1, zp));
        CHECK_OK(fn_cam_compute(e, x, 0, 0, heat, z)); /* CAM works on evaluation models too */
        check_close("cam logits = predict", z, zp, (size_t)K, 1e-4f, 1e-3f);
        fn_model_free(e);
    }
    free(W);
    free(b);
    free(feat);
    free(low);
    free(x);
    free(heat);
    free(want);
    fn_model_free(m);
}

static void test_multiwarm(void)
{
    float l[4];
    const float z[4] = {2, -1, 0.5f, -3};
    CHECK(fn_multiwarm_label(z, 4, 1, FN_MULTIWARM_LOGIT, 1, l) == 3, "logit rule: 3 classes");
    const float want1[4] = {1 / 3.0f, 1 / 3.0f, 1 / 3.0f, 0};
    check_close("logit rule with the true class", l, want1, 4, 1e-7f, 0);
    CHECK(fn_multiwarm_label(z, 4, -1, FN_MULTIWARM_LOGIT, 1, l) == 2, "unknown class: 2");
    const float want2[4] = {0.5f, 0, 0.5f, 0};
    check_close("logit rule, true class unknown", l, want2, 4, 1e-7f, 0);
    const float neg[4] = {-1, -2, -0.5f, -3};
    CHECK(fn_multiwarm_label(neg, 4, -1, FN_MULTIWARM_LOGIT, 1, l) == 0, "none warm");
    const float zero[4] = {0, 0, 0, 0};
    check_close("none warm: all zero", l, zero, 4, 0, 0);
    /* softmax(z / 2) of {2, 1, 0, -3} = {.486, .295, .179, .040}: above 1/4 are 0 and 1 */
    const float z2[4] = {2, 1, 0, -3};
    CHECK(fn_multiwarm_label(z2, 4, 3, FN_MULTIWARM_SOFTMAX, 2, l) == 3, "softmax rule: 3");
    const float want3[4] = {1 / 3.0f, 1 / 3.0f, 0, 1 / 3.0f};
    check_close("softmax rule", l, want3, 4, 1e-7f, 0);
    /* Huge logits stay finite. */
    const float big[3] = {1e4f, 9999, -1e4f};
    CHECK(fn_multiwarm_label(big, 3, -1, FN_MULTIWARM_SOFTMAX, 2, l) == 2, "softmax rule, 1e4");
}

/* The baseline's confusion structure (issue 17.2): counts by hand on known
 * logits, then on a tiny LeNet-5's logits against a plain recount of the
 * paper's rule (logit > 0, or the true class). */
static void test_multiwarm_counts(fn_device *dev)
{
    enum { K = 3, N = 4 };
    const float z[N * K] = {2,    1,    -1,  /* class 0: warm 0, 1 */
                            -1,   -1,   3,   /* class 0: warm 0, 2 */
                            -1,   -2,   -3,  /* class 1: warm 1 */
                            0.5f, 0.1f, -1}; /* class 2: warm 0, 1, 2 */
    const int y[N] = {0, 0, 1, 2};
    int64_t counts[K * K];
    uint8_t warm[N * K];
    CHECK_OK(fn_multiwarm_counts(z, y, N, K, FN_MULTIWARM_LOGIT, 1, counts, warm));
    const int64_t want[K * K] = {2, 1, 1, 0, 1, 0, 1, 1, 1};
    int same = 1;
    for (int i = 0; i < K * K; i++)
        same &= counts[i] == want[i];
    CHECK(same, "counts by hand: row 0 %lld %lld %lld", (long long)counts[0], (long long)counts[1],
          (long long)counts[2]);
    const uint8_t want_warm[N * K] = {1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1};
    CHECK(memcmp(warm, want_warm, sizeof warm) == 0, "which images hold which class");
    /* The softmax rule (T = 2) on image 0: {.547, .332, .122}, only .547 > 1/3. */
    CHECK_OK(fn_multiwarm_counts(z, y, 1, K, FN_MULTIWARM_SOFTMAX, 2, counts, NULL));
    CHECK(counts[0] == 1 && counts[1] == 0 && counts[2] == 0, "softmax rule: %lld %lld %lld",
          (long long)counts[0], (long long)counts[1], (long long)counts[2]);
    /* A label out of range: refused, the counts as they were. */
    const int bad[N] = {0, 3, 1, 2};
    for (int i = 0; i < K * K; i++)
        counts[i] = 77;
    CHECK(fn_multiwarm_counts(z, bad, N, K, FN_MULTIWARM_LOGIT, 1, counts, NULL) == FN_ERR_ARG &&
              strstr(fn_last_error(), "image 1"),
          "a bad label is refused, naming the image: %s", fn_last_error());
    CHECK(counts[0] == 77 && counts[8] == 77, "counts untouched after the error");

    /* A tiny model's logits over 30 images of 10 classes. */
    enum { TK = 10, TN = 30 };
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, "lenet5", TK, 1, 28, 28));
    fn_model *m = NULL;
    CHECK_OK(fn_model_create(dev, &cfg, 1, 1, &m));
    if (!m) return;
    CHECK_OK(fn_model_init(m, 5));
    float *x = malloc(sizeof(float) * 28 * 28), *zs = malloc(sizeof(float) * TN * TK);
    int labels[TN];
    fn_rng r;
    fn_rng_seed(&r, 3);
    for (int i = 0; i < TN; i++) {
        for (int p = 0; p < 28 * 28; p++)
            x[p] = fn_rng_uniform(&r) * 4 - 2;
        labels[i] = i % TK;
        CHECK_OK(fn_model_predict(m, x, 1, zs + i * TK));
    }
    int64_t c[TK * TK], ref[TK * TK] = {0};
    CHECK_OK(fn_multiwarm_counts(zs, labels, TN, TK, FN_MULTIWARM_LOGIT, 1, c, NULL));
    int warm_off = 0;
    for (int i = 0; i < TN; i++)
        for (int j = 0; j < TK; j++)
            if (zs[i * TK + j] > 0 || j == labels[i]) {
                ref[labels[i] * TK + j]++;
                warm_off += j != labels[i];
            }
    same = 1;
    for (int i = 0; i < TK * TK; i++)
        same &= c[i] == ref[i];
    CHECK(same, "tiny model: counts match a plain recount of logit > 0 or the true class");
    int diag = 1;
    for (int i = 0; i < TK; i++)
        diag &= c[i * TK + i] == TN / TK;
    CHECK(diag, "tiny model: the diagonal counts each class's %d images", TN / TK);
    CHECK(warm_off > 0, "tiny model: some image holds a class besides its own (%d)", warm_off);
    free(x);
    free(zs);
    fn_model_free(m);
}

/* The host softmax the CLI and the viewer print: known values, sum 1, and
 * logits of 1e4 finite (a plain exp would overflow to inf/inf = NaN). */
static void test_host_softmax(void)
{
    const float z[3] = {1, 2, 3};
    float p[3];
    fn_softmax(z, 3, p);
    const float want[3] = {0.09003057f, 0.24472847f, 0.66524096f};
    check_close("softmax of {1, 2, 3}", p, want, 3, 1e-6f, 0);
    const float big[3] = {1e4f, 1e4f, -1e4f};
    fn_softmax(big, 3, p);
    const float want_big[3] = {0.5f, 0.5f, 0};
    check_close("softmax of 1e4 logits", p, want_big, 3, 1e-7f, 0);
}

static void test_colormaps(void)
{
    uint8_t c[3];
    static const struct {
        fn_colormap cm;
        float t;
        uint8_t rgb[3];
    } want[] = {
        {FN_COLORMAP_VIRIDIS, 0, {68, 1, 84}},       {FN_COLORMAP_VIRIDIS, 1, {253, 231, 37}},
        {FN_COLORMAP_VIRIDIS, 0.5f, {33, 145, 140}}, {FN_COLORMAP_INFERNO, 0, {0, 0, 4}},
        {FN_COLORMAP_INFERNO, 1, {252, 255, 164}},   {FN_COLORMAP_JET, 0, {0, 0, 128}},
        {FN_COLORMAP_JET, 1, {128, 0, 0}},           {FN_COLORMAP_JET, 0.5f, {123, 255, 123}},
        {FN_COLORMAP_VIRIDIS, -3, {68, 1, 84}},      {FN_COLORMAP_VIRIDIS, 7, {253, 231, 37}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        fn_colormap_rgb(want[i].cm, want[i].t, c);
        CHECK(abs(c[0] - want[i].rgb[0]) <= 1 && abs(c[1] - want[i].rgb[1]) <= 1 &&
                  abs(c[2] - want[i].rgb[2]) <= 1,
              "%s(%g) = %d %d %d, want %d %d %d", fn_colormap_name(want[i].cm), want[i].t, c[0],
              c[1], c[2], want[i].rgb[0], want[i].rgb[1], want[i].rgb[2]);
    }
    fn_colormap cm;
    CHECK(fn_colormap_parse("inferno", &cm) == FN_OK && cm == FN_COLORMAP_INFERNO, "parse");
    CHECK(fn_colormap_parse("hot", &cm) == FN_ERR_ARG && strstr(fn_last_error(), "viridis"),
          "unknown colormap lists the known ones");

    /* Overlay: opacity 0 is the image, 1 the colormap; gray images repeat. */
    float px[2 * 2 * 3] = {0, 0.5f, 1, 0.25f, 1, 0, 0.2f, 0.4f, 0.1f, 0.3f, 0.9f, 0.8f};
    float heat[4] = {0, 1, 2, 4}, lo = INFINITY, hi = -INFINITY;
    fn_heatmap_range(heat, 4, &lo, &hi);
    CHECK(lo == 0 && hi == 4, "range %g..%g", lo, hi);
    uint8_t out[12];
    fn_cam_overlay(px, 3, 2, 2, heat, lo, hi, FN_COLORMAP_VIRIDIS, 0, out);
    int same = 1;
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            same &= out[i * 3 + k] == (uint8_t)lrintf(px[k * 4 + i] * 255);
    CHECK(same, "overlay at opacity 0 is the image (planar RGB to interleaved)");
    fn_cam_overlay(px, 3, 2, 2, heat, lo, hi, FN_COLORMAP_VIRIDIS, 1, out);
    CHECK(out[0] == 68 && out[1] == 1 && out[2] == 84 && out[9] == 253, "opacity 1: colormap");
    fn_cam_overlay(px, 1, 2, 2, NULL, 0, 1, FN_COLORMAP_VIRIDIS, 0.5f, out);
    CHECK(out[3] == out[4] && out[4] == out[5] && out[3] == 128, "gray, no heatmap: the image");
}

static void test_load_image(void)
{
    char dir[256], path[300];
    tmpdir_make(dir, sizeof dir, "cam");
    enum { S = 16, P = S * S };
    uint8_t rgb[P * 3];
    for (int i = 0; i < P * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    snprintf(path, sizeof path, "%s/a.png", dir);
    CHECK(stbi_write_png(path, S, S, 3, rgb, S * 3), "write png");
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, "lenet5", 3, 3, S, S));
    fn_model *m = NULL;
    CHECK_OK(fn_model_create(NULL, &cfg, 1, 0, &m)); /* no device needed to read images */
    if (m) {
        m->meta.mean[0] = 0.5f, m->meta.std[0] = 0.25f;
        float in[3 * P], px[3 * P];
        CHECK_OK(fn_model_load_image(m, path, in, px));
        int ok = 1;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < P; i++) {
                float p = rgb[i * 3 + c] / 255.0f;
                ok &= fabsf(px[c * P + i] - p) < 1e-6f;
                ok &= fabsf(in[c * P + i] - (p - m->meta.mean[c]) / m->meta.std[c]) < 1e-5f;
            }
        CHECK(ok, "pixels in [0, 1] and the normalized input of an image of the model's size");
        snprintf(path, sizeof path, "%s/missing.png", dir);
        CHECK(fn_model_load_image(m, path, in, NULL) != FN_OK && strstr(fn_last_error(), path),
              "a missing image is an error naming it");
        fn_model_free(m);
    }
    tmpdir_remove(dir);
}

int main(void)
{
    fn_device *dev = test_device();
    test_multiwarm();
    test_host_softmax();
    test_colormaps();
    test_load_image();
    test_multiwarm_counts(dev);
    test_lenet_gradcam(dev);
    test_gap_model(dev, "resnet18", "fc.weight", 5, 16);
    test_gap_model(dev, "mobilenetv2", "classifier.1.weight", 4, 16);
    fn_device_free(dev);
    return check_summary("cam");
}
