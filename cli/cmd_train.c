/* focusnet train: one stage of training, with a progress bar on a terminal
 * and a clean stop (checkpoint saved) on Ctrl-C. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile int stop_requested;

static void on_sigint(int sig)
{
    stop_requested = sig; /* the signal, for the exit code */
}

int cli_stop_exit_code(void)
{
    /* What shells expect of a process a signal stopped: 128 + the signal
     * (130 for SIGINT, 143 for SIGTERM), so `train && next` stops too. */
    return stop_requested ? 128 + stop_requested : 0;
}

/* The exit code of a stopped run. Under mpirun a signal to any rank stops
 * every rank after the same step (the stop flag rides the gradient
 * allreduce), so every rank exits as the signalled one does: mpirun's status
 * then says 130 / 143 too, and `mpirun ... train && next` stops. r.stopped is
 * the same on every rank, so either all ranks reduce here or none. */
static int stop_exit_code(const fn_comm *comm, int stopped)
{
    if (!stopped) return 0;
    int code = cli_stop_exit_code();
    if (comm) {
        int64_t sig[2] = {code == 128 + SIGINT, code == 128 + SIGTERM};
        if (comm->allreduce_i64(comm, sig, 2) == FN_OK)
            code = sig[0] ? 128 + SIGINT : sig[1] ? 128 + SIGTERM : 0;
    }
    return code;
}

void cli_catch_sigint(volatile int **flag)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    *flag = &stop_requested;
}

static void fmt_time(double s, char *out, size_t n)
{
    if (s < 0 || s > 1e7) s = 0;
    int t = (int)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%dh%02dm", t / 3600, t / 60 % 60);
    else
        snprintf(out, n, "%dm%02ds", t / 60, t % 60);
}

void cli_progress(const fn_train_progress *p, void *user)
{
    const char *label = user ? user : "train";
    char eta[32];
    fmt_time(p->eta_s, eta, sizeof eta);
    int width = 24, fill = p->steps ? (int)(width * p->step / p->steps) : 0;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    if (isatty(STDERR_FILENO)) {
        fprintf(stderr, "\r%s epoch %d/%d [%s] %ld/%ld loss %.4f acc %.2f%% %.0f img/s ETA %s ",
                label, p->epoch, p->epochs, bar, p->step, p->steps, p->loss, 100 * p->acc,
                p->images_per_s, eta);
        if (p->at_chance) fputs("AT CHANCE ", stderr);
        if (p->step == p->steps) fputc('\n', stderr);
    } else if (p->step == p->steps) {
        fprintf(stderr, "%s epoch %d/%d: loss %.4f acc %.2f%% %.0f img/s ETA %s%s\n", label,
                p->epoch, p->epochs, p->loss, 100 * p->acc, p->images_per_s, eta,
                p->at_chance ? " AT CHANCE" : "");
    }
    if (p->at_chance && p->epoch == 1 && p->step == p->steps)
        fprintf(stderr,
                "%s: warning: training accuracy %.2f%% after the first epoch is at chance: the "
                "stage is stuck (try --warmup-epochs 1 or a lower --lr)\n",
                label, 100 * p->acc);
    fflush(stderr);
}

void cli_print_report(const fn_eval_report *r, const char *const *names, int show_classes)
{
    printf("top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d images)\n", 100 * r->top1, 100 * r->top5,
           r->loss, r->n);
    if (show_classes) {
        printf("per-class accuracy:\n");
        for (int i = 0; i < r->classes && i < 100; i++)
            printf("  %-16s %6.2f%%\n", names ? names[i] : "", 100 * r->class_acc[i]);
    }
    int t[5], p[5];
    int64_t c[5];
    int n = fn_eval_confused_pairs(r, 5, t, p, c);
    if (n) printf("most confused (true -> predicted):\n");
    for (int i = 0; i < n; i++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%d", t[i]);
        snprintf(b, sizeof b, "%d", p[i]);
        printf("  %-16s -> %-16s %lld\n", names ? names[t[i]] : a, names ? names[p[i]] : b,
               (long long)c[i]);
    }
}

/* Parses "30,60" into milestones. */
static int parse_milestones(const char *s, fn_train_config *c)
{
    c->sched.n_milestones = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 100000 || c->sched.n_milestones >= FN_MAX_MILESTONES) return 0;
        if (c->sched.n_milestones > 0 && v <= c->sched.milestones[c->sched.n_milestones - 1])
            return 0;
        c->sched.milestones[c->sched.n_milestones++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return c->sched.n_milestones > 0;
}

/* The options `train` and `demo` share; returns 0 or an exit code. */
int cli_train_options(const char *cmd, const cli_opt *o, fn_train_config *c)
{
    long v;
    double d;
    int rc;
#define GET_INT(name, lo, hi, field)                                                               \
    if ((rc = cli_int(cmd, o, name, lo, hi, &v))) return rc;                                       \
    if (cli_get(o, name)) field = v;
#define GET_FLOAT(name, lo, hi, field)                                                             \
    if ((rc = cli_float(cmd, o, name, lo, hi, &d))) return rc;                                     \
    if (cli_get(o, name)) field = (float)d;
    if (cli_get(o, "model")) c->arch = cli_get(o, "model");
    if (cli_get(o, "data")) c->data = cli_get(o, "data");
    if (cli_get(o, "out")) c->out_dir = cli_get(o, "out");
    if (cli_get(o, "device")) c->device = cli_get(o, "device");
    if (cli_get(o, "baseline")) c->baseline = cli_get(o, "baseline");
    if (cli_get(o, "init")) c->init = cli_get(o, "init");
    GET_INT("epochs", 1, 100000, c->epochs);
    GET_INT("batch", 1, 65536, c->batch);
    GET_INT("limit-train", 0, 1 << 30, c->limit_train);
    GET_INT("limit-test", 0, 1 << 30, c->limit_test);
    GET_INT("max-steps", 1, 1L << 40, c->max_steps);
    GET_INT("save-every", 1, 1L << 40, c->save_every);
    if ((rc = cli_int(cmd, o, "seed", 0, 1L << 62, &v))) return rc;
    if (cli_get(o, "seed")) c->seed = (uint64_t)v;
    GET_FLOAT("lr", 0, 1e9, c->sgd.lr);
    GET_FLOAT("momentum", 0, 1, c->sgd.momentum);
    GET_FLOAT("wd", 0, 1, c->sgd.weight_decay);
    GET_FLOAT("width", 0.1, 4, c->width);
    GET_FLOAT("warmup-epochs", 0, 100000, c->sched.warmup_epochs);
    if (cli_get(o, "nesterov")) c->sgd.nesterov = 1;
    if (cli_get(o, "cosine")) c->sched.cosine = 1;
    if (cli_get(o, "no-augment")) c->augment = 0;
    if (cli_get(o, "augment")) c->augment = 1;
    if (cli_get(o, "no-shuffle")) c->shuffle = 0;
    if (cli_get(o, "sync-bn")) c->sync_bn = 1;
    const char *stem = cli_get(o, "stem");
    if (stem) {
        if (strcmp(stem, "small") && strcmp(stem, "imagenet")) {
            fprintf(stderr, "focusnet %s: option '--stem' takes small or imagenet, not '%s'\n", cmd,
                    stem);
            return EXIT_USAGE;
        }
        c->small_stem = strcmp(stem, "small") == 0;
    }
    if (cli_get(o, "milestones") && !parse_milestones(cli_get(o, "milestones"), c)) {
        fprintf(stderr,
                "focusnet %s: option '--milestones' takes increasing epochs like 30,60, not "
                "'%s'\n",
                cmd, cli_get(o, "milestones"));
        return EXIT_USAGE;
    }
    const char *loss = cli_get(o, "loss");
    if (loss) {
        fn_loss_kind k;
        if (fn_loss_kind_parse(loss, &k) != FN_OK) {
            fprintf(stderr, "focusnet %s: option '--loss' takes ce, ls, kd or focus, not '%s'\n",
                    cmd, loss);
            return EXIT_USAGE;
        }
        fn_loss_opts_default(&c->loss, k);
    }
    if (cli_get(o, "authors")) {
        if (c->loss.kind != FN_LOSS_FOCUS) {
            fprintf(stderr, "focusnet %s: option '--authors' goes with --loss focus\n", cmd);
            return EXIT_USAGE;
        }
        fn_loss_opts_authors(&c->loss);
    }
    GET_FLOAT("smoothing", 0, 1, c->loss.smoothing);
    GET_FLOAT("kd-temperature", 0.01, 1000, c->loss.kd_temperature);
    GET_FLOAT("kd-weight", 0, 1, c->loss.kd_weight);
    GET_FLOAT("alpha", 0, 1000, c->loss.alpha);
    GET_FLOAT("beta", 0, 1000, c->loss.beta);
    GET_FLOAT("cls-smoothing", 0, 1, c->loss.cls_smoothing);
    GET_FLOAT("multiwarm-temperature", 0.01, 1000, c->loss.rule_temperature);
    if (cli_get(o, "detach-d")) c->loss.detach_d = 1;
    const char *rule = cli_get(o, "multiwarm");
    if (rule) {
        if (strcmp(rule, "logit") == 0)
            c->loss.rule = FN_MULTIWARM_LOGIT;
        else if (strcmp(rule, "softmax") == 0)
            c->loss.rule = FN_MULTIWARM_SOFTMAX;
        else {
            fprintf(stderr, "focusnet %s: option '--multiwarm' takes logit or softmax, not '%s'\n",
                    cmd, rule);
            return EXIT_USAGE;
        }
    }
    return 0;
#undef GET_INT
#undef GET_FLOAT
}

#define TRAIN_OPTIONS                                                                              \
    {"model", "NAME", "lenet5 | resnet18 | resnet34 | mobilenetv2 (lenet5)", NULL},                \
        {"stem", "small|imagenet", "ResNet/MobileNetV2 stem (small for inputs <= 64 px)", NULL},   \
        {"width", "W", "MobileNetV2 width multiplier (0.5)", NULL},                                \
        {"data", "SPEC", "fashion-mnist | mnist:DIR | cifar10:DIR | cifar100:DIR | folder:DIR",    \
         NULL},                                                                                    \
        {"loss", "ce|ls|kd|focus", "training loss (ce)", NULL},                                    \
        {"baseline", "CKPT", "frozen baseline (focus) or teacher (kd)", NULL},                     \
        {"init", "CKPT", "start from these weights", NULL}, {"epochs", "N", "epochs (10)", NULL},  \
        {"batch", "N", "batch size (128)", NULL}, {"lr", "X", "learning rate (0.1)", NULL},        \
        {"momentum", "X", "SGD momentum (0.9)", NULL}, {"wd", "X", "weight decay (1e-4)", NULL},   \
        {"nesterov", NULL, "Nesterov momentum", NULL},                                             \
        {"milestones", "E1,E2", "epochs where lr /= 10 (50% and 75% of epochs)", NULL},            \
        {"cosine", NULL, "cosine learning-rate decay instead of steps", NULL},                     \
        {"warmup-epochs", "E", "linear lr warm-up over E epochs (1 for focus and kd, else 0)",     \
         NULL},                                                                                    \
        {"seed", "N", "random seed (1)", NULL},                                                    \
        {"max-steps", "N", "stop after N steps (of this run or this resume)", NULL},               \
        {"save-every", "N", "also save the resume state every N steps", NULL},                     \
        {"limit-train", "N", "use at most N training images", NULL},                               \
        {"limit-test", "N", "evaluate on at most N test images", NULL},                            \
        {"augment", NULL, "random crop + flip (default except MNIST-like data)", NULL},            \
        {"no-augment", NULL, "no augmentation", NULL},                                             \
        {"no-shuffle", NULL, "keep the dataset order", NULL},                                      \
        {"sync-bn", NULL, "under mpirun: batch norm over the global batch, not each rank's",       \
         NULL},                                                                                    \
        {"device", "N|NAME", "OpenCL device (FOCUSNET_DEVICE; first GPU, else CPU)", NULL},        \
        {"smoothing", "EPS", "ls: label smoothing epsilon (0.1)", NULL},                           \
        {"kd-temperature", "T", "kd: temperature (4)", NULL},                                      \
        {"kd-weight", "W", "kd: weight of the distillation term (0.9)", NULL},                     \
        {"alpha", "A", "focus: weight of R_att (1)", NULL},                                        \
        {"beta", "B", "focus: weight of R_ent (1)", NULL},                                         \
        {"detach-d", NULL, "focus: no gradient through d", NULL},                                  \
        {"multiwarm", "logit|softmax", "focus: multi-warm rule (logit: z_b > 0, the paper)",       \
         NULL},                                                                                    \
        {"multiwarm-temperature", "T", "focus: T of the softmax rule (2)", NULL},                  \
        {"cls-smoothing", "EPS", "focus: label smoothing inside L_cls (0)", NULL},                 \
    {                                                                                              \
        "authors", NULL, "focus: the authors' released variant (softmax rule T=2, eps 0.1)", NULL  \
    }

/* The options --resume may go with: where to run and how far, not what. */
static const char *const resume_ok[] = {"resume",    "device",     "epochs",
                                        "max-steps", "save-every", NULL};

static int resume_options_ok(const cli_opt *opts)
{
    for (const cli_opt *o = opts; o->name; o++) {
        if (!o->value) continue;
        int ok = 0;
        for (int i = 0; resume_ok[i]; i++)
            ok |= strcmp(o->name, resume_ok[i]) == 0;
        if (!ok) {
            fprintf(stderr,
                    "focusnet train: option '--%s' cannot go with --resume (a resumed run keeps "
                    "its configuration; only --device, --epochs, --max-steps and --save-every "
                    "may be given)\n",
                    o->name);
            return 0;
        }
    }
    return 1;
}

/* Under mpirun: the rank's GPU by its rank on this machine, so that N ranks
 * on a machine with N GPUs take one each; NULL (the default device, shared)
 * where there is no GPU. */
static const char *rank_device(char *buf, size_t n)
{
    fn_device_info info[64];
    int count = 0, gpus[64], ng = 0;
    if (fn_devices_list(info, 64, &count) != FN_OK) return NULL;
    for (int i = 0; i < count && i < 64; i++)
        if (info[i].is_gpu) gpus[ng++] = info[i].global_index;
    if (ng == 0) return NULL;
    snprintf(buf, n, "%d", gpus[cli_comm_local_rank() % ng]);
    return buf;
}

int cmd_train(int argc, char **argv)
{
    cli_opt opts[] = {TRAIN_OPTIONS,
                      {"out", "DIR", "run directory (runs/train)", NULL},
                      {"resume", "DIR", "continue the run in DIR where it was interrupted", NULL},
                      {"overwrite", NULL, "start over in an --out DIR that holds a run", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos,
        rc = cli_parse("train", "[options] | --resume DIR", opts, argc, argv, pos, 0, &n_pos);
    if (rc < 0)
        printf("\nexit status: 0 done (or --max-steps reached), 1 runtime error, 2 usage error,\n"
               "130 / 143 stopped by SIGINT / SIGTERM after saving (continue with --resume)\n");
    if (rc) return rc < 0 ? 0 : rc;
    fn_train_config c;
    fn_train_config_default(&c);
    const char *resume = cli_get(opts, "resume");
    if (resume && !resume_options_ok(opts)) return EXIT_USAGE;
    if (resume) c.epochs = 0; /* 0: as the run was started */
    if ((rc = cli_train_options("train", opts, &c))) return rc;
    if (!resume) {
        c.overwrite = cli_get(opts, "overwrite") != NULL;
        /* Before any data is read: a folder holding a run is a usage error. */
        fn_status cs = fn_train_check_out_dir(c.out_dir, c.overwrite);
        if (cs != FN_OK) {
            cli_fail("train");
            return cs == FN_ERR_ARG ? EXIT_USAGE : EXIT_RUNTIME;
        }
    }
    cli_catch_sigint(&c.stop);
    c.progress = cli_progress;
    c.user = (void *)"train";
    c.comm = cli_comm_open();
    char dev[32];
    if (c.comm && !c.device && !getenv("FOCUSNET_DEVICE")) c.device = rank_device(dev, sizeof dev);
    fn_train_result r;
    fn_status st = resume ? fn_train_resume(resume, &c, &r) : fn_train(&c, &r);
    if (st != FN_OK) {
        rc = cli_fail("train");
        cli_comm_close(c.comm, r.started);
        return rc;
    }
    int rank = c.comm ? c.comm->rank(c.comm) : 0;
    int stop_code = stop_exit_code(c.comm, r.stopped);
    cli_comm_close(c.comm, 0);
    if (rank != 0) { /* rank 0 reports for the job */
        fn_eval_report_free(&r.report);
        return stop_code;
    }
    const char *dir = resume ? resume : c.out_dir;
    if (r.best_epoch > 0)
        printf("%s: %d epochs, %ld steps in %.1f s; best top-1 %.2f%% at epoch %d\n", dir,
               r.epochs_done, r.steps_done, r.seconds, 100 * r.best_top1, r.best_epoch);
    else
        printf("%s: %ld steps in %.1f s; no epoch completed yet\n", dir, r.steps_done, r.seconds);
    /* The class names the checkpoint holds, from its metadata alone. */
    char path[4200], **names = NULL;
    int n_names = 0;
    snprintf(path, sizeof path, "%s/last.safetensors", dir);
    if (fn_checkpoint_class_names(path, &n_names, &names) != FN_OK || n_names != r.report.classes)
        n_names = 0;
    cli_print_report(&r.report, n_names ? (const char *const *)names : NULL, 0);
    for (int i = 0; names && i < n_names; i++)
        free(names[i]);
    free(names);
    /* Name only what is there: a run stopped in its first epoch has no best. */
    if (r.best_epoch > 0)
        printf("checkpoints: %s/best.safetensors, %s/last.safetensors; log: %s/log.jsonl\n", dir,
               dir, dir);
    else
        printf("checkpoint: %s/last.safetensors; log: %s/log.jsonl\n", dir, dir);
    if (r.stopped)
        printf("stopped early; saved %s/last.safetensors; continue with: focusnet train --resume "
               "%s\n",
               dir, dir);
    fn_eval_report_free(&r.report);
    return stop_code;
}
