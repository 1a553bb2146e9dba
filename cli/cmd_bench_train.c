/* focusnet bench train: whole training steps and evaluation forwards of a
 * model (images/s), optionally with the device time of every kernel
 * (--profile). The training step is the library's (fn_trainer_step), the
 * one lib/train runs: upload the batch and labels, forward with batch
 * statistics, cross-entropy and its gradient, the running loss and
 * accuracy, zero the gradients, backward, one SGD update of every trainable
 * tensor. Inference is the evaluation-mode forward of a model built for
 * evaluation only (shared activation memory) with the logits read back, as
 * the evaluator does (fn_model_predict). The data are random: the arithmetic
 * does not depend on the values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

typedef struct {
    fn_device *dev;
    fn_model *train, *eval;
    fn_trainer *step;
    float *x;
    int32_t *y;
    float *logits;
    int n;
} trainer;

static fn_status train_step(trainer *t)
{
    return fn_trainer_step(t->step, t->x, t->y, t->n);
}

static fn_status infer_step(trainer *t)
{
    return fn_model_predict(t->eval, t->x, t->n, t->logits);
}

/* steps calls of step, timed from the first enqueue to the end of the queue. */
static fn_status time_steps(trainer *t, fn_status (*step)(trainer *), int steps, double *ms)
{
    BENCH_TRY(fn_finish(t->dev));
    double t0 = now_ms();
    for (int i = 0; i < steps; i++)
        BENCH_TRY(step(t));
    BENCH_TRY(fn_finish(t->dev));
    *ms = now_ms() - t0;
    return FN_OK;
}

/* The median images/s of repeat runs of steps steps, after warmup steps. */
static fn_status rate(trainer *t, fn_status (*step)(trainer *), int steps, int warmup, int repeat,
                      double *samples, double *out)
{
    double ms;
    if (warmup) BENCH_TRY(time_steps(t, step, warmup, &ms));
    for (int r = 0; r < repeat; r++) {
        BENCH_TRY(time_steps(t, step, steps, &ms));
        samples[r] = ms > 0 ? 1e3 * steps * t->n / ms : 0;
    }
    *out = bench_median(samples, repeat);
    return FN_OK;
}

/* Device time per kernel name over steps more steps, per step. */
static fn_status profile(trainer *t, fn_status (*step)(trainer *), int steps, const char *what)
{
    double ms;
    BENCH_TRY(fn_profile_start(t->dev));
    fn_status st = time_steps(t, step, steps, &ms);
    fn_status st2 = fn_profile_stop(t->dev);
    BENCH_TRY(st);
    BENCH_TRY(st2);
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
                              const fn_model_config *cfg, int n, float clip)
{
    t->n = n;
    BENCH_TRY(fn_device_open_ex(device, profiling, &t->dev));
    BENCH_TRY(fn_model_create(t->dev, cfg, n, 1, &t->train));
    BENCH_TRY(fn_model_init(t->train, 1));
    BENCH_TRY(fn_model_create(t->dev, cfg, n, 0, &t->eval));
    BENCH_TRY(fn_model_init(t->eval, 1));
    fn_sgd_opts sgd;
    fn_sgd_opts_default(&sgd);
    sgd.lr = 0.01f; /* small enough that random labels do not blow the weights up */
    sgd.clip_norm = clip;
    fn_loss_opts lopt;
    fn_loss_opts_default(&lopt, FN_LOSS_CE);
    BENCH_TRY(fn_trainer_create(t->train, NULL, &lopt, &sgd, &t->step));
    size_t per = (size_t)cfg->channels * cfg->height * cfg->width_px;
    t->x = malloc((size_t)n * per * sizeof *t->x);
    t->y = malloc((size_t)n * sizeof *t->y);
    t->logits = malloc((size_t)n * cfg->classes * sizeof *t->logits);
    if (!t->x || !t->y || !t->logits) return bench_oom();
    bench_random(t->x, (size_t)n * per, 2);
    for (int i = 0; i < n; i++)
        t->y[i] = (int32_t)(((uint32_t)i * 2654435761u >> 8) % (uint32_t)cfg->classes);
    return FN_OK;
}

static void trainer_close(trainer *t)
{
    fn_trainer_free(t->step);
    fn_model_free(t->train);
    fn_model_free(t->eval);
    free(t->x);
    free(t->y);
    free(t->logits);
    fn_device_free(t->dev);
}

int bench_train(int argc, char **argv)
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
        {"clip-norm", "X", "clip the gradient norm to X before each update (default 0: off)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int n_pos, rc = cli_parse(cmd, "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long batch = 128, steps = 10, warmup = 3, repeat = 5, classes = 10;
    double width = 0, clip = 0;
    if ((rc = cli_int(cmd, opts, "batch", 1, 4096, &batch)) ||
        (rc = cli_int(cmd, opts, "steps", 1, 100000, &steps)) ||
        (rc = cli_int(cmd, opts, "warmup", 0, 100000, &warmup)) ||
        (rc = cli_int(cmd, opts, "repeat", 1, 1000, &repeat)) ||
        (rc = cli_int(cmd, opts, "classes", 1, 100000, &classes)) ||
        (rc = cli_float(cmd, opts, "width", 0.1, 4, &width)) ||
        (rc = cli_float(cmd, opts, "clip-norm", 0, 1e9, &clip)))
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
    fn_status st = samples ? FN_OK : bench_oom();
    if (st == FN_OK)
        st = trainer_open(&t, cli_get(opts, "device"), prof, &cfg, (int)batch, (float)clip);
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
    return st == FN_OK ? 0 : bench_fail(cmd);
}
