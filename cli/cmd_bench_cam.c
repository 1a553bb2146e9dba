/* focusnet bench cam: how long the viewer waits for one image's class
 * activation map. The viewer's worker (viewer/worker.c, run_image) loads a
 * checkpoint for batch 1, built for training (Grad-CAM runs layers
 * backward), and per image and model computes the map of the class the
 * model predicts, with its logits, in one forward pass (fn_cam_predicted:
 * plain CAM where the model ends in global average pooling and a linear
 * layer, Grad-CAM otherwise, as the viewer picks). This times that call
 * after start-up (device, kernels built, model loaded and warmed up), on a
 * checkpoint or on a freshly initialized model (the arithmetic does not
 * depend on the weights), and for comparison the forward pass alone
 * (fn_model_predict); the viewer showing two models waits for two maps. */
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
    fn_model *m;
    float *x, *logits, *heat;
    int grad_cam;
} cam_job;

/* One image as the viewer's worker does it, and the forward pass alone;
 * host times (both read their results back, so the queue is empty after). */
static fn_status one_image(cam_job *j, double *predict_ms, double *map_ms)
{
    int cls;
    double t0 = now_ms();
    BENCH_TRY(fn_model_predict(j->m, j->x, 1, j->logits));
    double t1 = now_ms();
    BENCH_TRY(fn_cam_predicted(j->m, j->x, j->grad_cam, j->heat, j->logits, &cls));
    *predict_ms = t1 - t0;
    *map_ms = now_ms() - t1;
    return FN_OK;
}

int bench_cam(int argc, char **argv)
{
    const char *cmd = "bench cam";
    cli_opt opts[] = {
        {"model", "NAME", "lenet5, resnet18, resnet34 or mobilenetv2 (default lenet5)", NULL},
        {"checkpoint", "PATH", "time this checkpoint instead of a fresh model", NULL},
        {"grad-cam", NULL, "Grad-CAM even where plain CAM applies (the viewer's toggle)", NULL},
        {"images", "N", "timed images; the median is shown (default 30)", NULL},
        {"warmup", "N", "untimed images first (default 3)", NULL},
        {"device", "D", "OpenCL device: index or name (see 'focusnet devices')", NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int n_pos, rc = cli_parse(cmd, "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long images = 30, warmup = 3;
    if ((rc = cli_int(cmd, opts, "images", 1, 100000, &images)) ||
        (rc = cli_int(cmd, opts, "warmup", 0, 100000, &warmup)))
        return rc;
    const char *arch = cli_get(opts, "model") ? cli_get(opts, "model") : "lenet5";
    const char *ckpt = cli_get(opts, "checkpoint");
    fn_model_config cfg;
    if (!ckpt) {
        int lenet = strcmp(arch, "lenet5") == 0;
        if (fn_model_config_default(&cfg, arch, 10, lenet ? 1 : 3, lenet ? 28 : 32,
                                    lenet ? 28 : 32) != FN_OK) {
            fprintf(stderr, "focusnet %s: %s\n", cmd, fn_last_error());
            return EXIT_USAGE;
        }
    }

    fn_device *dev = NULL;
    cam_job j = {0};
    double *total = malloc((size_t)images * sizeof *total);
    double *predict = malloc((size_t)images * sizeof *predict);
    fn_status st = total && predict ? FN_OK : bench_oom();
    double t0 = now_ms(), startup = 0;
    if (st == FN_OK) st = fn_device_open(cli_get(opts, "device"), &dev);
    if (st == FN_OK && ckpt) st = fn_checkpoint_load(dev, ckpt, NULL, 1, 1, &j.m);
    if (st == FN_OK && !ckpt) st = fn_model_create(dev, &cfg, 1, 1, &j.m);
    if (st == FN_OK && !ckpt) st = fn_model_init(j.m, 1);
    const fn_model_config *c = st == FN_OK ? fn_model_get_config(j.m) : NULL;
    if (c) {
        size_t per = (size_t)c->channels * c->height * c->width_px;
        j.x = malloc(per * sizeof *j.x);
        j.logits = malloc((size_t)c->classes * sizeof *j.logits);
        j.heat = malloc((size_t)c->height * c->width_px * sizeof *j.heat);
        if (!j.x || !j.logits || !j.heat)
            st = bench_oom();
        else
            bench_random(j.x, per, 3);
        j.grad_cam = cli_get(opts, "grad-cam") != NULL || !fn_cam_available(j.m);
    }
    for (long i = 0; st == FN_OK && i < warmup + images; i++) {
        double p, t;
        st = one_image(&j, &p, &t);
        if (i == 0) startup = now_ms() - t0; /* device, model, kernels built, first image */
        if (st == FN_OK && i >= warmup) {
            predict[i - warmup] = p;
            total[i - warmup] = t;
        }
    }
    if (st == FN_OK) {
        const fn_device_info *di = fn_device_get_info(dev);
        double mp = bench_median(predict, (int)images), mt = bench_median(total, (int)images);
        double lo = total[0];
        for (long i = 1; i < images; i++)
            lo = total[i] < lo ? total[i] : lo;
        printf("focusnet bench cam: %s, input %dx%dx%d, %s, on %s (%s)\n", c->arch, c->channels,
               c->height, c->width_px, j.grad_cam ? "Grad-CAM" : "CAM", di->name,
               di->platform_name);
        printf("start-up to the first map %.1f ms; median of %ld images after %ld warm-up\n",
               startup, images, warmup);
        printf("map        %9.2f ms  (the viewer's wait per model; fastest %.2f ms)\n", mt, lo);
        printf("forward    %9.2f ms  (fn_model_predict alone)\n", mp);
    }
    free(j.x);
    free(j.logits);
    free(j.heat);
    free(total);
    free(predict);
    fn_model_free(j.m);
    fn_device_free(dev);
    return st == FN_OK ? 0 : bench_fail(cmd);
}
