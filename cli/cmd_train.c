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

/* The options `train`, `demo` and `compare` share come from the library's
 * table (lib/train/options.def); returns 0 or an exit code. */
int cli_train_options(const char *cmd, const cli_opt *o, fn_train_config *c)
{
    const fn_train_option *t;
    for (int i = 0; (t = fn_train_option_at(i)) != NULL; i++) {
        const char *v = cli_get(o, t->name);
        if (v && fn_train_option_set(c, i, v) != FN_OK) {
            fprintf(stderr, "focusnet %s: %s\n", cmd, fn_last_error());
            return EXIT_USAGE;
        }
    }
    return 0;
}

cli_opt cli_train_opt(const char *name, const char *help)
{
    const fn_train_option *t = fn_train_option_at(fn_train_option_find(name));
    cli_opt o = {name, NULL, help, NULL};
    if (t) o.arg = t->arg;
    if (t && !help) o.help = t->help;
    return o;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --resume goes with the options the table marks: where to run and how
 * far, not what. */
static int resume_options_ok(const cli_opt *opts)
{
    const char *ok[64];
    int n = 0;
    const fn_train_option *t;
    for (int i = 0; (t = fn_train_option_at(i)) != NULL && n < 64; i++)
        if (t->resume_ok) ok[n++] = t->name;
    qsort(ok, (size_t)n, sizeof *ok, by_name);
    for (const cli_opt *o = opts; o->name; o++) {
        if (!o->value || strcmp(o->name, "resume") == 0) continue;
        int allowed = 0;
        for (int i = 0; i < n; i++)
            allowed |= strcmp(o->name, ok[i]) == 0;
        if (allowed) continue;
        char list[400] = "";
        for (int i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s--%s",
                     i == 0       ? ""
                     : i == n - 1 ? " and "
                                  : ", ",
                     ok[i]);
        fprintf(stderr,
                "focusnet train: option '--%s' cannot go with --resume (a resumed run keeps "
                "its configuration; only %s may be given)\n",
                o->name, list);
        return 0;
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
    cli_opt opts[80];
    int n = 0;
    const fn_train_option *t;
    for (int i = 0; (t = fn_train_option_at(i)) != NULL && n < 76; i++)
        opts[n++] = (cli_opt){t->name, t->arg, t->help, NULL};
    opts[n++] = (cli_opt){"out", "DIR", "run directory (runs/train)", NULL};
    opts[n++] =
        (cli_opt){"resume", "DIR", "continue the run in DIR where it was interrupted", NULL};
    opts[n++] = (cli_opt){"overwrite", NULL, "start over in an --out DIR that holds a run", NULL};
    opts[n] = (cli_opt){NULL, NULL, NULL, NULL};
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
    if (cli_get(opts, "out")) c.out_dir = cli_get(opts, "out");
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
