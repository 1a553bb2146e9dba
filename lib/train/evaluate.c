/* Evaluation: top-1, top-5, mean cross-entropy, per-class accuracy and the
 * confusion matrix, over a dataset split, in evaluation mode. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/data.h"
#include "../nn/model.h"
#include "train.h"

void fn_eval_report_free(fn_eval_report *r)
{
    if (!r) return;
    free(r->confusion);
    free(r->class_acc);
    memset(r, 0, sizeof *r);
}

fn_status fn_eval_begin(fn_eval_report *r, int classes)
{
    memset(r, 0, sizeof *r);
    r->classes = classes;
    r->confusion = calloc((size_t)classes * classes, sizeof *r->confusion);
    r->class_acc = calloc((size_t)classes, sizeof *r->class_acc);
    if (!r->confusion || !r->class_acc) {
        fn_eval_report_free(r);
        return fn_error(FN_ERR_NOMEM, "out of host memory for a %d-class confusion matrix",
                        classes);
    }
    return FN_OK;
}

void fn_eval_add(fn_eval_report *r, const float *logits, const int32_t *labels, int n)
{
    int k = r->classes;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int y = labels[i], best = 0, above = 0;
        double mx = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > z[best]) best = j;
        for (int j = 0; j < k; j++) {
            if (z[j] > mx) mx = z[j];
            if (z[j] > z[y]) above++; /* classes ranked above the true one */
        }
        double s = 0;
        for (int j = 0; j < k; j++)
            s += exp((double)z[j] - mx);
        r->loss += log(s) + mx - z[y];
        r->top1 += best == y;
        r->top5 += above < 5;
        r->confusion[(size_t)y * k + best]++;
        r->n++;
    }
}

void fn_eval_end(fn_eval_report *r)
{
    int k = r->classes;
    if (r->n) {
        r->loss /= r->n;
        r->top1 /= r->n;
        r->top5 /= r->n;
    }
    for (int c = 0; c < k; c++) {
        int64_t row = 0;
        for (int j = 0; j < k; j++)
            row += r->confusion[(size_t)c * k + j];
        r->class_acc[c] = row ? (double)r->confusion[(size_t)c * k + c] / row : 0.0;
    }
}

fn_status fn_evaluate_dataset(fn_model *m, const fn_dataset *d, fn_eval_report *out)
{
    return fn_evaluate_dataset_comm(m, d, NULL, out);
}

fn_status fn_evaluate_dataset_comm(fn_model *m, const fn_dataset *d, const fn_comm *comm,
                                   fn_eval_report *out)
{
    int rank = comm ? comm->rank(comm) : 0, size = comm ? comm->size(comm) : 1;
    const fn_model_config *c = &m->cfg;
    if (fn_dataset_classes(d) != c->classes || fn_dataset_channels(d) != c->channels ||
        fn_dataset_height(d) != c->height || fn_dataset_width(d) != c->width_px)
        return fn_error(FN_ERR_MISMATCH,
                        "dataset %s has %d classes of %dx%dx%d images; the model expects %d "
                        "classes of %dx%dx%d",
                        fn_dataset_name(d), fn_dataset_classes(d), fn_dataset_channels(d),
                        fn_dataset_height(d), fn_dataset_width(d), c->classes, c->channels,
                        c->height, c->width_px);
    fn_loader_opts lo = {0};
    lo.batch = m->max_batch;
    lo.pad = -1;
    lo.flip = -1;
    memcpy(lo.mean, m->meta.mean, sizeof lo.mean);
    memcpy(lo.std, m->meta.std, sizeof lo.std);
    fn_loader *l = NULL;
    FN_TRY(fn_loader_create(d, &lo, &l));
    fn_status st = fn_eval_begin(out, c->classes);
    float *logits = malloc((size_t)m->max_batch * c->classes * sizeof *logits);
    if (st == FN_OK && !logits) st = fn_error(FN_ERR_NOMEM, "out of host memory");
    if (st == FN_OK) st = fn_loader_start(l, 0, 0);
    for (int b = 0; st == FN_OK; b++) {
        const float *x;
        const int32_t *y;
        int n = 0;
        st = fn_loader_next(l, &x, &y, &n);
        if (st != FN_OK || n == 0) break;
        if (b % size != rank) continue; /* another rank's batch */
        st = fn_model_predict(m, x, n, logits);
        if (st == FN_OK) fn_eval_add(out, logits, y, n);
    }
    /* A rank that failed here returns; the others then wait in the reduce
     * until the caller's abort ends the job. */
    if (st == FN_OK) st = fn_dp_eval_reduce(comm, out);
    fn_eval_end(out);
    free(logits);
    fn_loader_free(l);
    if (st != FN_OK) fn_eval_report_free(out);
    return st;
}

fn_status fn_evaluate(fn_model *m, const char *data, const char *split, int limit,
                      fn_eval_report *out)
{
    memset(out, 0, sizeof *out);
    fn_dataset *d = NULL;
    const fn_model_config *c = &m->cfg;
    FN_TRY(fn_dataset_open_sized(data, split, limit, c->channels, c->height, c->width_px, &d));
    fn_status st = FN_OK;
    if (fn_dataset_classes(d) == c->classes)
        st = fn_model_check_dataset_classes(m, "the checkpoint", d, data);
    if (st == FN_OK) st = fn_evaluate_dataset(m, d, out);
    fn_dataset_free(d);
    return st;
}

int fn_eval_confused_pairs(const fn_eval_report *r, int n, int *true_class, int *pred_class,
                           int64_t *count)
{
    int found = 0, k = r->classes;
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            int64_t v = r->confusion[(size_t)t * k + p];
            if (t == p || v == 0) continue;
            /* Insertion into the sorted top n. */
            int pos = found < n ? found : n;
            while (pos > 0 && count[pos - 1] < v)
                pos--;
            if (pos >= n) continue;
            int last = found < n ? found : n - 1;
            for (int j = last; j > pos; j--) {
                true_class[j] = true_class[j - 1];
                pred_class[j] = pred_class[j - 1];
                count[j] = count[j - 1];
            }
            true_class[pos] = t;
            pred_class[pos] = p;
            count[pos] = v;
            if (found < n) found++;
        }
    return found;
}
