/* focusnet compare's output: mean +- sd per method, the paired difference to
 * the baseline per seed with its mean and a paired t-test, and the
 * confusions fixed and broken; as a table on stdout, or JSON, and always as
 * OUT/results.md (with machine, date and wall time). */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"

#define N_CONF 3

typedef struct {
    double top1, top1_sd, top5, top5_sd;
    double diff[MAX_SEEDS];  /* top-1 of the method minus the baseline's, per seed */
    fn_paired_result paired; /* of those differences (n = 0 for the baseline) */
} summary;

static void summarize(const compare *k, int m, summary *s)
{
    memset(s, 0, sizeof *s);
    const method_result *r = &k->res[m];
    fn_mean_sd(r->top1, k->n_seeds, &s->top1, &s->top1_sd);
    fn_mean_sd(r->top5, k->n_seeds, &s->top5, &s->top5_sd);
    for (int i = 0; i < k->n_seeds; i++)
        s->diff[i] = r->top1[i] - k->res[M_CE].top1[i];
    if (m != M_CE) fn_paired_test(k->res[M_CE].top1, r->top1, k->n_seeds, &s->paired);
}

/* The class names of the data, or NULL (numbers are shown instead). */
static fn_dataset *names_of(const fn_train_config *c)
{
    fn_dataset *d = NULL;
    if (fn_dataset_open_sized(c->data, "test", 1, 0, 0, 0, &d) != FN_OK) return NULL;
    return d;
}

static const char *class_name(const fn_dataset *d, int i, char *buf, size_t n)
{
    const char *s = d ? fn_dataset_class_name(d, i) : NULL;
    if (s) return s;
    snprintf(buf, n, "%d", i);
    return buf;
}

static const char *title(const compare *k, int m)
{
    static char buf[64];
    if (m != M_KD || k->kd_lr <= 0) return method_titles[m];
    snprintf(buf, sizeof buf, "%s (lr %g)", method_titles[m], k->kd_lr);
    return buf;
}

static int is_focus(int m)
{
    return m == M_FOCUS || m == M_AUTHORS || m == M_FOCUS_WEAK;
}

/* The table and per-seed lines, as markdown (md) or plain text, into f. */
static void write_text(FILE *f, const compare *k, const fn_train_config *c, const fn_dataset *d,
                       int md)
{
    const char *bar = md ? "| " : "", *sep = md ? " | " : "  ", *end = md ? " |" : "";
    fprintf(f, "%s%s on %s, %d seeds (", md ? "# " : "", c->arch, c->data, k->n_seeds);
    for (int i = 0; i < k->n_seeds; i++)
        fprintf(f, "%s%d", i ? "," : "", k->seeds[i]);
    fprintf(f, "), %d epochs, batch %d, lr %g", c->epochs, c->batch, c->sgd.lr);
    if (c->limit_train) fprintf(f, ", at most %d training images", c->limit_train);
    if (c->limit_test) fprintf(f, ", at most %d test images", c->limit_test);
    if (k->kd_lr > 0) fprintf(f, " (kd: %g)", k->kd_lr);
    if (c->sched.warmup_epochs >= 0) fprintf(f, ", warm-up %g epochs", c->sched.warmup_epochs);
    if (c->sgd.clip_norm >= 0) fprintf(f, ", gradient-norm clip %g", c->sgd.clip_norm);
    if (k->holdout)
        fprintf(f,
                "; accuracy of the last epoch on %d held-out training images (not the test "
                "set), %%\n\n",
                k->holdout);
    else
        fprintf(f, "; test accuracy of the last epoch, %%\n\n");
    fprintf(f, "%s%-32s%s%-15s%s%-15s%s%-17s%s%s%s\n", bar, "method", sep, "top-1", sep, "top-5",
            sep, "paired top-1 diff", sep, "t-test p", end);
    if (md) fprintf(f, "|---|---|---|---|---|\n");
    for (int m = 0; m < N_METHODS; m++) {
        if (!k->want[m]) continue;
        summary s;
        summarize(k, m, &s);
        char t1[48], t5[48], diff[48] = "-", p[32] = "-";
        snprintf(t1, sizeof t1, "%.2f +- %.2f", 100 * s.top1, 100 * s.top1_sd);
        snprintf(t5, sizeof t5, "%.2f +- %.2f", 100 * s.top5, 100 * s.top5_sd);
        if (m != M_CE) {
            snprintf(diff, sizeof diff, "%+.2f +- %.2f", 100 * s.paired.mean, 100 * s.paired.sd);
            snprintf(p, sizeof p, "%.3g", s.paired.p);
        }
        fprintf(f, "%s%-32s%s%-15s%s%-15s%s%-17s%s%s%s\n", bar, title(k, m), sep, t1, sep, t5, sep,
                diff, sep, p, end);
    }
    fprintf(f, "\nper seed, top-1 minus the baseline's (points):\n\n");
    for (int m = 1; m < N_METHODS; m++) {
        if (!k->want[m]) continue;
        summary s;
        summarize(k, m, &s);
        fprintf(f, "%s%-12s", md ? "- " : "  ", method_names[m]);
        int better = 0;
        for (int i = 0; i < k->n_seeds; i++) {
            fprintf(f, " s%d %+.2f", k->seeds[i], 100 * s.diff[i]);
            better += s.diff[i] > 0;
        }
        fprintf(f, "  (better on %d of %d)\n", better, k->n_seeds);
    }
    for (int m = 1; m < N_METHODS; m++) {
        if (!k->want[m] || !is_focus(m)) continue;
        for (int fixed = 1; fixed >= 0; fixed--) {
            int t[N_CONF], p[N_CONF];
            int64_t delta[N_CONF];
            int n = compare_confusion_changes(k, m, fixed, N_CONF, t, p, delta);
            fprintf(f,
                    "\n%s confusions %s against the baseline (true -> predicted, images over "
                    "all seeds):%s\n",
                    method_names[m], fixed ? "fixed" : "broken", n ? "" : " none");
            for (int i = 0; i < n; i++) {
                char a[16], b[16];
                fprintf(f, "%s%s -> %s: %s%lld\n", md ? "- " : "  ",
                        class_name(d, t[i], a, sizeof a), class_name(d, p[i], b, sizeof b),
                        fixed ? "-" : "+", (long long)delta[i]);
            }
        }
    }
}

static cJSON *numbers(const double *x, int n, double scale)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(scale * x[i]));
    return a;
}

static char *json_text(const compare *k, const fn_train_config *c, const fn_dataset *d)
{
    cJSON *o = cJSON_CreateObject(), *ms = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "model", c->arch);
    cJSON_AddStringToObject(o, "data", c->data);
    cJSON_AddNumberToObject(o, "epochs", c->epochs);
    cJSON_AddNumberToObject(o, "batch", c->batch);
    cJSON_AddNumberToObject(o, "lr", c->sgd.lr);
    cJSON_AddNumberToObject(o, "holdout", k->holdout);
    double seeds[MAX_SEEDS];
    for (int i = 0; i < k->n_seeds; i++)
        seeds[i] = k->seeds[i];
    cJSON_AddItemToObject(o, "seeds", numbers(seeds, k->n_seeds, 1));
    cJSON_AddNumberToObject(o, "seconds", k->seconds);
    for (int m = 0; m < N_METHODS; m++) {
        if (!k->want[m]) continue;
        summary s;
        summarize(k, m, &s);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "method", method_names[m]);
        cJSON_AddStringToObject(e, "title", title(k, m));
        if (m == M_KD) cJSON_AddNumberToObject(e, "lr", k->kd_lr > 0 ? k->kd_lr : c->sgd.lr);
        cJSON_AddItemToObject(e, "top1", numbers(k->res[m].top1, k->n_seeds, 1));
        cJSON_AddItemToObject(e, "top5", numbers(k->res[m].top5, k->n_seeds, 1));
        cJSON_AddNumberToObject(e, "top1_mean", s.top1);
        cJSON_AddNumberToObject(e, "top1_sd", s.top1_sd);
        cJSON_AddNumberToObject(e, "top5_mean", s.top5);
        cJSON_AddNumberToObject(e, "top5_sd", s.top5_sd);
        if (m != M_CE) {
            cJSON *pd = cJSON_CreateObject();
            cJSON_AddItemToObject(pd, "diff", numbers(s.diff, k->n_seeds, 1));
            cJSON_AddNumberToObject(pd, "mean", s.paired.mean);
            cJSON_AddNumberToObject(pd, "sd", s.paired.sd);
            cJSON_AddNumberToObject(pd, "t", isfinite(s.paired.t) ? s.paired.t : 1e308);
            cJSON_AddNumberToObject(pd, "p", s.paired.p);
            cJSON_AddItemToObject(e, "paired", pd);
        }
        if (is_focus(m)) {
            for (int fixed = 1; fixed >= 0; fixed--) {
                int t[N_CONF], p[N_CONF];
                int64_t delta[N_CONF];
                int n = compare_confusion_changes(k, m, fixed, N_CONF, t, p, delta);
                cJSON *arr = cJSON_CreateArray();
                for (int i = 0; i < n; i++) {
                    char a[16], b[16];
                    cJSON *x = cJSON_CreateObject();
                    cJSON_AddStringToObject(x, "true", class_name(d, t[i], a, sizeof a));
                    cJSON_AddStringToObject(x, "predicted", class_name(d, p[i], b, sizeof b));
                    cJSON_AddNumberToObject(x, "images", (double)delta[i]);
                    cJSON_AddItemToArray(arr, x);
                }
                cJSON_AddItemToObject(e, fixed ? "confusions_fixed" : "confusions_broken", arr);
            }
        }
        cJSON_AddItemToArray(ms, e);
    }
    cJSON_AddItemToObject(o, "methods", ms);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    return text;
}

int compare_report(const compare *k, const fn_train_config *c, int json, time_t start)
{
    fn_dataset *d = names_of(c);
    int rc = 0;
    if (json) {
        char *text = json_text(k, c, d);
        if (text)
            printf("%s\n", text);
        else
            rc = EXIT_RUNTIME;
        free(text);
    } else {
        write_text(stdout, k, c, d, 0);
    }
    char path[1100], tmp[1200], host[256] = "?", date[64];
    snprintf(path, sizeof path, "%s/results.md", k->out);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    gethostname(host, sizeof host - 1);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&start));
    FILE *f = fopen(tmp, "w");
    if (f) {
        write_text(f, k, c, d, 1);
        fprintf(f,
                "\nfocusnet %s, `focusnet compare`; %s, %ld CPU cores, started %s, %.0f s "
                "(reused runs count only their evaluation)\n",
                FOCUSNET_VERSION, host, sysconf(_SC_NPROCESSORS_ONLN), date, k->seconds);
    }
    if (!f || ferror(f) | (fclose(f) != 0) || rename(tmp, path) != 0) {
        unlink(tmp);
        fprintf(stderr, "focusnet compare: %s: cannot write\n", path);
        rc = EXIT_RUNTIME;
    } else if (!json) {
        printf("\nwritten: %s\n", path);
    }
    fn_dataset_free(d);
    return rc;
}
