/* The public training step (fn_trainer) and the per-layer entry
 * (fn_model_layer_*): a whole step equals its two halves, the update is
 * torch's SGD on the gradients the halves expose, the hook runs between
 * backward and the update, and running the layers one by one computes what
 * the whole forward and backward compute. */
#include "check.h"
#include "nn/model.h"
#include "optim/sgd.h"
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

/* Each trainable tensor of m in turn: a host array of its length (for the
 * plain-C clip of a flat gradient). */
static int tensors_of(const fn_model *m, float *flat, float **at, size_t *numel)
{
    int n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].trainable) {
            at[n] = flat;
            numel[n] = m->params[i].numel;
            flat += numel[n++];
        }
    return n;
}

typedef struct {
    float *g; /* written as the gradients (as an allreduce would) */
    size_t n;
} grads_hook;

static fn_status write_grads(fn_trainer *t, void *user)
{
    grads_hook *h = user;
    return fn_trainer_grads_write(t, h->g);
}

/* --clip-norm: the update is SGD on torch.nn.utils.clip_grad_norm_'s
 * gradients (the clip before the weight decay), the clip sees what the hook
 * left (a data-parallel trainer's averaged gradients), and a clip far above
 * the norm is no clip at all, bit for bit. */
static void test_clip(fn_device *dev)
{
    float x[N * H * H];
    int32_t y[N] = {2, 0, 4, 1};
    fn_rng r;
    fn_rng_seed(&r, 5);
    fill_uniform(&r, x, N * H * H, -1, 1);
    fn_loss_opts lo;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_sgd_opts so;
    fn_sgd_opts_default(&so);
    so.lr = 0.05f;
    so.weight_decay = 1e-2f; /* large, so that clipping it too would show */
    fn_model *a = lenet(dev, 9), *b = lenet(dev, 9);
    if (!a || !b) return;
    size_t total = (size_t)fn_model_param_count(a);
    float *g = malloc(total * sizeof *g), *gc = malloc(total * sizeof *gc);
    float *at[64];
    size_t numel[64];
    int nt = tensors_of(a, g, at, numel);

    /* The unclipped norm of the first step's gradient. */
    fn_trainer *t = NULL;
    CHECK_OK(fn_trainer_create(a, NULL, &lo, &so, &t));
    if (!t) return;
    float *p0 = read_trainable(dev, a, total);
    CHECK_OK(fn_trainer_grads(t, x, y, N));
    CHECK_OK(fn_trainer_grads_read(t, g));
    float norm = fn_ref_clip_grad_norm(at, numel, nt, 0.0f);
    CHECK(norm > 0.01f, "the step has a gradient (norm %g)", norm);
    fn_trainer_free(t);

    /* Clip at a third of it: gradients scaled by about 1/3, then SGD. */
    fn_sgd_opts sc = so;
    sc.clip_norm = norm / 3;
    CHECK_OK(fn_trainer_create(a, NULL, &lo, &sc, &t));
    if (!t) return;
    CHECK_OK(fn_trainer_grads(t, x, y, N));
    CHECK_OK(fn_trainer_grads_read(t, g));
    memcpy(gc, g, total * sizeof *g);
    float *atc[64];
    tensors_of(a, gc, atc, numel);
    fn_ref_clip_grad_norm(atc, numel, nt, sc.clip_norm);
    CHECK(fabsf(gc[0] - g[0] / 3) <= 1e-5f * fabsf(g[0]) + 1e-12f, "the reference scales by 1/3");
    CHECK_OK(fn_trainer_apply(t));
    float *got = calloc(total, sizeof *got), *want = calloc(total, sizeof *want);
    CHECK_OK(fn_trainer_grads_read(t, got));
    check_close("clipped gradients (in place, as torch)", got, gc, total, 1e-6f, 1e-5f);
    float *p1 = read_trainable(dev, a, total);
    for (size_t i = 0; i < total; i++)
        want[i] = p0[i] - so.lr * (gc[i] + so.weight_decay * p0[i]);
    check_close("update from clipped gradients, weight decay after", p1, want, total, 1e-6f, 1e-5f);
    double ss = 0;
    for (size_t i = 0; i < total; i++)
        ss += (double)got[i] * got[i];
    CHECK(fabs(sqrt(ss) - sc.clip_norm) <= 1e-4 * sc.clip_norm, "clipped norm %g, want %g",
          sqrt(ss), sc.clip_norm);

    /* The clip after the hook: gradients the hook wrote (twice the
     * reference's, as after an allreduce) are what it clips. */
    grads_hook gh = {g, total};
    for (size_t i = 0; i < total; i++)
        g[i] = 2 * gc[i] + (float)(i % 7) * 1e-3f;
    memcpy(gc, g, total * sizeof *g);
    norm = fn_ref_clip_grad_norm(atc, numel, nt, sc.clip_norm);
    CHECK(norm > 1.5f * sc.clip_norm, "the hook's gradients are above the clip (%g)", norm);
    fn_trainer_set_hook(t, write_grads, &gh);
    float *q0 = read_trainable(dev, a, total);
    CHECK_OK(fn_trainer_step(t, x, y, N));
    CHECK_OK(fn_trainer_grads_read(t, got));
    check_close("the hook's gradients, clipped", got, gc, total, 1e-6f, 1e-5f);
    fn_trainer_free(t);
    free(q0);

    /* A clip of 1e9: the same weights as no clip after three steps (b). */
    fn_trainer *tn = NULL, *th = NULL;
    fn_model *c = lenet(dev, 9);
    sc.clip_norm = 1e9f;
    CHECK_OK(fn_trainer_create(b, NULL, &lo, &so, &tn));
    if (c) CHECK_OK(fn_trainer_create(c, NULL, &lo, &sc, &th));
    if (tn && th) {
        for (int s = 0; s < 3; s++) {
            CHECK_OK(fn_trainer_step(tn, x, y, N));
            CHECK_OK(fn_trainer_step(th, x, y, N));
        }
        float *wb = read_trainable(dev, b, total), *wc = read_trainable(dev, c, total);
        CHECK(memcmp(wb, wc, total * sizeof *wb) == 0, "clip 1e9 = no clip, bit for bit");
        free(wb);
        free(wc);
    }
    fn_trainer_free(tn);
    fn_trainer_free(th);

    /* Bad clips: refused, naming the clip. */
    const float bad[] = {-2.0f, -0.5f, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        sc.clip_norm = bad[i];
        fn_trainer *tb = NULL;
        CHECK(fn_trainer_create(b, NULL, &lo, &sc, &tb) == FN_ERR_ARG && !tb &&
                  strstr(fn_last_error(), "clip"),
              "clip %g refused: %s", bad[i], fn_last_error());
    }
    fn_model_free(a);
    fn_model_free(b);
    fn_model_free(c);
    free(g);
    free(gc);
    free(got);
    free(want);
    free(p0);
    free(p1);
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

static int relu_backward_launches;

static void count_relu_backward(void *ctx, cl_kernel k, int dims, const size_t *global,
                                const size_t *local)
{
    (void)ctx, (void)dims, (void)global, (void)local;
    char name[64] = "";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    if (strncmp(name, "relu", 4) == 0 && strstr(name, "_backward")) relu_backward_launches++;
}

/* Training's backward with each batch norm's following ReLU/ReLU6 folded
 * into batch norm's backward (dev->bn_fuse) against the two separate passes
 * (FOCUSNET_BN_FUSE=0's path): the same gradients bit for bit, with fewer
 * activation backward launches (relus: how many activations stay unfused,
 * those after a residual sum). */
static void test_fused_backward(fn_device *dev, const char *arch, int c, int h, int relus)
{
    fn_model_config cfg;
    fn_model *m = NULL;
    CHECK_OK(fn_model_config_default(&cfg, arch, K, c, h, h));
    CHECK_OK(fn_model_create(dev, &cfg, 2, 1, &m));
    if (!m) return;
    size_t n_in = (size_t)2 * c * h * h, nk = 2 * K, total = (size_t)fn_model_param_count(m);
    float *x = malloc(n_in * sizeof *x), dz[2 * K], *g[2];
    fn_rng r;
    fn_rng_seed(&r, 13);
    fill_uniform(&r, x, n_in, -1, 1);
    fill_uniform(&r, dz, nk, -1, 1);
    int fuse = dev->bn_fuse, launches[2];
    for (int v = 0; v < 2; v++) {
        dev->bn_fuse = v == 0;
        CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, n_in * sizeof *x, x));
        CHECK_OK(fn_model_forward(m, 2, 1));
        CHECK_OK(fn_buffer_write(dev, m->acts[m->logits].grad, 0, sizeof dz, dz));
        CHECK_OK(fn_model_zero_grad(m));
        relu_backward_launches = 0;
        dev->launch_hook = count_relu_backward;
        CHECK_OK(fn_model_backward(m, 2));
        dev->launch_hook = NULL;
        launches[v] = relu_backward_launches;
        g[v] = read_grads(dev, m, total);
    }
    dev->bn_fuse = fuse;
    CHECK(memcmp(g[0], g[1], total * sizeof *g[0]) == 0, "%s: fused backward, bit for bit", arch);
    CHECK(launches[0] == relus && launches[1] > relus,
          "%s: %d activation backward launches fused, %d not (want %d fused)", arch, launches[0],
          launches[1], relus);
    free(g[0]);
    free(g[1]);
    free(x);
    fn_model_free(m);
}

int main(void)
{
    fn_device *dev = test_device();
    test_step(dev);
    test_clip(dev);
    test_layers(dev, "lenet5", "conv1", 1, 16, 1);
    test_layers(dev, "resnet18", "conv1", 3, 8, 0);
    test_layers(dev, "mobilenetv2", "features.0.0", 3, 8, 0);
    test_fused_backward(dev, "mobilenetv2", 3, 8, 0);
    test_fused_backward(dev, "resnet18", 3, 8, 8); /* the 8 ReLUs after residual sums */
    fn_device_free(dev);
    return check_summary("test_step");
}
