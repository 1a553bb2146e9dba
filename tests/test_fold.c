/* Evaluation-time fusion (lib/nn/fold.c): a convolution with the batch norm
 * and ReLU/ReLU6 after it run as one fused convolution must give the logits
 * and feature maps of the unfused layers, for LeNet-5 (conv + ReLU),
 * ResNet-18 and MobileNetV2 (conv + BN + ReLU/ReLU6 and conv + BN), in
 * evaluation models (shared buffers, batch norm in place) and in training
 * models evaluated; and the fold never goes stale: after an SGD step, and
 * after the parameters are written directly, the fused output follows. */
#include "check.h"
#include "nn/model.h"

#define N 3

/* Batch norms that are not the identity: gamma, beta and the running
 * statistics drawn at random (a freshly initialized one is y = x / sqrt(1 + eps)). */
static void randomize_bn(fn_device *dev, fn_model *m, fn_rng *r)
{
    for (int i = 0; i < m->n_layers; i++) {
        const fn_layer *l = &m->layers[i];
        if (l->kind != FN_L_BN) continue;
        int idx[4] = {l->w, l->b, l->rmean, l->rvar};
        float lo[4] = {0.5f, -0.5f, -0.5f, 0.3f}, hi[4] = {1.5f, 0.5f, 0.5f, 2.0f};
        for (int j = 0; j < 4; j++) {
            fn_param *p = &m->params[idx[j]];
            float *v = malloc(p->numel * sizeof *v);
            fill_uniform(r, v, p->numel, lo[j], hi[j]);
            CHECK_OK(fn_buffer_write(dev, p->data, 0, p->numel * sizeof *v, v));
            free(v);
        }
    }
}

static size_t act_len(const fn_model *m, int a, int n)
{
    const fn_act *t = &m->acts[a];
    return (size_t)n * t->c * t->h * t->w;
}

/* logits then (if any) the CAM feature maps of an evaluation forward. */
static float *eval_out(fn_device *dev, fn_model *m, int no_fold, size_t *len)
{
    size_t nl = act_len(m, m->logits, N), nf = m->features >= 0 ? act_len(m, m->features, N) : 0;
    float *out = malloc((nl + nf) * sizeof *out);
    m->no_fold = no_fold;
    CHECK_OK(fn_model_forward(m, N, 0));
    dev_download(dev, m->acts[m->logits].data, out, nl);
    if (nf) dev_download(dev, m->acts[m->features].data, out + nl, nf);
    m->no_fold = 0;
    *len = nl + nf;
    return out;
}

static float max_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static fn_model *make(fn_device *dev, const char *arch, int c, int hw, int training, fn_rng *r)
{
    fn_model_config cfg;
    fn_model *m = NULL;
    CHECK_OK(fn_model_config_default(&cfg, arch, 10, c, hw, hw));
    CHECK_OK(fn_model_create(dev, &cfg, N, training, &m));
    if (!m) return NULL;
    randomize_bn(dev, m, r);
    size_t nx = act_len(m, m->input, N);
    float *x = malloc(nx * sizeof *x);
    fill_uniform(r, x, nx, -1, 1);
    CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, nx * sizeof *x, x));
    free(x);
    return m;
}

/* Fused against unfused, and that fusion happened: the first layer's chain
 * covers `first` layers (conv + ReLU 2, conv + BN + ReLU 3). */
static void check_model(fn_device *dev, const char *arch, int c, int hw, int training, int first,
                        fn_rng *r)
{
    fn_model *m = make(dev, arch, c, hw, training, r);
    if (!m) return;
    size_t n;
    float *ref = eval_out(dev, m, 1, &n), *got = eval_out(dev, m, 0, &n);
    char what[96];
    snprintf(what, sizeof what, "%s (%s model): fused against unfused", arch,
             training ? "training" : "evaluation");
    check_close(what, got, ref, n, 1e-5f, 1e-5f);
    int used = -1;
    CHECK_OK(fn_model_fused_forward(m, 0, N, &used));
    CHECK(used == first, "%s: the first convolution's chain covers %d layers, want %d", arch, used,
          first);
    CHECK_OK(fn_model_fused_forward(m, m->n_layers - 1, N, &used));
    CHECK(used == 0, "%s: the classifier does not fuse (%d)", arch, used);
    free(ref), free(got);
    fn_model_free(m);
}

/* A training step changes the weights and the running statistics: the next
 * evaluation's fold must follow (equal the unfused output, differ from the
 * one before); so must a direct write of one batch norm's parameters. */
static void check_not_stale(fn_device *dev, fn_rng *r)
{
    fn_model *m = make(dev, "mobilenetv2", 3, 32, 1, r);
    if (!m) return;
    size_t nx = act_len(m, m->input, N), n;
    float *x = malloc(nx * sizeof *x);
    fill_uniform(r, x, nx, -1, 1);
    int32_t y[N] = {1, 7, 3};
    float *before = eval_out(dev, m, 0, &n);
    fn_loss_opts lo;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_sgd_opts so;
    fn_sgd_opts_default(&so);
    fn_trainer *t = NULL;
    CHECK_OK(fn_trainer_create(m, NULL, &lo, &so, &t));
    if (t) CHECK_OK(fn_trainer_step(t, x, y, N));
    CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, nx * sizeof *x, x));
    float *ref = eval_out(dev, m, 1, &n), *got = eval_out(dev, m, 0, &n);
    check_close("after an SGD step: fused against unfused", got, ref, n, 1e-5f, 1e-5f);
    CHECK(max_diff(got, before, n) > 1e-3f, "the step changed the evaluation output (%g)",
          max_diff(got, before, n));
    free(ref), free(got), free(before);

    /* As a checkpoint load or set_params would: new values in place. */
    before = eval_out(dev, m, 0, &n);
    randomize_bn(dev, m, r);
    ref = eval_out(dev, m, 1, &n);
    got = eval_out(dev, m, 0, &n);
    check_close("after writing the batch norms: fused against unfused", got, ref, n, 1e-5f, 1e-5f);
    CHECK(max_diff(got, before, n) > 1e-3f, "the new batch norms changed the output (%g)",
          max_diff(got, before, n));
    free(ref), free(got), free(before), free(x);
    fn_trainer_free(t);
    fn_model_free(m);
}

static void check_switch(fn_device *dev, fn_rng *r)
{
    fn_model *m = make(dev, "lenet5", 1, 28, 0, r);
    if (!m) return;
    CHECK(fn_model_fold_enabled(m), "fusion is on by default");
    setenv("FOCUSNET_FOLD", "0", 1);
    CHECK(!fn_model_fold_enabled(m), "FOCUSNET_FOLD=0 turns it off");
    setenv("FOCUSNET_FOLD", "1", 1);
    CHECK(fn_model_fold_enabled(m), "FOCUSNET_FOLD=1 leaves it on");
    unsetenv("FOCUSNET_FOLD");
    m->no_fold = 1;
    CHECK(!fn_model_fold_enabled(m), "no_fold turns it off");
    fn_model_free(m);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 18);
    unsetenv("FOCUSNET_FOLD");
    check_switch(dev, &r);
    for (int training = 0; training <= 1; training++) {
        check_model(dev, "lenet5", 1, 28, training, 2, &r);
        check_model(dev, "mobilenetv2", 3, 32, training, 3, &r);
        check_model(dev, "resnet18", 3, 32, training, 3, &r);
    }
    check_not_stale(dev, &r);
    fn_device_free(dev);
    return check_summary("test_fold");
}
