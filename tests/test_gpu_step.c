/* Whole-model steps on the GPU path, for tests/oclgrind.sh: for LeNet-5,
 * ResNet-18 and MobileNetV2 (small stems) on tiny inputs, one training step
 * (forward with batch statistics, every loss with its gradient, backward
 * from the focus loss's gradient, one SGD update) and one evaluation
 * forward. Every launch's work-group shape is recorded; on a GPU-path device
 * (dev->long_runs == 0) a launch of more than 32 work-items in work-groups
 * of fewer than 32 fails, unless its kernel is listed in small_ok below.
 *   test_gpu_step                 runs the steps, checks launch shapes
 *   test_gpu_step --save FILE     also writes the results (one number a line)
 *   test_gpu_step --compare FILE  also compares them with FILE, written by
 *                                 --save on another device (POCL)
 * FOCUSNET_STEP_MODELS=lenet5,mobilenetv2 picks models among lenet5,
 * mobilenetv2, resnet18 (channels / 16) and resnet18-full (default all). */
#include "check.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/sgd.h"

/* Kernels allowed small work-groups on a GPU, with the reason. */
static const char *const small_ok[][2] = {
    {"batch_stats", "one work-item sums the batch's loss and accuracy (n logits, once a step)"},
};

typedef struct {
    int gpu; /* record violations */
    int launches, bad;
} launch_log;

static void on_launch(void *ctx, cl_kernel k, int dims, const size_t *global, const size_t *local)
{
    launch_log *lg = ctx;
    char name[64] = "?";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    size_t items = 1, group = 1;
    for (int d = 0; d < dims; d++) {
        items *= global[d];
        group *= local ? local[d] : 0;
    }
    lg->launches++;
    if (!lg->gpu || items <= 32 || group >= 32) return;
    for (size_t i = 0; i < sizeof small_ok / sizeof small_ok[0]; i++)
        if (strcmp(small_ok[i][0], name) == 0) return;
    if (lg->bad++ < 20)
        fprintf(stderr, "FAIL launch shape: %s runs %zu work-items in groups of %zu%s\n", name,
                items, group, local ? "" : " (driver's choice)");
}

typedef struct {
    FILE *save;
    float *ref;
    size_t n_ref, at;
    int mismatches;
} results;

/* Records (and compares) n values under a name. */
static void result(results *r, const char *what, const float *v, size_t n)
{
    size_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->save) fprintf(r->save, "%.9g\n", v[i]);
        if (!r->ref) continue;
        if (r->at >= r->n_ref) {
            bad++;
            continue;
        }
        double want = r->ref[r->at++], d = fabs(v[i] - want), tol = 2e-3 + 2e-3 * fabs(want);
        if (!(d <= tol)) bad++;
        if (d > worst) worst = d;
    }
    check_count++;
    if (bad) {
        check_failed++;
        fprintf(stderr, "FAIL %s: %zu of %zu values differ from the saved run (worst %.3g)\n", what,
                bad, n, worst);
    }
}

static void read_floats(const char *path, results *r)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "FAIL: %s: cannot read\n", path);
        exit(1);
    }
    size_t cap = 1024;
    r->ref = malloc(cap * sizeof(float));
    float v;
    while (fscanf(f, "%f", &v) == 1) {
        if (r->n_ref == cap) r->ref = realloc(r->ref, (cap *= 2) * sizeof(float));
        r->ref[r->n_ref++] = v;
    }
    fclose(f);
}

static void download(fn_device *dev, cl_mem m, size_t n, float *out)
{
    CHECK_OK(fn_buffer_read(dev, m, 0, n * sizeof(float), out));
}

/* div: a ResNet's channels divided by it (fn_model_create_narrow), 1: as built. */
static void model_step(fn_device *dev, results *res, const char *arch, int c, int h, int n,
                       float width, int div)
{
    const int k = 10;
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, arch, k, c, h, h));
    cfg.small_stem = 1;
    if (width > 0) cfg.width = width;
    fn_model *m = NULL;
    CHECK_OK(fn_model_create_narrow(dev, &cfg, n, 1, div, &m));
    if (!m) return;
    CHECK_OK(fn_model_init(m, 3));
    fn_rng r;
    fn_rng_seed(&r, 11);
    size_t in = (size_t)n * c * h * h, nk = (size_t)n * k;
    float *x = malloc(in * sizeof(float)), *ref = malloc(nk * sizeof(float));
    float *out = malloc(nk * sizeof(float));
    int32_t labels[8];
    fill_uniform(&r, x, in, -1, 1);
    fill_uniform(&r, ref, nk, -3, 3); /* the frozen baseline's (or teacher's) logits */
    for (int i = 0; i < n; i++)
        labels[i] = (int32_t)fn_rng_below(&r, k);
    cl_mem glab = NULL, gref = dev_upload(dev, ref, nk), gloss = dev_upload(dev, NULL, n);
    CHECK_OK(fn_buffer_new(dev, (size_t)n * sizeof(int32_t), &glab));
    CHECK_OK(fn_buffer_write(dev, glab, 0, (size_t)n * sizeof(int32_t), labels));
    CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, in * sizeof(float), x));

    char what[96];
    CHECK_OK(fn_model_forward(m, n, 1));
    download(dev, m->acts[m->logits].data, nk, out);
    snprintf(what, sizeof what, "%s training logits", arch);
    result(res, what, out, nk);
    const fn_loss_kind kinds[4] = {FN_LOSS_CE, FN_LOSS_LS, FN_LOSS_KD, FN_LOSS_FOCUS};
    const char *names[4] = {"ce", "ls", "kd", "focus"};
    cl_mem dlogits = m->acts[m->logits].grad;
    for (int i = 0; i < 4; i++) {
        fn_loss_opts o;
        fn_loss_opts_default(&o, kinds[i]);
        CHECK_OK(fn_loss_compute(dev, &o, gloss, dlogits, NULL, m->acts[m->logits].data, glab,
                                 kinds[i] >= FN_LOSS_KD ? gref : NULL, n, k));
        download(dev, gloss, n, out);
        snprintf(what, sizeof what, "%s %s loss", arch, names[i]);
        result(res, what, out, n);
        download(dev, dlogits, nk, out);
        snprintf(what, sizeof what, "%s %s gradient", arch, names[i]);
        result(res, what, out, nk);
    }
    /* Backward from the focus loss's gradient (the last one computed), SGD. */
    CHECK_OK(fn_model_zero_grad(m));
    CHECK_OK(fn_model_backward(m, n));
    fn_sgd_opts sgd;
    fn_sgd_opts_default(&sgd);
    for (int i = 0; i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        float *v = malloc(p->numel * sizeof(float));
        if (p->trainable) {
            download(dev, p->grad, p->numel, v);
            double sum = 0, abs = 0;
            for (size_t j = 0; j < p->numel; j++)
                sum += v[j], abs += fabs(v[j]);
            float s[2] = {(float)sum, (float)abs};
            snprintf(what, sizeof what, "%s gradient of %s (sum, sum of |g|)", arch, p->name);
            result(res, what, s, 2);
            /* The optimizer's state lives apart from the model: a momentum
             * buffer of our own (a first step writes it before reading). */
            cl_mem mom = dev_upload(dev, NULL, p->numel);
            CHECK_OK(fn_sgd_step(dev, &sgd, p->data, p->grad, mom, (int)p->numel, 1));
            fn_buffer_free(mom);
        }
        download(dev, p->data, p->numel, v);
        size_t few = p->numel < 16 ? p->numel : 16;
        snprintf(what, sizeof what, "%s %s after the step", arch, p->name);
        result(res, what, v, few);
        free(v);
    }
    CHECK_OK(fn_model_forward(m, n, 0));
    download(dev, m->acts[m->logits].data, nk, out);
    snprintf(what, sizeof what, "%s evaluation logits", arch);
    result(res, what, out, nk);
    printf("%s%s %dx%dx%d batch %d: step done\n", arch, div > 1 ? " (narrow)" : "", c, h, h, n);
    fflush(stdout);
    free(x), free(ref), free(out);
    fn_buffer_free(glab), fn_buffer_free(gref), fn_buffer_free(gloss);
    fn_model_free(m);
}

/* The narrow ResNet-18 is the real one with fewer channels: the same
 * layers, kinds, kernels, strides and parameter names, channels / 16. */
static void narrow_is_resnet18(void)
{
    fn_model_config cfg;
    CHECK_OK(fn_model_config_default(&cfg, "resnet18", 10, 3, 8, 8));
    fn_model *full = NULL, *narrow = NULL, *bad = NULL;
    CHECK_OK(fn_model_create(NULL, &cfg, 2, 1, &full));
    CHECK_OK(fn_model_create_narrow(NULL, &cfg, 2, 1, 16, &narrow));
    if (!full || !narrow) return;
    CHECK(full->n_layers == narrow->n_layers && full->n_params == narrow->n_params,
          "narrow: %d layers, %d tensors (full %d, %d)", narrow->n_layers, narrow->n_params,
          full->n_layers, full->n_params);
    int same = full->n_layers == narrow->n_layers, convs = 0, shortcuts = 0;
    for (int i = 0; same && i < full->n_layers; i++) {
        const fn_layer *a = &full->layers[i], *b = &narrow->layers[i];
        same = a->kind == b->kind && full->acts[a->out].h == narrow->acts[b->out].h &&
               (full->acts[a->out].c == narrow->acts[b->out].c * 16 || full->acts[a->out].c == 10);
        if (same && a->kind == FN_L_CONV) {
            same = a->conv.kh == b->conv.kh && a->conv.stride == b->conv.stride &&
                   a->conv.pad == b->conv.pad;
            convs++;
            shortcuts += a->conv.kh == 1 && a->conv.stride == 2;
        }
    }
    CHECK(same, "narrow ResNet-18: the same layers with channels / 16");
    CHECK(convs == 20 && shortcuts == 3, "20 convolutions, 3 stride-2 1x1 shortcuts (%d, %d)",
          convs, shortcuts);
    for (int i = 0; same && i < full->n_params; i++)
        CHECK(strcmp(full->params[i].name, narrow->params[i].name) == 0, "tensor %d's name", i);
    CHECK(fn_model_create_narrow(NULL, &cfg, 2, 1, 3, &bad) == FN_ERR_ARG && !bad, "div 3");
    CHECK_OK(fn_model_config_default(&cfg, "mobilenetv2", 10, 3, 8, 8));
    CHECK(fn_model_create_narrow(NULL, &cfg, 2, 1, 2, &bad) == FN_ERR_ARG && !bad,
          "only ResNets narrow");
    fn_model_free(full);
    fn_model_free(narrow);
}

static int wanted(const char *arch)
{
    const char *e = getenv("FOCUSNET_STEP_MODELS");
    if (!e || !*e) return 1;
    size_t n = strlen(arch);
    for (const char *p = e; (p = strstr(p, arch)); p += n)
        if ((p == e || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    results res = {0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--save") == 0) {
            res.save = fopen(argv[i + 1], "w");
            CHECK(res.save != NULL, "%s: cannot write", argv[i + 1]);
        } else if (strcmp(argv[i], "--compare") == 0) {
            read_floats(argv[i + 1], &res);
        }
    }
    fn_device *dev = test_device();
    launch_log lg = {.gpu = !dev->long_runs};
    dev->launch_hook = on_launch;
    dev->launch_hook_ctx = &lg;
    printf("device %s: %s path\n", fn_device_get_info(dev)->name, lg.gpu ? "GPU" : "CPU");

    /* Small sizes for the simulator. Batch 2 for MobileNetV2: at batch 1 its
     * last batch norm sees one value per channel (1x1 features), x - mean is
     * rounding noise times 1/sqrt(eps) ~ 316, and the ReLU6 after it passes
     * or stops the gradient by the sign of that noise (PyTorch refuses
     * training batch norm with one value per channel): POCL and oclgrind
     * differed there, in features.18.1.bias's gradient, and nowhere else. */
    if (wanted("lenet5")) model_step(dev, &res, "lenet5", 1, 16, 2, 0, 1);
    if (wanted("mobilenetv2")) model_step(dev, &res, "mobilenetv2", 3, 8, 2, 0.25f, 1);
    /* ResNet-18 with its channels / 16 (4 to 32): the stem, residual blocks,
     * stride-2 1x1 projection shortcuts, batch norm and global pooling as in
     * the real one, at a size oclgrind steps in minutes; 8x8 takes every
     * stage down to 1x1, batch 2 keeps two values per channel there (see
     * above). resnet18-full: the real widths (11.2M parameters), for POCL and
     * OCLGRIND_FULL=1 only. */
    if (wanted("resnet18")) {
        narrow_is_resnet18();
        model_step(dev, &res, "resnet18", 3, 8, 2, 0, 16);
    }
    if (wanted("resnet18-full")) model_step(dev, &res, "resnet18", 3, 4, 1, 0, 1);

    CHECK(lg.launches > 0, "the launch hook saw launches");
    CHECK(lg.bad == 0, "%d GPU-path launches of more than 32 work-items in groups under 32",
          lg.bad);
    if (res.ref)
        CHECK(res.at == res.n_ref, "compared %zu of the %zu saved values", res.at, res.n_ref);
    if (res.save) fclose(res.save);
    free(res.ref);
    fn_device_free(dev);
    return check_summary("test_gpu_step");
}
