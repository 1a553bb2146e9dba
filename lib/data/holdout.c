/* "holdout:N:SPEC": a validation split carved out of SPEC's training split,
 * so that a setting (a learning rate, say) is chosen without looking at the
 * test set. Its "test" split is N training images, the last ones of each
 * class in file order, spread evenly across classes as --limit-train spreads
 * them; its "train" split is the other training images, in their order.
 * SPEC's test split is never read. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "internal.h"

fn_status fn_dataset_open_holdout(const char *arg, const char *split, int limit, int channels,
                                  int height, int width, fn_dataset **out)
{
    *out = NULL;
    char *end;
    long n_out = strtol(arg, &end, 10);
    if (end == arg || *end != ':' || !end[1] || n_out < 1 || n_out > INT_MAX)
        return fn_error(FN_ERR_ARG,
                        "dataset \"holdout:%s\": expected holdout:N:SPEC with N >= 1 training "
                        "images held out of SPEC",
                        arg);
    fn_dataset *d;
    FN_TRY(fn_dataset_open_sized(end + 1, "train", 0, channels, height, width, &d));
    if (n_out >= d->n) {
        fn_status e = fn_error(FN_ERR_ARG,
                               "dataset \"holdout:%s\": %ld held out of %d training images "
                               "leaves none to train on",
                               arg, n_out, d->n);
        fn_dataset_free(d);
        return e;
    }
    int *count = calloc((size_t)d->classes * 2, sizeof(int));
    char *held = calloc((size_t)d->n, 1);
    if (!count || !held) {
        free(count);
        free(held);
        fn_dataset_free(d);
        return fn_error(FN_ERR_NOMEM, "%s: no memory", d->name);
    }
    int *quota = count + d->classes;
    for (int i = 0; i < d->n; i++)
        count[d->labels[i]]++;
    fn_limit_quotas(count, d->classes, (int)n_out, quota);
    for (int i = d->n - 1; i >= 0; i--)
        if (quota[d->labels[i]] > 0) {
            quota[d->labels[i]]--;
            held[i] = 1;
        }
    /* Keep one side in place, in order. */
    int want = strcmp(split, "test") == 0, kept = 0;
    size_t per = (size_t)d->c * d->h * d->w;
    for (int i = 0; i < d->n; i++) {
        if (held[i] != want) continue;
        if (kept != i) {
            memmove(d->images + (size_t)kept * per, d->images + (size_t)i * per, per);
            d->labels[kept] = d->labels[i];
        }
        kept++;
    }
    d->n = kept;
    free(count);
    free(held);
    fn_status st = fn_dataset_apply_limit(d, limit);
    if (st != FN_OK) {
        fn_dataset_free(d);
        return st;
    }
    *out = d;
    return FN_OK;
}
