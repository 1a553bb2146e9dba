/* focusnet bench: how fast the building blocks run on a device.
 *
 * `bench train` times whole training steps and evaluation forwards of a
 * model (images/s), optionally with the device time of every kernel
 * (--profile, lib/core/profile.c); bench/torch_ratio.py compares it with
 * PyTorch. `bench layers` times every distinct layer of a model (ResNet-18
 * on 32x32 images by default) forward and backward, calling lib/ops
 * directly; that is why this file reaches below the public header.
 *
 * Timing. Ops enqueue their kernels internally (CLBlast adds helper kernels of
 * its own), so there is no per-kernel event to collect. Each call is timed by
 * the host clock between two clFinish: that counts every kernel the op
 * enqueued, plus the launch overhead that training pays too. The queue has
 * profiling on, and markers enqueued before and after the op give the span on
 * the device's clock ("dev" columns); some drivers time markers badly, so a
 * span that is zero or longer than the host saw is shown as "-". The gap
 * between the two is host-side overhead. Every number is the median of
 * --repeat runs after --warmup unrecorded ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/sgd.h"
#include "train/train.h"

/* One distinct layer: its first occurrence in the model and how often it recurs. */
typedef struct {
    const fn_layer *l;
    char name[96], shape[64];
    int uses;
    int first;     /* reads the model's input, so backward skips dx (as training does) */
    double flops;  /* forward, whole batch; 0 for layers without multiply-adds */
    double ms[2];  /* forward, backward: host clock */
    double dev[2]; /* the same on the device clock, or -1 */
} row;

/* Work buffers sized for the largest layer; every layer reads and writes these. */
typedef struct {
    cl_mem x, y, dx, dy, argmax; /* activations (argmax: int32 of the same count) */
    cl_mem w, dw;                /* weights, also batch norm's gamma and dgamma */
    cl_mem bias, dbias, rmean, rvar, mean, invstd; /* per channel */
} bufs;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int same_layer(const fn_model *m, const row *r, const fn_layer *l, int first)
{
    const fn_layer *a = r->l;
    const fn_act *ai = &m->acts[a->in], *li = &m->acts[l->in];
    const fn_act *ao = &m->acts[a->out], *lo = &m->acts[l->out];
    return a->kind == l->kind && r->first == first && ai->c == li->c && ai->h == li->h &&
           ai->w == li->w && ao->c == lo->c && ao->h == lo->h && ao->w == lo->w &&
           memcmp(&a->conv, &l->conv, sizeof a->conv) == 0 &&
           memcmp(&a->pool, &l->pool, sizeof a->pool) == 0 && (a->b < 0) == (l->b < 0);
}

static void describe(const fn_model *m, row *r, int n)
{
    static const char *const kinds[] = {"conv",    "bn",  "relu",   "relu6",
                                        "maxpool", "gap", "linear", "add"};
    const fn_layer *l = r->l;
    const fn_act *i = &m->acts[l->in], *o = &m->acts[l->out];
    snprintf(r->name, sizeof r->name, "%s", kinds[l->kind]);
    if (l->w >= 0) { /* conv, bn, linear: the torchvision name, without ".weight" */
        snprintf(r->name, sizeof r->name, "%s", m->params[l->w].name);
        char *dot = strrchr(r->name, '.');
        if (dot) *dot = 0;
    }
    const fn_conv_shape *c = &l->conv;
    switch (l->kind) {
    case FN_L_CONV:
        snprintf(r->shape, sizeof r->shape, "%d->%d %dx%d s%d%s @%dx%d", c->c, c->oc, c->kh, c->kw,
                 c->stride,
                 c->groups == 1      ? ""
                 : c->groups == c->c ? " dw"
                                     : " grp",
                 c->h, c->w);
        r->flops = 2.0 * n * o->c * o->h * o->w * (double)(c->c / c->groups) * c->kh * c->kw;
        break;
    case FN_L_LINEAR:
        snprintf(r->shape, sizeof r->shape, "%d->%d", i->c * i->h * i->w, o->c);
        r->flops = 2.0 * n * (double)i->c * i->h * i->w * o->c;
        break;
    case FN_L_MAXPOOL:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d %dx%d s%d", i->c, i->h, i->w, l->pool.k,
                 l->pool.k, l->pool.stride);
        break;
    case FN_L_GAP:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d->%d", i->c, i->h, i->w, o->c);
        break;
    default:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d", o->c, o->h, o->w);
    }
}

/* Enqueues one layer's forward or backward with the same calls fn_model_forward
 * (training) and fn_model_backward make. */
static fn_status run_layer(fn_device *dev, const fn_model *m, const row *r, const bufs *b, int n,
                           int backward)
{
    const fn_layer *l = r->l;
    const fn_act *in = &m->acts[l->in], *out = &m->acts[l->out];
    int numel = n * out->c * out->h * out->w, hw = out->h * out->w;
    cl_mem dx = r->first ? NULL : b->dx;
    cl_mem bias = l->b >= 0 ? b->bias : NULL, dbias = l->b >= 0 ? b->dbias : NULL;
    switch (l->kind) {
    case FN_L_CONV: {
        fn_conv_shape s = l->conv;
        s.n = n;
        return backward ? fn_conv_backward(dev, dx, b->dw, dbias, b->dy, b->x, b->w, &s)
                        : fn_conv_forward(dev, b->y, b->x, b->w, bias, &s);
    }
    case FN_L_BN:
        return backward
                   ? fn_batchnorm_backward(dev, dx, b->dw, b->dbias, b->dy, b->x, b->mean,
                                           b->invstd, b->w, n, out->c, hw)
                   : fn_batchnorm_forward_train(dev, b->y, b->mean, b->invstd, b->x, b->w, b->bias,
                                                b->rmean, b->rvar, n, out->c, hw, 0.1f, 1e-5f);
    case FN_L_RELU:
        if (!backward) return fn_relu_forward(dev, b->y, b->x, numel);
        return dx ? fn_relu_backward(dev, dx, b->dy, b->y, numel) : FN_OK;
    case FN_L_RELU6:
        if (!backward) return fn_relu6_forward(dev, b->y, b->x, numel);
        return dx ? fn_relu6_backward(dev, dx, b->dy, b->y, numel) : FN_OK;
    case FN_L_MAXPOOL: {
        fn_pool_shape s = l->pool;
        s.n = n;
        if (!backward) return fn_maxpool_forward(dev, b->y, b->argmax, b->x, &s);
        return dx ? fn_maxpool_backward(dev, dx, b->dy, b->argmax, &s) : FN_OK;
    }
    case FN_L_GAP:
        if (!backward) return fn_gap_forward(dev, b->y, b->x, n, in->c, in->h * in->w);
        return dx ? fn_gap_backward(dev, dx, b->dy, n, in->c, in->h * in->w) : FN_OK;
    case FN_L_LINEAR: {
        int k = in->c * in->h * in->w;
        return backward ? fn_linear_backward(dev, dx, b->dw, dbias, b->dy, b->x, b->w, n, k, out->c)
                        : fn_linear_forward(dev, b->y, b->x, b->w, bias, n, k, out->c);
    }
    case FN_L_ADD:
        if (!backward) return fn_add(dev, b->y, b->x, b->dy, numel);
        /* A residual's gradient: copied to one input, added to the shared shortcut. */
        FN_TRY(fn_buffer_copy(dev, b->dx, 0, b->dy, 0, (size_t)numel * sizeof(float)));
        return fn_axpy(dev, numel, 1.0f, b->dy, b->y);
    }
    return FN_OK;
}

/* Device-clock span between two marker events, or -1 when the driver gave none. */
static double marker_span_ms(cl_event a, cl_event b)
{
    cl_ulong t0 = 0, t1 = 0;
    if (!a || !b ||
        clGetEventProfilingInfo(a, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(b, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS ||
        t0 == 0 || t1 <= t0)
        return -1;
    return (double)(t1 - t0) * 1e-6;
}

static fn_status time_once(fn_device *dev, const fn_model *m, const row *r, const bufs *b, int n,
                           int backward, double *ms, double *dev_ms)
{
    cl_event ev[2] = {NULL, NULL};
    FN_TRY(fn_finish(dev));
    double t0 = now_ms();
    if (clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &ev[0]) != CL_SUCCESS) ev[0] = NULL;
    fn_status st = run_layer(dev, m, r, b, n, backward);
    if (clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &ev[1]) != CL_SUCCESS) ev[1] = NULL;
    if (st == FN_OK) st = fn_finish(dev);
    *ms = now_ms() - t0;
    *dev_ms = st == FN_OK ? marker_span_ms(ev[0], ev[1]) : -1;
    if (*dev_ms > *ms) *dev_ms = -1; /* the markers ran inside the host's window */
    for (int i = 0; i < 2; i++)
        if (ev[i]) clReleaseEvent(ev[i]);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median, or -1 if any sample is missing (-1). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    if (v[0] < 0) return -1;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static fn_status bench_row(fn_device *dev, const fn_model *m, row *r, const bufs *b, int n,
                           int warmup, int repeat, double *samples)
{
    double *host[2] = {samples, samples + repeat},
           *devs[2] = {samples + 2 * repeat, samples + 3 * repeat};
    for (int it = 0; it < warmup + repeat; it++)
        for (int p = 0; p < 2; p++) { /* backward right after its forward: BN, pooling need it */
            double ms, dms;
            FN_TRY(time_once(dev, m, r, b, n, p, &ms, &dms));
            if (it >= warmup) {
                host[p][it - warmup] = ms;
                devs[p][it - warmup] = dms;
            }
        }
    for (int p = 0; p < 2; p++) {
        r->ms[p] = median(host[p], repeat);
        r->dev[p] = median(devs[p], repeat);
    }
    return FN_OK;
}

static fn_status alloc_bufs(fn_device *dev, const fn_model *m, int n, bufs *b)
{
    size_t act = 0, par = 0, ch = 0;
    for (int i = 0; i < m->n_acts; i++) {
        const fn_act *a = &m->acts[i];
        size_t e = (size_t)n * a->c * a->h * a->w;
        act = e > act ? e : act;
        ch = (size_t)a->c > ch ? (size_t)a->c : ch;
    }
    for (int i = 0; i < m->n_params; i++)
        par = m->params[i].numel > par ? m->params[i].numel : par;
    struct {
        cl_mem *mem;
        size_t n;
    } all[] = {{&b->x, act},   {&b->y, act},   {&b->dx, act},   {&b->dy, act},   {&b->argmax, act},
               {&b->w, par},   {&b->dw, par},  {&b->bias, ch},  {&b->dbias, ch}, {&b->rmean, ch},
               {&b->rvar, ch}, {&b->mean, ch}, {&b->invstd, ch}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        FN_TRY(fn_buffer_new(dev, all[i].n * sizeof(float), all[i].mem));
        FN_TRY(fn_buffer_fill(dev, *all[i].mem, 0, all[i].n * sizeof(float), 0.0f));
    }
    FN_TRY(fn_buffer_fill(dev, b->rvar, 0, ch * sizeof(float), 1.0f));
    /* Random inputs, weights and incoming gradients: no zeros for ReLU, no ties for max pooling. */
    size_t most = act > par ? act : par;
    float *h = malloc(most * sizeof *h);
    if (!h) return fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_rng rng;
    fn_rng_seed(&rng, 1);
    for (size_t i = 0; i < most; i++)
        h[i] = fn_rng_normal(&rng);
    fn_status st = fn_buffer_write(dev, b->x, 0, act * sizeof(float), h);
    if (st == FN_OK) st = fn_buffer_write(dev, b->dy, 0, act * sizeof(float), h);
    if (st == FN_OK) st = fn_buffer_write(dev, b->w, 0, par * sizeof(float), h);
    free(h);
    return st;
}

static void free_bufs(bufs *b)
{
    cl_mem all[] = {b->x,    b->y,     b->dx,    b->dy,   b->argmax, b->w,     b->dw,
                    b->bias, b->dbias, b->rmean, b->rvar, b->mean,   b->invstd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        fn_buffer_free(all[i]);
}

/* One right-aligned number, or "-" for a missing one (< 0). */
static void cell(double v, int width, int decimals)
{
    if (v < 0)
        printf(" %*s", width, "-");
    else
        printf(" %*.*f", width, decimals, v);
}

enum { TY_CONV_FWD, TY_CONV_BWD, TY_BN, TY_RELU, TY_POOL, TY_LINEAR, TY_ADD, N_TYPES };

static void report(const fn_model *m, const row *rows, int n_rows, const fn_device_info *info,
                   int n, int warmup, int repeat)
{
    const fn_model_config *c = &m->cfg;
    printf("focusnet bench layers: %s, batch %d, input %dx%dx%d, %d classes, on %s (%s)\n", c->arch,
           n, c->channels, c->height, c->width_px, c->classes, info->name, info->platform_name);
    printf("timed with the host clock between clFinish calls (every kernel an op enqueues, "
           "CLBlast's too, plus launch overhead);\n"
           "dev = the same span between OpenCL profiling markers around the op (\"-\": none "
           "usable); median of %d runs after %d warm-up\n"
           "GFLOP/s: conv and linear only; backward counts 2 x forward (dx and dw), 1 x for the "
           "first layer (no dx); uses = times the shape occurs in the model\n\n",
           repeat, warmup);
    printf("%-22s %-25s %4s %9s %9s %9s %9s %8s %8s\n", "layer", "shape", "uses", "fwd ms",
           "bwd ms", "fwd dev", "bwd dev", "fwd GF/s", "bwd GF/s");
    double tot[2] = {0, 0}, tot_dev[2] = {0, 0}, flops[2] = {0, 0}, by_type[N_TYPES] = {0};
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        double bflops = r->flops * (r->first ? 1 : 2);
        printf("%-22s %-25s %4d", r->name, r->shape, r->uses);
        for (int p = 0; p < 2; p++)
            cell(r->ms[p], 9, 3);
        for (int p = 0; p < 2; p++)
            cell(r->dev[p], 9, 3);
        cell(r->flops > 0 ? r->flops / r->ms[0] * 1e-6 : -1, 8, 1);
        cell(r->flops > 0 ? bflops / r->ms[1] * 1e-6 : -1, 8, 1);
        printf("\n");
        for (int p = 0; p < 2; p++) {
            tot[p] += r->uses * r->ms[p];
            tot_dev[p] = tot_dev[p] < 0 || r->dev[p] < 0 ? -1 : tot_dev[p] + r->uses * r->dev[p];
        }
        flops[0] += r->uses * r->flops;
        flops[1] += r->uses * bflops;
        switch (r->l->kind) {
        case FN_L_CONV:
            by_type[TY_CONV_FWD] += r->uses * r->ms[0];
            by_type[TY_CONV_BWD] += r->uses * r->ms[1];
            break;
        case FN_L_BN:
            by_type[TY_BN] += r->uses * (r->ms[0] + r->ms[1]);
            break;
        case FN_L_RELU:
        case FN_L_RELU6:
            by_type[TY_RELU] += r->uses * (r->ms[0] + r->ms[1]);
            break;
        case FN_L_MAXPOOL:
        case FN_L_GAP:
            by_type[TY_POOL] += r->uses * (r->ms[0] + r->ms[1]);
            break;
        case FN_L_LINEAR:
            by_type[TY_LINEAR] += r->uses * (r->ms[0] + r->ms[1]);
            break;
        case FN_L_ADD:
            by_type[TY_ADD] += r->uses * (r->ms[0] + r->ms[1]);
            break;
        }
    }
    printf("%-22s %-25s %4d", "total (x uses)", "one training step", m->n_layers);
    for (int p = 0; p < 2; p++)
        cell(tot[p], 9, 3);
    for (int p = 0; p < 2; p++)
        cell(tot_dev[p], 9, 3);
    cell(flops[0] / tot[0] * 1e-6, 8, 1);
    cell(flops[1] / tot[1] * 1e-6, 8, 1);
    printf("\n\ntime by layer type (fwd + bwd, x uses, host clock):\n");
    static const char *const names[N_TYPES] = {"conv fwd", "conv bwd", "bn", "relu",
                                               "pool",     "linear",   "add"};
    double all = tot[0] + tot[1];
    for (int t = 0; t < N_TYPES; t++)
        printf("  %-10s %9.3f ms %6.1f%%\n", names[t], by_type[t],
               all > 0 ? 100.0 * by_type[t] / all : 0.0);
}

static int bench_layers(int argc, char **argv)
{
    const char *cmd = "bench layers";
    cli_opt opts[] = {
        {"batch", "N", "images per batch (default 64)", NULL},
        {"device", "D", "OpenCL device: index or name (see 'focusnet devices')", NULL},
        {"repeat", "N", "timed runs per layer; the median is shown (default 5)", NULL},
        {"warmup", "N", "untimed runs first (default 2)", NULL},
        {"model", "NAME", "architecture, on 3x32x32 input and 10 classes (default resnet18)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int n_pos, rc = cli_parse(cmd, "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long batch = 64, repeat = 5, warmup = 2;
    if ((rc = cli_int(cmd, opts, "batch", 1, 4096, &batch)) ||
        (rc = cli_int(cmd, opts, "repeat", 1, 1000, &repeat)) ||
        (rc = cli_int(cmd, opts, "warmup", 0, 1000, &warmup)))
        return rc;
    const char *arch = cli_get(opts, "model") ? cli_get(opts, "model") : "resnet18";
    fn_model_config cfg;
    if (fn_model_config_default(&cfg, arch, 10, 3, 32, 32) != FN_OK) {
        fprintf(stderr, "focusnet %s: %s\n", cmd, fn_last_error());
        return EXIT_USAGE;
    }

    fn_model *m = NULL; /* shapes only: the layers to time, not their buffers */
    fn_device *dev = NULL;
    bufs b = {0};
    row *rows = NULL;
    double *samples = NULL;
    int n_rows = 0, n = (int)batch;
    fn_status st = fn_model_create(NULL, &cfg, n, 1, &m);
    if (st == FN_OK) st = fn_device_open_ex(cli_get(opts, "device"), 1, &dev);
    if (st == FN_OK) st = alloc_bufs(dev, m, n, &b);
    rows = st == FN_OK ? calloc((size_t)m->n_layers, sizeof *rows) : NULL;
    samples = rows ? malloc(4 * (size_t)repeat * sizeof *samples) : NULL;
    if (st == FN_OK && !samples) st = fn_error(FN_ERR_NOMEM, "out of host memory");
    for (int i = 0; st == FN_OK && i < m->n_layers; i++) {
        const fn_layer *l = &m->layers[i];
        int first = l->in == m->input, k = 0;
        while (k < n_rows && !same_layer(m, &rows[k], l, first))
            k++;
        if (k == n_rows) {
            rows[n_rows++] = (row){.l = l, .first = first};
            describe(m, &rows[k], n);
        }
        rows[k].uses++;
    }
    for (int i = 0; st == FN_OK && i < n_rows; i++)
        st = bench_row(dev, m, &rows[i], &b, n, (int)warmup, (int)repeat, samples);
    if (st == FN_OK) report(m, rows, n_rows, fn_device_get_info(dev), n, (int)warmup, (int)repeat);
    free(samples);
    free(rows);
    free_bufs(&b);
    fn_device_free(dev);
    fn_model_free(m);
    return st == FN_OK ? 0 : cli_fail(cmd);
}

/* ---- bench train: whole training steps and evaluation forwards ---------------
 * One training step is what the trainer's step does (lib/train/train.c): upload
 * the batch and labels, forward with batch statistics, cross-entropy and its
 * gradient, the running loss and accuracy, zero the gradients, backward, one
 * SGD update of every trainable tensor. Inference is the evaluation-mode
 * forward of a model built for evaluation only (shared activation memory)
 * with the logits read back, as the evaluator does. The data are random: the
 * arithmetic does not depend on the values. */
typedef struct {
    fn_device *dev;
    fn_model *train, *eval;
    cl_mem labels, loss, stats;
    float *x;
    int32_t *y;
    float *logits;
    fn_sgd_opts sgd;
    fn_loss_opts lopt;
    int n;
} trainer;

static fn_status train_step(trainer *t)
{
    fn_model *m = t->train;
    int n = t->n, k = m->cfg.classes;
    size_t in_bytes = (size_t)n * m->cfg.channels * m->cfg.height * m->cfg.width_px * sizeof(float);
    FN_TRY(fn_buffer_write(t->dev, m->acts[m->input].data, 0, in_bytes, t->x));
    FN_TRY(fn_buffer_write(t->dev, t->labels, 0, (size_t)n * sizeof(int32_t), t->y));
    FN_TRY(fn_model_forward(m, n, 1));
    cl_mem logits = m->acts[m->logits].data;
    FN_TRY(fn_loss_compute(t->dev, &t->lopt, t->loss, m->acts[m->logits].grad, NULL, logits,
                           t->labels, NULL, n, k));
    FN_TRY(fn_batch_stats(t->dev, t->stats, logits, t->labels, t->loss, n, k));
    FN_TRY(fn_model_zero_grad(m));
    FN_TRY(fn_model_backward(m, n));
    int first = m->sgd_steps == 0;
    for (int i = 0; i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        if (p->trainable)
            FN_TRY(fn_sgd_step(t->dev, &t->sgd, p->data, p->grad, p->mom, (int)p->numel, first));
    }
    m->sgd_steps++;
    return FN_OK;
}

static fn_status infer_step(trainer *t)
{
    fn_model *m = t->eval;
    int n = t->n;
    size_t in_bytes = (size_t)n * m->cfg.channels * m->cfg.height * m->cfg.width_px * sizeof(float);
    FN_TRY(fn_buffer_write(t->dev, m->acts[m->input].data, 0, in_bytes, t->x));
    FN_TRY(fn_model_forward(m, n, 0));
    return fn_buffer_read(t->dev, m->acts[m->logits].data, 0,
                          (size_t)n * m->cfg.classes * sizeof(float), t->logits);
}

/* steps calls of step, timed from the first enqueue to the end of the queue. */
static fn_status time_steps(trainer *t, fn_status (*step)(trainer *), int steps, double *ms)
{
    FN_TRY(fn_finish(t->dev));
    double t0 = now_ms();
    for (int i = 0; i < steps; i++)
        FN_TRY(step(t));
    FN_TRY(fn_finish(t->dev));
    *ms = now_ms() - t0;
    return FN_OK;
}

/* The median images/s of repeat runs of steps steps, after warmup steps. */
static fn_status rate(trainer *t, fn_status (*step)(trainer *), int steps, int warmup, int repeat,
                      double *samples, double *out)
{
    double ms;
    if (warmup) FN_TRY(time_steps(t, step, warmup, &ms));
    for (int r = 0; r < repeat; r++) {
        FN_TRY(time_steps(t, step, steps, &ms));
        samples[r] = ms > 0 ? 1e3 * steps * t->n / ms : 0;
    }
    *out = median(samples, repeat);
    return FN_OK;
}

/* Device time per kernel name over steps more steps, per step. */
static fn_status profile(trainer *t, fn_status (*step)(trainer *), int steps, const char *what)
{
    double ms;
    FN_TRY(fn_profile_start(t->dev));
    fn_status st = time_steps(t, step, steps, &ms);
    fn_status st2 = fn_profile_stop(t->dev);
    FN_TRY(st);
    FN_TRY(st2);
    const fn_profile_entry *e;
    int n = fn_profile_entries(t->dev, &e);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += e[i].ms;
    printf("\n%s profile: device time per step by kernel (%d profiled steps; wall %.2f ms/step, "
           "kernels %.2f ms/step)\n",
           what, steps, ms / steps, sum / steps);
    printf("  %-40s %10s %7s %8s\n", "kernel", "ms/step", "share", "calls");
    for (int i = 0; i < n; i++)
        printf("  %-40s %10.3f %6.1f%% %8.1f\n", e[i].name, e[i].ms / steps,
               sum > 0 ? 100.0 * e[i].ms / sum : 0.0, (double)e[i].calls / steps);
    return FN_OK;
}

static fn_status trainer_open(trainer *t, const char *device, int profiling,
                              const fn_model_config *cfg, int n)
{
    t->n = n;
    FN_TRY(fn_device_open_ex(device, profiling, &t->dev));
    FN_TRY(fn_model_create(t->dev, cfg, n, 1, &t->train));
    FN_TRY(fn_model_init(t->train, 1));
    FN_TRY(fn_model_create(t->dev, cfg, n, 0, &t->eval));
    FN_TRY(fn_model_init(t->eval, 1));
    FN_TRY(fn_buffer_new(t->dev, (size_t)n * sizeof(int32_t), &t->labels));
    FN_TRY(fn_buffer_new(t->dev, (size_t)n * sizeof(float), &t->loss));
    FN_TRY(fn_buffer_new(t->dev, 4 * sizeof(float), &t->stats));
    FN_TRY(fn_buffer_fill(t->dev, t->stats, 0, 4 * sizeof(float), 0.0f));
    size_t per = (size_t)cfg->channels * cfg->height * cfg->width_px;
    t->x = malloc((size_t)n * per * sizeof *t->x);
    t->y = malloc((size_t)n * sizeof *t->y);
    t->logits = malloc((size_t)n * cfg->classes * sizeof *t->logits);
    if (!t->x || !t->y || !t->logits) return fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_rng r;
    fn_rng_seed(&r, 2);
    for (size_t i = 0; i < (size_t)n * per; i++)
        t->x[i] = fn_rng_normal(&r);
    for (int i = 0; i < n; i++)
        t->y[i] = (int32_t)fn_rng_below(&r, (uint32_t)cfg->classes);
    fn_sgd_opts_default(&t->sgd);
    t->sgd.lr = 0.01f; /* small enough that random labels do not blow the weights up */
    fn_loss_opts_default(&t->lopt, FN_LOSS_CE);
    return FN_OK;
}

static void trainer_close(trainer *t)
{
    fn_model_free(t->train);
    fn_model_free(t->eval);
    fn_buffer_free(t->labels);
    fn_buffer_free(t->loss);
    fn_buffer_free(t->stats);
    free(t->x);
    free(t->y);
    free(t->logits);
    fn_device_free(t->dev);
}

static int bench_train(int argc, char **argv)
{
    const char *cmd = "bench train";
    cli_opt opts[] = {
        {"model", "NAME", "lenet5, resnet18, resnet34 or mobilenetv2 (default lenet5)", NULL},
        {"batch", "N", "images per batch (default 128)", NULL},
        {"input", "CxHxW", "image size (default 1x28x28 for lenet5, else 3x32x32)", NULL},
        {"classes", "K", "number of classes (default 10)", NULL},
        {"stem", "small|imagenet", "ResNet/MobileNetV2 stem (default: small up to 64 px)", NULL},
        {"width", "W", "MobileNetV2 width multiplier (default 0.5)", NULL},
        {"steps", "N", "steps per timed run (default 10)", NULL},
        {"warmup", "N", "untimed steps first (default 3)", NULL},
        {"repeat", "N", "timed runs; the median is shown (default 5)", NULL},
        {"device", "D", "OpenCL device: index or name (see 'focusnet devices')", NULL},
        {"profile", NULL, "then time every kernel by OpenCL events over one more run", NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int n_pos, rc = cli_parse(cmd, "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long batch = 128, steps = 10, warmup = 3, repeat = 5, classes = 10;
    double width = 0;
    if ((rc = cli_int(cmd, opts, "batch", 1, 4096, &batch)) ||
        (rc = cli_int(cmd, opts, "steps", 1, 100000, &steps)) ||
        (rc = cli_int(cmd, opts, "warmup", 0, 100000, &warmup)) ||
        (rc = cli_int(cmd, opts, "repeat", 1, 1000, &repeat)) ||
        (rc = cli_int(cmd, opts, "classes", 1, 100000, &classes)) ||
        (rc = cli_float(cmd, opts, "width", 0.1, 4, &width)))
        return rc;
    const char *arch = cli_get(opts, "model") ? cli_get(opts, "model") : "lenet5";
    int lenet = strcmp(arch, "lenet5") == 0;
    int c = lenet ? 1 : 3, h = lenet ? 28 : 32, w = h;
    const char *in = cli_get(opts, "input");
    if (in && (sscanf(in, "%dx%dx%d", &c, &h, &w) != 3 || c < 1 || c > 4 || h < 1 || w < 1 ||
               h > 4096 || w > 4096)) {
        fprintf(stderr, "focusnet %s: option '--input' takes CxHxW like 3x32x32, not '%s'\n", cmd,
                in);
        return EXIT_USAGE;
    }
    fn_model_config cfg;
    if (fn_model_config_default(&cfg, arch, (int)classes, c, h, w) != FN_OK) {
        fprintf(stderr, "focusnet %s: %s\n", cmd, fn_last_error());
        return EXIT_USAGE;
    }
    const char *stem = cli_get(opts, "stem");
    if (stem) {
        if (strcmp(stem, "small") && strcmp(stem, "imagenet")) {
            fprintf(stderr, "focusnet %s: option '--stem' takes small or imagenet, not '%s'\n", cmd,
                    stem);
            return EXIT_USAGE;
        }
        cfg.small_stem = strcmp(stem, "small") == 0;
    }
    if (width > 0) cfg.width = (float)width;
    int prof = cli_get(opts, "profile") != NULL;

    trainer t = {0};
    double *samples = malloc((size_t)repeat * sizeof *samples), train_ips = 0, infer_ips = 0;
    fn_status st = samples ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory");
    if (st == FN_OK) st = trainer_open(&t, cli_get(opts, "device"), prof, &cfg, (int)batch);
    if (st == FN_OK) {
        const fn_device_info *di = fn_device_get_info(t.dev);
        printf("focusnet bench train: %s%s, batch %ld, input %dx%dx%d, %ld classes, on %s (%s)\n",
               arch,
               lenet            ? ""
               : cfg.small_stem ? " (small stem)"
                                : " (imagenet stem)",
               batch, c, h, w, classes, di->name, di->platform_name);
        printf("median of %ld runs of %ld steps after %ld warm-up steps; %.4f GFLOP forward per "
               "image\n",
               repeat, steps, warmup, fn_model_flops(t.train) / 1e9);
        fflush(stdout);
        st = rate(&t, train_step, (int)steps, (int)warmup, (int)repeat, samples, &train_ips);
    }
    if (st == FN_OK)
        st = rate(&t, infer_step, (int)steps, (int)warmup, (int)repeat, samples, &infer_ips);
    if (st == FN_OK) {
        printf("train      %10.1f images/s  %9.2f ms/step\n", train_ips, 1e3 * batch / train_ips);
        printf("inference  %10.1f images/s  %9.2f ms/step\n", infer_ips, 1e3 * batch / infer_ips);
        fflush(stdout);
    }
    if (st == FN_OK && prof) st = profile(&t, train_step, (int)steps, "train");
    if (st == FN_OK && prof) st = profile(&t, infer_step, (int)steps, "inference");
    trainer_close(&t);
    free(samples);
    return st == FN_OK ? 0 : cli_fail(cmd);
}

/* Each mode is its own benchmark with its own options. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} modes[] = {
    {"layers", bench_layers, "time each layer's forward and backward on a device"},
    {"train", bench_train, "training and inference images/s of a whole model"},
};

int cmd_bench(int argc, char **argv)
{
    const size_t n_modes = sizeof modes / sizeof modes[0];
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: focusnet bench MODE [options]   (focusnet bench MODE --help for more)\n\n"
               "modes:\n");
        for (size_t i = 0; i < n_modes; i++)
            printf("  %-10s %s\n", modes[i].name, modes[i].help);
        return 0;
    }
    for (size_t i = 0; argc >= 1 && i < n_modes; i++)
        if (strcmp(argv[0], modes[i].name) == 0) return modes[i].run(argc - 1, argv + 1);
    if (argc < 1)
        fprintf(stderr, "focusnet bench: which benchmark? (modes:");
    else
        fprintf(stderr, "focusnet bench: unknown mode '%s' (modes:", argv[0]);
    for (size_t i = 0; i < n_modes; i++)
        fprintf(stderr, " %s", modes[i].name);
    fprintf(stderr, "; see 'focusnet bench --help')\n");
    return EXIT_USAGE;
}
