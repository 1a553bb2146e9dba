/* Trains LeNet-5 on Fashion-MNIST for one epoch and predicts one test image,
 * using nothing but the installed library and its header:
 *
 *   cc -std=c11 train_predict.c $(pkg-config --cflags --libs focusnet) -o train_predict
 *   ./train_predict [LIMIT [RUN_DIR]]
 *
 * LIMIT: train on at most this many images (default 2000; 0 for all 60,000),
 * RUN_DIR: where the checkpoints go (default runs/example). The data comes
 * from Debian's dataset-fashion-mnist package. */
#include <focusnet.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "train_predict: %s: %s\n", what, fn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    int limit = argc > 1 ? atoi(argv[1]) : 2000;
    const char *dir = argc > 2 ? argv[2] : "runs/example";
    char path[4096];

    fn_train_config c;
    fn_train_config_default(&c); /* the paper's SGD recipe */
    c.arch = "lenet5";
    c.data = "fashion-mnist";
    c.epochs = 1;
    c.limit_train = limit;
    c.limit_test = limit ? limit / 4 : 0;
    c.out_dir = dir;
    fn_train_result r;
    if (fn_train(&c, &r) != FN_OK) return fail("training");
    printf("trained %ld steps: test top-1 %.1f%%\n", r.steps_done, 100 * r.report.top1);
    fn_eval_report_free(&r.report);

    /* Load the best checkpoint and predict the first test image. */
    fn_device *dev = NULL;
    fn_model *m = NULL;
    fn_dataset *test = NULL;
    snprintf(path, sizeof path, "%s/best.safetensors", dir);
    if (fn_device_open(NULL, &dev) != FN_OK) return fail("device");
    if (fn_checkpoint_load(dev, path, NULL, 1, 0, &m) != FN_OK) return fail(path);
    const fn_model_config *mc = fn_model_get_config(m);
    if (fn_dataset_open_sized("fashion-mnist", "test", 1, mc->channels, mc->height, mc->width_px,
                              &test) != FN_OK)
        return fail("fashion-mnist");
    int n = mc->channels * mc->height * mc->width_px, k = mc->classes;
    float mean[3], std[3], *x = malloc((size_t)n * sizeof *x), *z = malloc((size_t)k * sizeof *z),
                           *p = malloc((size_t)k * sizeof *p);
    if (!x || !z || !p) return 1;
    fn_model_normalization(m, mean, std);
    const uint8_t *img = fn_dataset_image(test, 0); /* (C, H, W) bytes */
    for (int i = 0; i < n; i++) {
        int ch = i / (mc->height * mc->width_px);
        x[i] = (img[i] / 255.0f - mean[ch]) / std[ch];
    }
    if (fn_model_predict(m, x, 1, z) != FN_OK) return fail("predict");
    fn_softmax(z, k, p);
    int best = 0;
    for (int j = 1; j < k; j++)
        if (p[j] > p[best]) best = j;
    printf("prediction: %s (%.1f%%), true class: %s\n", fn_model_class_name(m, best), 100 * p[best],
           fn_model_class_name(m, fn_dataset_label(test, 0)));
    free(x);
    free(z);
    free(p);
    fn_dataset_free(test);
    fn_model_free(m);
    fn_device_free(dev);
    return 0;
}
