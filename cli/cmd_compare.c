/* focusnet compare: does FocusNet help on this model and data? The baseline
 * and FocusNet (and on request label smoothing, KD, the authors' variant and
 * FocusNet guided by a weak baseline) over several seeds, with the paired
 * difference to the baseline per seed, its mean and a paired t-test, top-5,
 * and the confusions FocusNet fixed and broke. Runs go to OUT/METHOD-sSEED
 * and are reused: a finished one is only evaluated, an interrupted one
 * continues (fn_train_resume). OUT/recipe.txt keeps the recipe the runs were
 * made with, so a folder of other runs is never mixed in. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"

void cli_progress(const fn_train_progress *p, void *user);
void cli_catch_sigint(volatile int **flag);

const char *const method_names[N_METHODS] = {"ce",      "focus", "no-att", "no-ent", "cls-only",
                                             "authors", "ls",    "kd",     "weak",   "focus-weak"};
const char *const method_titles[N_METHODS] = {
    "baseline (cross-entropy)", "FocusNet (paper rule)",         "L_cls + R_ent (alpha 0)",
    "L_cls + R_att (beta 0)",   "L_cls only (alpha = beta = 0)", "FocusNet (authors' variant)",
    "label smoothing",          "KD from the baseline",          "weak baseline (1 epoch)",
    "FocusNet guided by weak"};

/* The methods trained with the focus loss against a frozen baseline. */
static int focus_loss(int m)
{
    return m == M_FOCUS || m == M_NO_ATT || m == M_NO_ENT || m == M_CLS_ONLY || m == M_AUTHORS ||
           m == M_FOCUS_WEAK;
}

static int parse_seeds(const char *s, compare *k)
{
    k->n_seeds = 0;
    while (s && *s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0) return 0;
        if (*end == '-') {
            const char *t = end + 1;
            b = strtol(t, &end, 10);
            if (end == t || b < a) return 0;
        }
        for (long v = a; v <= b; v++) {
            if (k->n_seeds >= MAX_SEEDS) return 0;
            k->seeds[k->n_seeds++] = (int)v;
        }
        if (*end && *end != ',') return 0;
        s = *end ? end + 1 : end;
    }
    return k->n_seeds >= 2;
}

static int parse_methods(const char *s, compare *k)
{
    memset(k->want, 0, sizeof k->want);
    k->want[M_CE] = k->want[M_FOCUS] = 1;
    if (!s) return 1;
    while (*s) {
        size_t len = strcspn(s, ",");
        int found = 0;
        for (int m = 0; m < N_METHODS; m++)
            if (strlen(method_names[m]) == len && strncmp(s, method_names[m], len) == 0)
                found = k->want[m] = 1;
        if (!found) return 0;
        s += len + (s[len] == ',');
    }
    if (k->want[M_FOCUS_WEAK]) k->want[M_WEAK] = 1;
    if (k->want[M_WEAK]) k->want[M_FOCUS_WEAK] = 1;
    return 1;
}

/* What makes runs comparable; another recipe in the same folder is refused. */
static void recipe_text(const fn_train_config *c, char *out, size_t n)
{
    int len =
        snprintf(out, n,
                 "model %s\ndata %s\nepochs %d\nbatch %d\nlr %g\nmomentum %g\nwd %g\n"
                 "limit-train %d\nlimit-test %d\ncosine %d\naugment %d\nmilestones",
                 c->arch, c->data, c->epochs, c->batch, c->sgd.lr, c->sgd.momentum,
                 c->sgd.weight_decay, c->limit_train, c->limit_test, c->sched.cosine, c->augment);
    for (int i = 0; i < c->sched.n_milestones && len > 0 && (size_t)len < n; i++)
        len += snprintf(out + len, n - len, " %d", c->sched.milestones[i]);
    if (len > 0 && (size_t)len < n) len += snprintf(out + len, n - len, "\n");
    /* Only when given, so that folders made before this line existed (with
     * the per-method default) still match. */
    if (c->sched.warmup_epochs >= 0 && len > 0 && (size_t)len < n)
        len += snprintf(out + len, n - len, "warmup-epochs %g\n", c->sched.warmup_epochs);
    if (c->sgd.clip_norm >= 0 && len > 0 && (size_t)len < n)
        snprintf(out + len, n - len, "clip-norm %g\n", c->sgd.clip_norm);
}

static int check_recipe(const char *out_dir, const fn_train_config *c)
{
    char want[2048], have[2048] = "", path[1100], tmp[1200];
    recipe_text(c, want, sizeof want);
    snprintf(path, sizeof path, "%s/recipe.txt", out_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(have, 1, sizeof have - 1, f);
        have[n] = 0;
        fclose(f);
        if (strcmp(have, want) == 0) return 0;
        fprintf(stderr,
                "focusnet compare: %s holds runs of another recipe (see its recipe.txt); give "
                "another --out or the same options\n",
                out_dir);
        return EXIT_USAGE;
    }
    mkdir(out_dir, 0755);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    int ok = f && fputs(want, f) >= 0;
    if (f) ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        fprintf(stderr, "focusnet compare: %s: cannot write\n", path);
        return EXIT_RUNTIME;
    }
    return 0;
}

/* One run, or its reuse; fills top-1, top-5 and adds its confusion matrix.
 * Returns 0, 1 (error, printed) or -1 (stopped). */
static int one_run(compare *k, int m, int si, const fn_train_config *base)
{
    fn_train_config c = *base;
    char dir[1100], ref[1200], label[64];
    int seed = k->seeds[si];
    if (m == M_KD && k->kd_lr > 0) {
        /* KD at its own rate: a folder of its own, so that several rates
         * share the baselines of one --out. */
        snprintf(dir, sizeof dir, "%s/kd-lr%g-s%d", k->out, k->kd_lr, seed);
        c.sgd.lr = (float)k->kd_lr;
    } else {
        snprintf(dir, sizeof dir, "%s/%s-s%d", k->out, method_names[m], seed);
    }
    snprintf(label, sizeof label, "%s s%d", method_names[m], seed);
    c.out_dir = dir;
    c.seed = (uint64_t)seed;
    c.user = label;
    fn_loss_kind kind = m == M_LS       ? FN_LOSS_LS
                        : m == M_KD     ? FN_LOSS_KD
                        : focus_loss(m) ? FN_LOSS_FOCUS
                                        : FN_LOSS_CE;
    fn_loss_opts_default(&c.loss, kind);
    if (m == M_AUTHORS) fn_loss_opts_authors(&c.loss);
    /* The ablation: L = L_cls + alpha R_att - beta R_ent with a term dropped. */
    if (m == M_NO_ATT || m == M_CLS_ONLY) c.loss.alpha = 0;
    if (m == M_NO_ENT || m == M_CLS_ONLY) c.loss.beta = 0;
    if (m == M_WEAK) c.epochs = 1; /* the paper's weak baseline: one epoch at the initial lr */
    if (kind == FN_LOSS_FOCUS || kind == FN_LOSS_KD) {
        snprintf(ref, sizeof ref, "%s/%s-s%d/last.safetensors", k->out,
                 method_names[m == M_FOCUS_WEAK ? M_WEAK : M_CE], seed);
        c.baseline = ref;
    }
    char state[1200];
    snprintf(state, sizeof state, "%s/state.safetensors", dir);
    int reuse = access(state, F_OK) == 0;
    fn_train_result r;
    fn_status st;
    if (reuse) {
        fn_train_config o;
        memset(&o, 0, sizeof o);
        o.device = c.device;
        o.epochs = c.epochs;
        o.progress = c.progress;
        o.user = c.user;
        o.stop = c.stop;
        st = fn_train_resume(dir, &o, &r);
    } else {
        fprintf(stderr, "%s: training -> %s\n", label, dir);
        st = fn_train(&c, &r);
    }
    if (st != FN_OK) return cli_fail("compare");
    if (reuse) fprintf(stderr, "%s: reused %s\n", label, dir);
    if (r.stopped) {
        fn_eval_report_free(&r.report);
        return -1;
    }
    method_result *mr = &k->res[m];
    mr->top1[si] = r.report.top1;
    mr->top5[si] = r.report.top5;
    if (!k->classes) k->classes = r.report.classes;
    if (!mr->confusion) mr->confusion = calloc((size_t)k->classes * k->classes, sizeof(int64_t));
    if (!mr->confusion || r.report.classes != k->classes) {
        fn_eval_report_free(&r.report);
        fprintf(stderr, "focusnet compare: out of memory or classes differ in %s\n", dir);
        return 1;
    }
    for (int i = 0; i < k->classes * k->classes; i++)
        mr->confusion[i] += r.report.confusion[i];
    fn_eval_report_free(&r.report);
    return 0;
}

/* The off-diagonal pairs whose count fell most (fixed) or rose most (broken)
 * from the baseline's matrices to method m's, summed over seeds. */
int compare_confusion_changes(const compare *k, int m, int fixed, int n, int *t, int *p,
                              int64_t *delta)
{
    int found = 0;
    const int64_t *a = k->res[M_CE].confusion, *b = k->res[m].confusion;
    for (int slot = 0; slot < n; slot++) {
        int64_t best = 0;
        int bi = -1, bj = -1;
        for (int i = 0; i < k->classes; i++)
            for (int j = 0; j < k->classes; j++) {
                if (i == j) continue;
                int64_t d = b[i * k->classes + j] - a[i * k->classes + j];
                if (fixed) d = -d;
                int taken = 0;
                for (int q = 0; q < found; q++)
                    taken |= t[q] == i && p[q] == j;
                if (d > best && !taken) {
                    best = d;
                    bi = i;
                    bj = j;
                }
            }
        if (bi < 0) break;
        t[found] = bi;
        p[found] = bj;
        delta[found++] = best;
    }
    return found;
}

int cmd_compare(int argc, char **argv)
{
    cli_opt opts[] = {
        cli_train_opt("model", NULL),
        cli_train_opt("data", "dataset (fashion-mnist)"),
        {"seeds", "LIST", "seeds, at least 2: 1,2,3 or 1-5 (1-3)", NULL},
        {"methods", "LIST",
         "besides ce and focus: no-att (alpha 0), no-ent (beta 0), cls-only (both 0), "
         "authors, ls, kd, weak (the weak baseline and FocusNet guided by it)",
         NULL},
        {"out", "DIR", "where the runs and results.md go; runs there are reused (runs/compare)",
         NULL},
        {"json", NULL, "print the results as JSON instead of a table", NULL},
        cli_train_opt("epochs", "epochs of every run (10)"),
        cli_train_opt("batch", NULL),
        cli_train_opt("lr", NULL),
        cli_train_opt("milestones", NULL),
        cli_train_opt("warmup-epochs", "linear lr warm-up (1 for focus and kd, else 0)"),
        cli_train_opt("clip-norm", NULL),
        {"kd-lr", "X", "learning rate of the kd runs only (--lr); runs go to OUT/kd-lrX-sN", NULL},
        {"no-focus", NULL, "leave FocusNet out (when tuning another method, e.g. --kd-lr)", NULL},
        {"holdout", "N",
         "hold N training images out (the last of each class) and evaluate on them instead "
         "of the test set, to choose a setting such as --kd-lr",
         NULL},
        cli_train_opt("limit-train", NULL),
        cli_train_opt("limit-test", NULL),
        cli_train_opt("device", "OpenCL device"),
        {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("compare", "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    static compare k;
    memset(&k, 0, sizeof k);
    if (!parse_seeds(cli_get(opts, "seeds") ? cli_get(opts, "seeds") : "1-3", &k)) {
        fprintf(stderr,
                "focusnet compare: option '--seeds' takes 2 to %d seeds like 1,2,3 or 1-5, not "
                "'%s'\n",
                MAX_SEEDS, cli_get(opts, "seeds"));
        return EXIT_USAGE;
    }
    if (!parse_methods(cli_get(opts, "methods"), &k)) {
        fprintf(stderr,
                "focusnet compare: option '--methods' takes ce, focus, no-att, no-ent, "
                "cls-only, authors, ls, kd, weak, not '%s'\n",
                cli_get(opts, "methods"));
        return EXIT_USAGE;
    }
    if (cli_get(opts, "no-focus")) k.want[M_FOCUS] = 0;
    fn_train_config c;
    fn_train_config_default(&c);
    c.arch = "lenet5";
    c.data = "fashion-mnist";
    if ((rc = cli_train_options("compare", opts, &c))) return rc;
    if ((rc = cli_float("compare", opts, "kd-lr", 1e-9, 1e9, &k.kd_lr))) return rc;
    long holdout = 0;
    if ((rc = cli_int("compare", opts, "holdout", 1, 1 << 30, &holdout))) return rc;
    static char spec[1100];
    if (holdout) {
        /* The held-out images are the "test" split of this spec: every run
         * trains without them and is evaluated on them (lib/data/holdout.c). */
        snprintf(spec, sizeof spec, "holdout:%ld:%s", holdout, c.data);
        c.data = spec;
        k.holdout = (int)holdout;
    }
    k.out = cli_get(opts, "out") ? cli_get(opts, "out") : "runs/compare";
    if ((rc = check_recipe(k.out, &c))) return rc;
    cli_catch_sigint(&c.stop);
    c.progress = cli_progress;
    time_t start = time(NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = 0;
    /* Seed by seed, the baselines first: each later run needs its baseline. */
    for (int si = 0; si < k.n_seeds && rc == 0; si++)
        for (int m = 0; m < N_METHODS && rc == 0; m++)
            if (k.want[m]) rc = one_run(&k, m, si, &c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    k.seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (rc < 0)
        printf("stopped; the runs so far are in %s; the same command continues\n", k.out);
    else if (rc == 0)
        rc = compare_report(&k, &c, cli_get(opts, "json") != NULL, start);
    for (int m = 0; m < N_METHODS; m++)
        free(k.res[m].confusion);
    return rc < 0 ? 0 : rc;
}
