/* focusnet demo: the paper's two stages on Fashion-MNIST with LeNet-5 —
 * a cross-entropy baseline, then FocusNet guided by it — and what changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_progress(const fn_train_progress *p, void *user);
void cli_catch_sigint(volatile int **flag);
int cli_stop_exit_code(void);

int cmd_demo(int argc, char **argv)
{
    cli_opt opts[] = {cli_train_opt("epochs", "epochs for each stage (10)"),
                      cli_train_opt("batch", NULL),
                      cli_train_opt("seed", NULL),
                      cli_train_opt("limit-train", "use at most N training images (0: all 60000)"),
                      cli_train_opt("limit-test", NULL),
                      cli_train_opt("device", "OpenCL device"),
                      {"out", "DIR", "where the two runs go (runs/demo)", NULL},
                      {"overwrite", NULL, "start over where an earlier demo's runs are", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("demo", "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    const char *out = cli_get(opts, "out") ? cli_get(opts, "out") : "runs/demo";
    char base_dir[1024], focus_dir[1024], base_ckpt[1100];
    snprintf(base_dir, sizeof base_dir, "%s/baseline", out);
    snprintf(focus_dir, sizeof focus_dir, "%s/focusnet", out);
    snprintf(base_ckpt, sizeof base_ckpt, "%s/best.safetensors", base_dir);

    fn_train_config c;
    fn_train_config_default(&c);
    c.arch = "lenet5";
    c.data = "fashion-mnist";
    /* All 60,000 training images, 10 epochs per stage: a few minutes on 2
     * CPU cores with POCL. */
    c.epochs = 10;
    if ((rc = cli_train_options("demo", opts, &c))) return rc;
    c.out_dir = base_dir;
    c.overwrite = cli_get(opts, "overwrite") != NULL;
    /* Both stages' folders, before the first one starts. */
    for (int i = 0; i < 2; i++) {
        fn_status cs = fn_train_check_out_dir(i ? focus_dir : base_dir, c.overwrite);
        if (cs != FN_OK) {
            cli_fail("demo");
            return cs == FN_ERR_ARG ? EXIT_USAGE : EXIT_RUNTIME;
        }
    }
    cli_catch_sigint(&c.stop);
    c.progress = cli_progress;
    c.user = (void *)"baseline";
    printf("stage 1: LeNet-5 baseline with cross-entropy on Fashion-MNIST, %d epochs -> %s\n",
           c.epochs, base_dir);
    fflush(stdout);
    fn_train_result base, focus;
    if (fn_train(&c, &base) != FN_OK) return cli_fail("demo");
    if (base.stopped) {
        printf("stopped; the baseline so far is in %s\n", base_dir);
        fn_eval_report_free(&base.report);
        return cli_stop_exit_code();
    }
    fn_loss_opts_default(&c.loss, FN_LOSS_FOCUS);
    /* The demo's recipe stays as it was measured (no warm-up) until its
     * candidates are compared over 5 seeds (issue 16). */
    if (!cli_get(opts, "warmup-epochs")) c.sched.warmup_epochs = 0;
    c.baseline = base_ckpt;
    c.out_dir = focus_dir;
    c.user = (void *)"focusnet";
    printf("stage 2: LeNet-5 FocusNet (focus-picking loss) guided by %s -> %s\n", base_ckpt,
           focus_dir);
    fflush(stdout);
    if (fn_train(&c, &focus) != FN_OK) {
        fn_eval_report_free(&base.report);
        return cli_fail("demo");
    }
    /* Compare the best checkpoints of both stages on the test set. */
    fn_device *dev = NULL;
    fn_model *mb = NULL, *mf = NULL;
    fn_eval_report rb = {0}, rf = {0};
    char focus_ckpt[1100];
    snprintf(focus_ckpt, sizeof focus_ckpt, "%s/best.safetensors", focus_dir);
    if (fn_device_open(c.device, &dev) != FN_OK ||
        fn_checkpoint_load(dev, base_ckpt, NULL, c.batch, 0, &mb) != FN_OK ||
        fn_checkpoint_load(dev, focus_ckpt, NULL, c.batch, 0, &mf) != FN_OK ||
        fn_evaluate(mb, c.data, "test", c.limit_test, &rb) != FN_OK ||
        fn_evaluate(mf, c.data, "test", c.limit_test, &rf) != FN_OK) {
        rc = cli_fail("demo");
    } else {
        printf("\n%-10s %8s %8s   (best epoch of each, %d test images)\n", "", "top-1", "top-5",
               rb.n);
        printf("%-10s %7.2f%% %7.2f%%\n", "baseline", 100 * rb.top1, 100 * rb.top5);
        printf("%-10s %7.2f%% %7.2f%%\n", "focusnet", 100 * rf.top1, 100 * rf.top5);
        int k = rb.classes, shown = 0;
        printf("\nconfusions FocusNet reduced most (true -> predicted: baseline, focusnet):\n");
        for (int round = 0; round < 5; round++) {
            int64_t best = 0;
            int bt = -1, bp = -1;
            for (int t = 0; t < k; t++)
                for (int p = 0; p < k; p++) {
                    int64_t d = rb.confusion[t * k + p] - rf.confusion[t * k + p];
                    if (t != p && d > best) {
                        best = d;
                        bt = t;
                        bp = p;
                    }
                }
            if (bt < 0) break;
            printf("  %-12s -> %-12s %4lld -> %4lld\n", fn_model_class_name(mb, bt),
                   fn_model_class_name(mb, bp), (long long)rb.confusion[bt * k + bp],
                   (long long)rf.confusion[bt * k + bp]);
            rb.confusion[bt * k + bp] = rf.confusion[bt * k + bp]; /* not again */
            shown++;
        }
        if (!shown) printf("  none\n");
        printf("\nruns: %s (open them with focusnet eval, predict, or the viewer)\n", out);
    }
    fn_eval_report_free(&rb);
    fn_eval_report_free(&rf);
    fn_eval_report_free(&base.report);
    fn_eval_report_free(&focus.report);
    fn_model_free(mb);
    fn_model_free(mf);
    fn_device_free(dev);
    return rc;
}
