/* End to end against PyTorch, as llm.c's test_gpt2.c does: LeNet-5 loaded with
 * the parameters of tests/fixtures/lenet_step.bin (written by
 * make_lenet_fixture.py) takes the same SGD steps as torch did, with CE and
 * with the focus loss, on the default OpenCL device; step 0's logits, loss
 * and every parameter gradient and the parameters after the last step must
 * match. The file layout is described in the script's docstring. */
#include "check.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/sgd.h"

#define FIXTURE_MAGIC 20250611
#define FIXTURE_VERSION 1
#define MAX_TENSORS 16
#define MAX_LOSSES 2

/* Tolerances, |ours - torch| <= ATOL * max|torch tensor| + RTOL * |torch|: the
 * absolute part scales with each tensor, since a gradient's small entries are
 * sums of cancelling terms whose rounding follows the large ones. On POCL the
 * worst differences are 1e-6 of the tensor's largest entry (2e-6 for the
 * parameter changes, 6e-8 for the loss); these allow ~20x that for devices
 * that sum in other orders. Real bugs are far larger (tried by hand): dropping
 * weight decay moves the parameter changes by 3e-4 to 1e-3 of their maximum,
 * detaching d in the focus loss moves its gradients by ~10%, restarting the
 * momentum every step moves the changes by ~60%. */
#define LOGITS_ATOL 2e-5f
#define LOSS_TOL 2e-6
#define GRAD_ATOL 2e-5f
/* Final parameters are compared as their change from the initial ones, which
 * is far more sensitive than the parameters themselves. */
#define DELTA_ATOL 5e-5f
#define RTOL 1e-4f

typedef struct {
    char name[64];
    int ndim, shape[4];
    size_t numel;
} record;

typedef struct {
    float *logits; /* (N, K) */
    float loss;    /* mean over the batch */
    float *grads;  /* every tensor, in record order */
    float *final;  /* every tensor after `steps` steps */
} expected;

typedef struct {
    int n, c, h, w, k, steps, n_tensors, n_losses;
    float lr, momentum, weight_decay, alpha, beta;
    record rec[MAX_TENSORS];
    char loss_names[MAX_LOSSES][16];
    size_t total; /* parameters in all tensors */
    float *init, *x, *zb;
    int32_t *y;
    expected exp[MAX_LOSSES];
} fixture;

static int read_all(FILE *f, void *p, size_t bytes)
{
    return fread(p, 1, bytes, f) == bytes;
}

static float *read_floats(FILE *f, size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (p && !read_all(f, p, n * sizeof *p)) {
        free(p);
        return NULL;
    }
    return p;
}

static void fixture_free(fixture *fx)
{
    free(fx->init);
    free(fx->x);
    free(fx->zb);
    free(fx->y);
    for (int i = 0; i < MAX_LOSSES; i++) {
        free(fx->exp[i].logits);
        free(fx->exp[i].grads);
        free(fx->exp[i].final);
    }
}

/* Returns 1 when the whole file was read and is well formed. */
static int fixture_load(const char *path, fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL,
          "cannot open the PyTorch fixture %s (regenerate it with "
          "tests/fixtures/make_lenet_fixture.py)",
          path);
    if (!f) return 0;
    int32_t hdr[64];
    int ok = read_all(f, hdr, sizeof hdr);
    CHECK(ok && hdr[0] == FIXTURE_MAGIC, "%s: bad magic number %d", path, ok ? hdr[0] : -1);
    CHECK(ok && hdr[1] == FIXTURE_VERSION, "%s: version %d, this test reads %d", path,
          ok ? hdr[1] : -1, FIXTURE_VERSION);
    if (!ok || hdr[0] != FIXTURE_MAGIC || hdr[1] != FIXTURE_VERSION) {
        fclose(f);
        return 0;
    }
    fx->n = hdr[2], fx->c = hdr[3], fx->h = hdr[4], fx->w = hdr[5], fx->k = hdr[6];
    fx->steps = hdr[7], fx->n_tensors = hdr[8], fx->n_losses = hdr[9];
    float hf[5];
    memcpy(hf, &hdr[16], sizeof hf);
    fx->lr = hf[0], fx->momentum = hf[1], fx->weight_decay = hf[2], fx->alpha = hf[3],
    fx->beta = hf[4];
    ok = fx->n >= 1 && fx->n <= 64 && fx->c >= 1 && fx->h >= 1 && fx->w >= 1 && fx->k >= 1 &&
         fx->steps >= 1 && fx->n_tensors >= 1 && fx->n_tensors <= MAX_TENSORS &&
         fx->n_losses == MAX_LOSSES;
    CHECK(ok, "%s: implausible sizes in the header", path);
    for (int t = 0; ok && t < fx->n_tensors; t++) {
        record *r = &fx->rec[t];
        int32_t dims[5];
        ok = read_all(f, r->name, sizeof r->name) && read_all(f, dims, sizeof dims);
        r->name[sizeof r->name - 1] = 0;
        r->ndim = dims[0];
        r->numel = 1;
        for (int d = 0; d < 4; d++) {
            r->shape[d] = dims[1 + d];
            ok = ok && r->shape[d] >= 1;
            if (ok) r->numel *= (size_t)r->shape[d];
        }
        fx->total += r->numel;
    }
    for (int l = 0; ok && l < fx->n_losses; l++) {
        ok = read_all(f, fx->loss_names[l], 16);
        fx->loss_names[l][15] = 0;
    }
    size_t nk = (size_t)fx->n * fx->k, in_n = (size_t)fx->n * fx->c * fx->h * fx->w;
    ok = ok && (fx->init = read_floats(f, fx->total)) && (fx->x = read_floats(f, in_n)) &&
         (fx->y = malloc((size_t)fx->n * sizeof *fx->y)) &&
         read_all(f, fx->y, (size_t)fx->n * sizeof *fx->y) && (fx->zb = read_floats(f, nk));
    for (int l = 0; ok && l < fx->n_losses; l++) {
        expected *e = &fx->exp[l];
        ok = (e->logits = read_floats(f, nk)) && read_all(f, &e->loss, sizeof e->loss) &&
             (e->grads = read_floats(f, fx->total)) && (e->final = read_floats(f, fx->total));
    }
    CHECK(ok, "%s: the file is truncated", path);
    CHECK(!ok || fgetc(f) == EOF, "%s: bytes left after the last section", path);
    fclose(f);
    return ok;
}

/* Per-tensor comparison with the tensor-scaled absolute tolerance; prints the
 * largest differences either way, as llm.c does. */
static void compare(const char *what, const float *got, const float *want, size_t n, float atol,
                    float rtol)
{
    double max_ref = 0, max_diff = 0, max_rel = 0;
    for (size_t i = 0; i < n; i++)
        max_ref = fmax(max_ref, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double diff = fabs((double)got[i] - want[i]);
        max_diff = fmax(max_diff, diff);
        max_rel = fmax(max_rel, diff / (max_ref + 1e-30));
    }
    printf("  %-24s max |torch| %.3e  max |diff| %.3e  (%.2e of max)\n", what, max_ref, max_diff,
           max_rel);
    check_close(what, got, want, n, atol * (float)max_ref, rtol);
}

static int load_params(fn_model *m, const fixture *fx)
{
    int trainable = 0, ok = 1;
    for (int i = 0; i < m->n_params; i++)
        trainable += m->params[i].trainable;
    CHECK(trainable == fx->n_tensors, "the model has %d parameter tensors, the fixture %d",
          trainable, fx->n_tensors);
    size_t off = 0;
    for (int t = 0; t < fx->n_tensors; t++) {
        const record *r = &fx->rec[t];
        int pi = fn_model_find_param(m, r->name);
        CHECK(pi >= 0, "the model has no parameter %s", r->name);
        if (pi < 0) return 0;
        fn_param *p = &m->params[pi];
        int same = p->ndim == r->ndim && p->numel == r->numel;
        for (int d = 0; same && d < p->ndim; d++)
            same = p->shape[d] == r->shape[d];
        CHECK(same, "%s: shapes differ between the model and the fixture", r->name);
        if (!same) return 0;
        CHECK_OK(fn_buffer_write(m->dev, p->data, 0, p->numel * sizeof(float), fx->init + off));
        off += r->numel;
    }
    return ok && trainable == fx->n_tensors;
}

/* The steps of one loss; compares as it goes. */
static void run_loss(fn_device *dev, const fixture *fx, int li)
{
    const char *lname = fx->loss_names[li];
    const expected *e = &fx->exp[li];
    fn_loss_kind kind;
    CHECK_OK(fn_loss_kind_parse(lname, &kind));
    fn_loss_opts lo;
    fn_loss_opts_default(&lo, kind);
    /* The fixture computes the paper's defaults; hold ours to them. */
    CHECK(lo.alpha == fx->alpha && lo.beta == fx->beta && lo.detach_d == 0 &&
              lo.rule == FN_MULTIWARM_LOGIT && lo.cls_smoothing == 0.0f,
          "focus defaults differ from the fixture's (alpha %g beta %g)", fx->alpha, fx->beta);
    fn_sgd_opts so;
    fn_sgd_opts_default(&so);
    CHECK(so.lr == fx->lr && so.momentum == fx->momentum && so.weight_decay == fx->weight_decay &&
              so.dampening == 0.0f && !so.nesterov,
          "SGD defaults differ from the fixture's (lr %g momentum %g weight decay %g)", fx->lr,
          fx->momentum, fx->weight_decay);

    fn_model_config cfg;
    fn_model *m = NULL;
    CHECK_OK(fn_model_config_default(&cfg, "lenet5", fx->k, fx->c, fx->h, fx->w));
    CHECK_OK(fn_model_create(dev, &cfg, fx->n, 1, &m));
    if (!m || !load_params(m, fx)) {
        fn_model_free(m);
        return;
    }
    int n = fx->n, k = fx->k;
    size_t nk = (size_t)n * k, in_n = (size_t)n * fx->c * fx->h * fx->w;
    cl_mem zb = dev_upload(dev, fx->zb, nk), loss = dev_upload(dev, NULL, (size_t)n), labels = NULL;
    CHECK_OK(fn_buffer_new(dev, (size_t)n * sizeof(int32_t), &labels));
    CHECK_OK(fn_buffer_write(dev, labels, 0, (size_t)n * sizeof(int32_t), fx->y));
    CHECK_OK(fn_buffer_write(dev, m->acts[m->input].data, 0, in_n * sizeof(float), fx->x));
    float *host = malloc(fx->total * sizeof *host), z[1024], lv[64];
    char what[128];
    /* The optimizer over every trainable tensor, in parameter order. */
    cl_mem *pd = calloc((size_t)m->n_params, sizeof *pd),
           *pg = calloc((size_t)m->n_params, sizeof *pg);
    size_t *numel = calloc((size_t)m->n_params, sizeof *numel);
    int n_train = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].trainable) {
            pd[n_train] = m->params[i].data;
            pg[n_train] = m->params[i].grad;
            numel[n_train++] = m->params[i].numel;
        }
    fn_sgd *opt = NULL;
    CHECK_OK(fn_sgd_create(dev, &so, n_train, numel, &opt));
    printf("%s:\n", lname);
    for (int step = 0; step < fx->steps; step++) {
        CHECK_OK(fn_model_forward(m, n, 1));
        CHECK_OK(fn_loss_compute(dev, &lo, loss, m->acts[m->logits].grad, NULL,
                                 m->acts[m->logits].data, labels, kind == FN_LOSS_FOCUS ? zb : NULL,
                                 n, k));
        CHECK_OK(fn_model_zero_grad(m));
        CHECK_OK(fn_model_backward(m, n));
        if (step == 0) {
            dev_download(dev, m->acts[m->logits].data, z, nk);
            snprintf(what, sizeof what, "%s logits", lname);
            compare(what, z, e->logits, nk, LOGITS_ATOL, RTOL);
            dev_download(dev, loss, lv, (size_t)n);
            double mean = 0;
            for (int i = 0; i < n; i++)
                mean += lv[i] / (double)n;
            printf("  %-24s torch %.7f  ours %.7f  |diff| %.2e\n", "loss", e->loss, mean,
                   fabs(mean - e->loss));
            CHECK(fabs(mean - e->loss) <= LOSS_TOL * fmax(1.0, fabs(e->loss)),
                  "%s loss: %.7f, torch %.7f", lname, mean, e->loss);
            size_t off = 0;
            for (int t = 0; t < fx->n_tensors; t++) {
                fn_param *p = &m->params[fn_model_find_param(m, fx->rec[t].name)];
                dev_download(dev, p->grad, host, p->numel);
                snprintf(what, sizeof what, "%s grad", fx->rec[t].name);
                compare(what, host, e->grads + off, p->numel, GRAD_ATOL, RTOL);
                off += p->numel;
            }
        }
        if (opt) CHECK_OK(fn_sgd_update(opt, pd, pg));
    }
    fn_sgd_free(opt);
    free(pd);
    free(pg);
    free(numel);
    size_t off = 0;
    for (int t = 0; t < fx->n_tensors; t++) {
        fn_param *p = &m->params[fn_model_find_param(m, fx->rec[t].name)];
        dev_download(dev, p->data, host, p->numel);
        float *want = malloc(p->numel * sizeof *want);
        for (size_t i = 0; i < p->numel; i++) {
            host[i] -= fx->init[off + i];
            want[i] = e->final[off + i] - fx->init[off + i];
        }
        snprintf(what, sizeof what, "%s change", fx->rec[t].name);
        compare(what, host, want, p->numel, DELTA_ATOL, RTOL);
        free(want);
        off += p->numel;
    }
    free(host);
    fn_buffer_free(zb);
    fn_buffer_free(loss);
    fn_buffer_free(labels);
    fn_model_free(m);
}

int main(void)
{
    const char *src = getenv("FOCUSNET_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/lenet_step.bin", src ? src : ".");
    fixture fx;
    if (fixture_load(path, &fx)) {
        CHECK(fx.n * fx.k <= 1024 && fx.n <= 64, "batch too large for this test");
        if (fx.n * fx.k <= 1024 && fx.n <= 64) {
            fn_device *dev = test_device();
            for (int l = 0; l < fx.n_losses; l++)
                run_loss(dev, &fx, l);
            fn_device_free(dev);
        }
    }
    fixture_free(&fx);
    return check_summary("test_torch");
}
