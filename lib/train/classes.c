/* Class names where a checkpoint meets a dataset or another checkpoint:
 * counts alone let a (cat, dog, ship) model report planes as ships on a
 * (cat, dog, plane) dataset. A list whose names are only the indices ("0",
 * "1", ...: a checkpoint without names, MNIST's digits) matches any list of
 * its length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/data.h"
#include "../nn/model.h"
#include "train.h"

typedef const char *(*name_fn)(const void *owner, int i);

static const char *model_name(const void *m, int i)
{
    return fn_model_class_name(m, i);
}

static const char *dataset_name(const void *d, int i)
{
    const char *n = fn_dataset_class_name(d, i);
    return n ? n : "";
}

static int numeric(const void *o, name_fn name, int k)
{
    for (int i = 0; i < k; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        if (strcmp(name(o, i), num) != 0) return 0;
    }
    return 1;
}

/* "(a, b, c)", at most 16 names and ~400 bytes shown. */
static void list(const void *o, name_fn name, int k, char *out, size_t n)
{
    size_t at = (size_t)snprintf(out, n, "(");
    for (int i = 0; i < k && at < n; i++) {
        if (i == 16 || at > 400) {
            at += (size_t)snprintf(out + at, n - at, ", ... %d in all", k);
            break;
        }
        at += (size_t)snprintf(out + at, n - at, "%s%s", i ? ", " : "", name(o, i));
    }
    if (at < n) snprintf(out + at, n - at, ")");
    /* One line, whatever a folder was called. */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

static fn_status match(const void *a, name_fn na, int ka, const char *what_a, const void *b,
                       name_fn nb, int kb, const char *what_b)
{
    int same = ka == kb;
    if (same && !numeric(a, na, ka) && !numeric(b, nb, kb))
        for (int i = 0; same && i < ka; i++)
            same = strcmp(na(a, i), nb(b, i)) == 0;
    if (same) return FN_OK;
    char la[512], lb[512];
    list(a, na, ka, la, sizeof la);
    list(b, nb, kb, lb, sizeof lb);
    return fn_error(FN_ERR_MISMATCH, "the classes of %s %s differ from those of %s %s", what_a, la,
                    what_b, lb);
}

fn_status fn_model_check_classes(const fn_model *m, const char *what_m, const fn_model *other,
                                 const char *what_other)
{
    return match(m, model_name, m->cfg.classes, what_m, other, model_name, other->cfg.classes,
                 what_other);
}

fn_status fn_model_check_dataset_classes(const fn_model *m, const char *what_m, const fn_dataset *d,
                                         const char *what_d)
{
    return match(m, model_name, m->cfg.classes, what_m, d, dataset_name, fn_dataset_classes(d),
                 what_d);
}
