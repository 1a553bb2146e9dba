/* The public training step (fn_trainer) and the per-layer entry
 * (fn_model_layer_*): a whole step equals its two halves, the update is
 * torch's SGD on the gradients the halves expose, the hook runs between
 * backward and the update, and running the layers one by one computes what
 * the whole forward and backward compute. */
#include "check.h"
#include "nn/model.h"
#include "train/train.h"

#define N 4
#define K 5
#define H 16

static fn_model *lenet(fn_device *dev, uint64_t seed)
{
    fn_model_config cfg;
    fn_model *m = NULL;
    CHECK_OK(fn_model_config_default(&cfg, "lenet5", K, 1, H, H));
    CHECK_OK(fn_model_create(dev, &cfg, N, 1, &m));
    if (m) CHECK_OK(fn_model_init(m, seed));
    return m;
}

/* Every trainable parameter of m, one after another. */
static float *read_trainable(fn_device *dev, const fn_model *m, size_t total)
{
    float *v = malloc(total * sizeof *v), *p = v;
    for (int i = 0; v && i < m->n_params; i++)
        if (m->params[i].trainable) {
            dev_download(dev, m->params[i].data, p, m->params[i].numel);
            p += m->params[i].numel;
        }
    return v;
}

typedef struct {
    int calls;
    int zero;         /* write zero gradients */
    fn_status result; /* returned */
} hook_state;

static fn_status hook(fn_trainer *t, void *user)
{
    hook_state *h = user;
    h->calls++;
    if (h->zero) {
        size_t n = fn_trainer_grad_count(t);
        float *z = calloc(n, sizeof *z);
        fn_status st = z ? fn_trainer_grads_write(t, z) : FN_ERR_NOMEM;
        free(z);
        if (st != FN_OK) return st;
    }
    return h->result;
}

static void test_step(fn_device *dev)
{
    float x[N * H * H];
    int32_t y[N] = {0, 3, 1, 4};
    fn_rng r;
    fn_rng_seed(&r, 3);
    fill_uniform(&r, x, N * H * H, -1, 1);
    fn_loss_opts lo;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_sgd_opts so;
    fn_sgd_opts_default(&so);
    so.lr = 0.05f;
    fn_model *a = lenet(dev, 7), *b = lenet(dev, 7);
    fn_trainer *ta = NULL, *tb = NULL;
    if (!a || !b) return;
    CHECK_OK(fn_trainer_create(a, NULL, &lo, &so, &ta));
    CHECK_OK(fn_trainer_create(b, NULL, &lo, &so, &tb));
    if (!ta || !tb) return;
    size_t total = fn_trainer_grad_count(ta);
    CHECK((int64_t)total == fn_model_param_count(a), "grad count %zu, parameters %lld", total,
          (long long)fn_model_param_count(a));

    /* b in halves; the first update against the SGD rule by hand. */
    float *p0 = read_trainable(dev, b, total), *g = malloc(total * sizeof *g);
    CHECK_OK(fn_trainer_grads(tb, x, y, N));
    CHECK_OK(fn_trainer_grads_read(tb, g));
    CHECK_OK(fn_trainer_apply(tb));
    float *p1 = read_trainable(dev, b, total), *want = malloc(total * sizeof *want);
    int nonzero = 0;
    for (size_t i = 0; i < total; i++) {
        /* first step: buf = g + wd p, p -= lr buf */
        want[i] = p0[i] - so.lr * (g[i] + so.weight_decay * p0[i]);
        nonzero += g[i] != 0;
    }
    CHECK(nonzero > (int)total / 5, "the step has gradients (%d of %zu non-zero)", nonzero, total);
    check_close("first update", p1, want, total, 1e-6f, 1e-5f);
    CHECK(fn_trainer_steps(tb) == 1 && b->batches_tracked == 1, "one update counted");

    /* a in whole steps; b's second step in halves: the same weights, bit for bit. */
    CHECK_OK(fn_trainer_step(ta, x, y, N));
    CHECK_OK(fn_trainer_step(ta, x, y, N));
    CHECK_OK(fn_trainer_grads(tb, x, y, N));
    CHECK_OK(fn_trainer_apply(tb));
    float *wa = read_trainable(dev, a, total), *wb = read_trainable(dev, b, total);
    CHECK(memcmp(wa, wb, total * sizeof *wa) == 0, "a whole step is its two halves");
    float sa[4], sb[4];
    CHECK_OK(fn_trainer_stats_read(ta, sa));
    CHECK_OK(fn_trainer_stats_read(tb, sb));
    CHECK(sa[3] == 2 * N && memcmp(sa, sb, sizeof sa) == 0,
          "running sums of two steps (%g samples)", sa[3]);

    /* The hook runs between backward and the update: zero gradients there,
     * with no weight decay and a fresh momentum, leave the weights as they were. */
    fn_sgd_opts nowd = so;
    nowd.weight_decay = 0;
    fn_trainer *tz = NULL;
    CHECK_OK(fn_trainer_create(a, NULL, &lo, &nowd, &tz));
    hook_state hs = {0, 1, FN_OK};
    if (tz) {
        fn_trainer_set_hook(tz, hook, &hs);
        CHECK_OK(fn_trainer_step(tz, x, y, N));
        float *w = read_trainable(dev, a, total);
        CHECK(hs.calls == 1, "the hook ran once (%d)", hs.calls);
        CHECK(memcmp(w, wa, total * sizeof *w) == 0, "zero gradients from the hook: no change");
        /* A failing hook stops the step before the update. */
        hs.zero = 0;
        hs.result = FN_ERR_NUMERIC;
        CHECK(fn_trainer_step(tz, x, y, N) == FN_ERR_NUMERIC, "the hook's failure is the step's");
        float *w2 = read_trainable(dev, a, total);
        CHECK(memcmp(w2, wa, total * sizeof *w) == 0 && fn_trainer_steps(tz) == 1,
              "no update after a failed hook");
        free(w);
        free(w2);
    }
    CHECK(fn_trainer_grads(ta, x, y, N + 1) == FN_ERR_ARG, "a batch larger than the model's");
    fn_trainer_free(tz);
    fn_trainer_free(ta);
    fn_trainer_free(tb);
    fn_model_free(a);
    fn_model_free(b);
    free(p0);
    free(p1);
    free(g);
    free(want);
    free(wa);
    free(wb);
}

/* Gradients of every trainable parameter. */
static float *read_grads(fn_device *dev, const fn_model *m, size_t total)
{
    float *v = malloc(total * sizeof *v), *p = v;
    for (int i = 0; v && i < m->n_params; i++)
        if (m->params[i].trainable) {
            dev_download(dev, m->params[i].grad, p, m->params[i].numel);
            p += m->params[i].numel;
        }
    return v;
}

static void test_layers(fn_device *dev, const char *arch, const char *first, int c, int h,
                        int backward)
{
    fn_model_config cfg;
    fn_model *m = NULL;
    CHECK_OK(fn_model_config_default(&cfg, arch, K, c, h, h));
    CHECK_OK(fn_model_create(dev, &cfg, 2, 1, &m));
    if (!m) return;
    int layers = fn_model_layer_count(m);
    CHECK(layers == m->n_layers && layers > 0, "%s: %d layers", arch, layers);
    double flops = 0;
    for (int i = 0; i < layers; i++) {
        fn_layer_info info;
        CHECK_OK(fn_model_layer_info(m, i, &info));
        flops += info.flops;
        if (i == 0)
            CHECK(info.type == FN_LAYER_CONV && strcmp(info.kind, "conv") == 0 &&
                      strcmp(info.name, first) == 0 && info.in_c == c && info.reads_input,
                  "%s: layer 0 is %s %s", arch, info.kind, info.name);
    }
    CHECK(flops == fn_model_flops(m), "%s: layer FLOPs add up (%g, model %g)", arch, flops,
          fn_model_flops(m));
    fn_layer_info bad;
    CHECK(fn_model_layer_info(m, layers, &bad) == FN_ERR_ARG, "no layer past the last");
    CHECK(fn_model_layer_forward(m, -1, 1) == FN_ERR_ARG, "no layer -1");

    size_t n_in = (size_t)2 * c * h * h, nk = 2 * K;
    float *x = malloc(n_in * sizeof *x), dz[2 * K], za[2 * K], zb[2 * K];
    fn_rng r;
    fn_rng_seed(&r, 11);
    fill_uniform(&r, x, n_in, -1, 1);
    fill_uniform(&r, dz, nk, -1, 1);
    CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, n_in * sizeof *x, x));
    CHECK_OK(fn_model_forward(m, 2, 1));
    dev_download(dev, m->acts[m->logits].data, za, nk);
    for (int i = 0; i < layers; i++)
        CHECK_OK(fn_model_layer_forward(m, i, 2));
    dev_download(dev, m->acts[m->logits].data, zb, nk);
    check_close("layer-by-layer forward", zb, za, nk, 1e-5f, 1e-5f);
    if (backward) { /* a model whose activations each have one reader */
        size_t total = (size_t)fn_model_param_count(m);
        CHECK_OK(fn_buffer_write(dev, m->acts[m->logits].grad, 0, sizeof dz, dz));
        CHECK_OK(fn_model_zero_grad(m));
        CHECK_OK(fn_model_backward(m, 2));
        float *ga = read_grads(dev, m, total);
        CHECK_OK(fn_buffer_write(dev, m->acts[m->logits].grad, 0, sizeof dz, dz));
        CHECK_OK(fn_model_zero_grad(m));
        for (int i = layers - 1; i >= 0; i--)
            CHECK_OK(fn_model_layer_backward(m, i, 2));
        float *gb = read_grads(dev, m, total);
        CHECK(memcmp(ga, gb, total * sizeof *ga) == 0, "%s: layer-by-layer backward", arch);
        free(ga);
        free(gb);
    }
    free(x);
    fn_model_free(m);
}

int main(void)
{
    fn_device *dev = test_device();
    test_step(dev);
    test_layers(dev, "lenet5", "conv1", 1, 16, 1);
    test_layers(dev, "resnet18", "conv1", 3, 8, 0);
    test_layers(dev, "mobilenetv2", "features.0.0", 3, 8, 0);
    fn_device_free(dev);
    return check_summary("test_step");
}
