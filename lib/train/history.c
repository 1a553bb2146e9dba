/* A run's history read back from DIR/log.jsonl, the file fn_train appends an
 * epoch record to at every epoch end (train.c, epoch_record). `focusnet plot`
 * and the viewer's curves both read it here, so the format has one reader
 * next to its writer. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "focusnet.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static fn_status grow(fn_run_history *h, int *cap)
{
    if (h->n < *cap) return FN_OK;
    int nc = *cap ? 2 * *cap : 64;
    int *e = realloc(h->epoch, (size_t)nc * sizeof *e);
    if (e) h->epoch = e;
    double *l = realloc(h->train_loss, (size_t)nc * sizeof *l);
    if (l) h->train_loss = l;
    double *t = realloc(h->test_top1, (size_t)nc * sizeof *t);
    if (t) h->test_top1 = t;
    if (!e || !l || !t) return fn_error(FN_ERR_NOMEM, "out of memory reading a run's log");
    *cap = nc;
    return FN_OK;
}

fn_status fn_run_history_read(const char *dir, fn_run_history *h)
{
    if (!dir || !h) return fn_error(FN_ERR_ARG, "fn_run_history_read: NULL argument");
    memset(h, 0, sizeof *h);
    char path[4200];
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) return fn_error(FN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, have = 0;
    fn_status st = FN_OK;
    while (st == FN_OK && getline(&line, &cap, f) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        cJSON *o = cJSON_Parse(line);
        const cJSON *ep = o ? cJSON_GetObjectItemCaseSensitive(o, "epoch") : NULL;
        if (!o || !cJSON_IsNumber(ep) || ep->valuedouble < 1 || ep->valuedouble > 1e6) {
            st = fn_error(FN_ERR_FORMAT, "%s line %d is not an epoch record of focusnet train",
                          path, lineno);
        } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "partial")) &&
                   (st = grow(h, &have)) == FN_OK) {
            /* A stop inside an epoch ("partial") is not an epoch. */
            h->epoch[h->n] = (int)ep->valuedouble;
            h->train_loss[h->n] = num(o, "train_loss");
            h->test_top1[h->n] = num(o, "test_top1");
            h->n++;
        }
        cJSON_Delete(o);
    }
    if (st == FN_OK && ferror(f))
        st = fn_error(FN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    free(line);
    fclose(f);
    if (st == FN_OK && h->n == 0)
        st = fn_error(FN_ERR_FORMAT, "%s holds no finished epoch yet", path);
    if (st != FN_OK) fn_run_history_free(h);
    return st;
}

void fn_run_history_free(fn_run_history *h)
{
    if (!h) return;
    free(h->epoch);
    free(h->train_loss);
    free(h->test_top1);
    memset(h, 0, sizeof *h);
}
