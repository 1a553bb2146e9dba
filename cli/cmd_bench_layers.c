/* focusnet bench layers: every distinct layer of a model (ResNet-18 on
 * 32x32 images by default), forward and backward, through the library's
 * per-layer entry (fn_model_layer_forward/backward) on a model built for
 * training, after one training step has filled every activation and
 * gradient with real values.
 *
 * Timing. Ops enqueue their kernels internally (CLBlast adds helper kernels of
 * its own), so there is no per-kernel event to collect. Each call is timed by
 * the host clock between two clFinish: that counts every kernel the op
 * enqueued, plus the launch overhead that training pays too. The queue has
 * profiling on, and markers enqueued before and after the op give the span on
 * the device's clock ("dev" columns, fn_span); some drivers time markers
 * badly, so a span that is zero or longer than the host saw is shown as "-".
 * The gap between the two is host-side overhead. Every number is the median
 * of --repeat runs after --warmup unrecorded ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* One distinct layer: its first occurrence in the model and how often it recurs. */
typedef struct {
    int index; /* of its first occurrence */
    fn_layer_info info;
    char shape[64];
    int uses;
    double flops;  /* forward, whole batch; 0 for layers without multiply-adds */
    double ms[2];  /* forward, backward: host clock */
    double dev[2]; /* the same on the device clock, or -1 */
} row;

/* The same layer, apart from its name: same kind, shapes and options. */
static int same_layer(const fn_layer_info *a, const fn_layer_info *b)
{
    return a->type == b->type && a->reads_input == b->reads_input && a->in_c == b->in_c &&
           a->in_h == b->in_h && a->in_w == b->in_w && a->out_c == b->out_c &&
           a->out_h == b->out_h && a->out_w == b->out_w && a->k == b->k && a->stride == b->stride &&
           a->pad == b->pad && a->groups == b->groups && a->bias == b->bias;
}

static void describe(row *r, int n)
{
    const fn_layer_info *l = &r->info;
    r->flops = n * l->flops;
    switch (l->type) {
    case FN_LAYER_CONV:
        snprintf(r->shape, sizeof r->shape, "%d->%d %dx%d s%d%s @%dx%d", l->in_c, l->out_c, l->k,
                 l->k, l->stride,
                 l->groups == 1         ? ""
                 : l->groups == l->in_c ? " dw"
                                        : " grp",
                 l->in_h, l->in_w);
        break;
    case FN_LAYER_LINEAR:
        snprintf(r->shape, sizeof r->shape, "%d->%d", l->in_c * l->in_h * l->in_w, l->out_c);
        break;
    case FN_LAYER_MAXPOOL:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d %dx%d s%d", l->in_c, l->in_h, l->in_w, l->k,
                 l->k, l->stride);
        break;
    case FN_LAYER_GAP:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d->%d", l->in_c, l->in_h, l->in_w, l->out_c);
        break;
    default:
        snprintf(r->shape, sizeof r->shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
    }
}

static fn_status time_once(fn_device *dev, fn_model *m, const row *r, int n, int backward,
                           double *ms, double *dev_ms)
{
    fn_span s;
    BENCH_TRY(fn_span_begin(dev, &s));
    fn_status st =
        backward ? fn_model_layer_backward(m, r->index, n) : fn_model_layer_forward(m, r->index, n);
    fn_status st2 = fn_span_end(dev, &s, ms, dev_ms);
    return st != FN_OK ? st : st2;
}

static fn_status bench_row(fn_device *dev, fn_model *m, row *r, int n, int warmup, int repeat,
                           double *samples)
{
    double *host[2] = {samples, samples + repeat},
           *devs[2] = {samples + 2 * repeat, samples + 3 * repeat};
    for (int it = 0; it < warmup + repeat; it++)
        for (int p = 0; p < 2; p++) { /* backward right after its forward: BN, pooling need it */
            double ms, dms;
            BENCH_TRY(time_once(dev, m, r, n, p, &ms, &dms));
            if (it >= warmup) {
                host[p][it - warmup] = ms;
                devs[p][it - warmup] = dms;
            }
        }
    for (int p = 0; p < 2; p++) {
        r->ms[p] = bench_median(host[p], repeat);
        r->dev[p] = bench_median(devs[p], repeat);
    }
    return FN_OK;
}

/* One whole training step on random data: afterwards every activation and
 * gradient the layers read holds real values. */
static fn_status prime(fn_model *m, int n)
{
    const fn_model_config *c = fn_model_get_config(m);
    size_t per = (size_t)c->channels * c->height * c->width_px;
    float *x = malloc((size_t)n * per * sizeof *x);
    int32_t *y = calloc((size_t)n, sizeof *y);
    fn_trainer *t = NULL;
    fn_sgd_opts so;
    fn_loss_opts lo;
    fn_sgd_opts_default(&so);
    so.lr = 0.01f;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_status st = x && y ? FN_OK : bench_oom();
    if (st == FN_OK) {
        bench_random(x, (size_t)n * per, 1);
        for (int i = 0; i < n; i++)
            y[i] = i % c->classes;
        st = fn_trainer_create(m, NULL, &lo, &so, &t);
    }
    if (st == FN_OK) st = fn_trainer_step(t, x, y, n);
    fn_trainer_free(t);
    free(x);
    free(y);
    return st;
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
    const fn_model_config *c = fn_model_get_config(m);
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
        double bflops = r->flops * (r->info.reads_input ? 1 : 2);
        printf("%-22s %-25s %4d", r->info.name, r->shape, r->uses);
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
        double both = r->uses * (r->ms[0] + r->ms[1]);
        switch (r->info.type) {
        case FN_LAYER_CONV:
            by_type[TY_CONV_FWD] += r->uses * r->ms[0];
            by_type[TY_CONV_BWD] += r->uses * r->ms[1];
            break;
        case FN_LAYER_BN:
            by_type[TY_BN] += both;
            break;
        case FN_LAYER_RELU:
        case FN_LAYER_RELU6:
            by_type[TY_RELU] += both;
            break;
        case FN_LAYER_MAXPOOL:
        case FN_LAYER_GAP:
            by_type[TY_POOL] += both;
            break;
        case FN_LAYER_LINEAR:
            by_type[TY_LINEAR] += both;
            break;
        case FN_LAYER_ADD:
            by_type[TY_ADD] += both;
            break;
        }
    }
    printf("%-22s %-25s %4d", "total (x uses)", "one training step", fn_model_layer_count(m));
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

int bench_layers(int argc, char **argv)
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

    fn_model *m = NULL;
    fn_device *dev = NULL;
    row *rows = NULL;
    double *samples = NULL;
    int n_rows = 0, n = (int)batch;
    fn_status st = fn_device_open_ex(cli_get(opts, "device"), 1, &dev);
    if (st == FN_OK) st = fn_model_create(dev, &cfg, n, 1, &m);
    if (st == FN_OK) st = prime(m, n);
    int layers = st == FN_OK ? fn_model_layer_count(m) : 0;
    rows = st == FN_OK ? calloc((size_t)layers + 1, sizeof *rows) : NULL;
    samples = rows ? malloc(4 * (size_t)repeat * sizeof *samples) : NULL;
    if (st == FN_OK && !samples) st = bench_oom();
    for (int i = 0; st == FN_OK && i < layers; i++) {
        fn_layer_info info;
        st = fn_model_layer_info(m, i, &info);
        int k = 0;
        while (st == FN_OK && k < n_rows && !same_layer(&rows[k].info, &info))
            k++;
        if (st == FN_OK && k == n_rows) {
            rows[n_rows++] = (row){.index = i, .info = info};
            describe(&rows[k], n);
        }
        if (st == FN_OK) rows[k].uses++;
    }
    for (int i = 0; st == FN_OK && i < n_rows; i++)
        st = bench_row(dev, m, &rows[i], n, (int)warmup, (int)repeat, samples);
    if (st == FN_OK) report(m, rows, n_rows, fn_device_get_info(dev), n, (int)warmup, (int)repeat);
    free(samples);
    free(rows);
    fn_model_free(m);
    fn_device_free(dev);
    return st == FN_OK ? 0 : bench_fail(cmd);
}
