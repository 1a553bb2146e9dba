/* The training options of options.def, one table used four ways: the
 * defaults of fn_train_config, the resume state's focusnet.config (written
 * and read back), and the command line through fn_train_option_* (names,
 * help, values from text with their ranges). A new option is one row there. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

enum { INT, LONG, U64, FLOAT, ON, OFF, STR, CHOICE, LOSS, STEM, LIST, AUTHORS };
enum { FN_OPT_RESUME = 1, FN_OPT_NULLABLE = 2 };

typedef struct {
    fn_train_option pub;
    int kind;
    size_t off; /* of the field in fn_train_config */
    const char *def;
    double lo, hi; /* on the command line */
    const char *key;
    double slo, shi; /* in a saved state */
    const char *absent;
    int flags;
} row;

static const row rows[] = {
#define FN_OPTION(name, arg, kind, field, def, lo, hi, key, slo, shi, absent, flags, help)         \
    {{name, arg, help, ((flags)&FN_OPT_RESUME) != 0},                                              \
     kind,                                                                                         \
     offsetof(fn_train_config, field),                                                             \
     def,                                                                                          \
     lo,                                                                                           \
     hi,                                                                                           \
     key,                                                                                          \
     slo,                                                                                          \
     shi,                                                                                          \
     absent,                                                                                       \
     flags},
#include "options.def"
#undef FN_OPTION
};
enum { N_ROWS = sizeof rows / sizeof rows[0] };

/* Every row's field has the size its kind writes: a row naming a float
 * field INT fails to compile. Enums are int-sized (checked too). */
#define SIZE_INT sizeof(int)
#define SIZE_ON sizeof(int)
#define SIZE_OFF sizeof(int)
#define SIZE_STEM sizeof(int)
#define SIZE_CHOICE sizeof(int)
#define SIZE_LOSS sizeof(int)
#define SIZE_LONG sizeof(long)
#define SIZE_U64 sizeof(uint64_t)
#define SIZE_FLOAT sizeof(float)
#define SIZE_STR sizeof(const char *)
#define SIZE_LIST sizeof(fn_schedule_opts)
#define SIZE_AUTHORS sizeof(fn_loss_opts)
#define FN_OPTION(name, arg, kind, field, def, lo, hi, key, slo, shi, absent, flags, help)         \
    _Static_assert(sizeof(((fn_train_config *)0)->field) == SIZE_##kind,                           \
                   "options.def: " #field " is not of kind " #kind);
#include "options.def"
#undef FN_OPTION

static void *field(fn_train_config *c, const row *r)
{
    return (char *)c + r->off;
}

static const void *cfield(const fn_train_config *c, const row *r)
{
    return (const char *)c + r->off;
}

/* ---- the command line ---- */

static const row *option_row(int i)
{
    for (int k = 0; k < N_ROWS; k++)
        if (rows[k].pub.name && i-- == 0) return &rows[k];
    return NULL;
}

const fn_train_option *fn_train_option_at(int i)
{
    const row *r = i >= 0 ? option_row(i) : NULL;
    return r ? &r->pub : NULL;
}

int fn_train_option_find(const char *name)
{
    for (int i = 0; name && fn_train_option_at(i); i++)
        if (strcmp(fn_train_option_at(i)->name, name) == 0) return i;
    return -1;
}

/* The index of s among the '|'-separated names of list, or -1. */
static int choice_index(const char *list, const char *s)
{
    size_t n = strlen(s);
    int i = 0;
    for (const char *p = list; p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0) return i;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

/* "a|b|c" as "a, b or c". */
static void choice_words(const char *list, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = list; *p && o + 5 < size; p++) {
        if (*p != '|') {
            out[o++] = *p;
            continue;
        }
        const char *sep = strchr(p + 1, '|') ? ", " : " or ";
        for (const char *q = sep; *q && o + 1 < size; q++)
            out[o++] = *q;
    }
    out[o] = 0;
}

/* "30,60": increasing epochs in [lo, hi]. */
static int parse_list(const char *s, double lo, double hi, fn_schedule_opts *o)
{
    o->n_milestones = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < lo || v > hi || o->n_milestones >= FN_MAX_MILESTONES) return 0;
        if (o->n_milestones > 0 && v <= o->milestones[o->n_milestones - 1]) return 0;
        o->milestones[o->n_milestones++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return o->n_milestones > 0;
}

/* Sets r's field from text; check: the command line's range (defaults are
 * taken as written). */
static fn_status set_text(fn_train_config *c, const row *r, const char *v, int check)
{
    const char *name = r->pub.name ? r->pub.name : r->key;
    void *f = field(c, r);
    int kind = r->kind;
    if (!check && (kind == ON || kind == OFF || kind == STEM)) kind = INT;
    char words[200];
    switch (kind) {
    case INT:
    case LONG:
    case U64: {
        char *end;
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || (check && (x < (long)r->lo || x > (long)r->hi)))
            return fn_error(FN_ERR_ARG,
                            "option '--%s' needs a whole number from %ld to %ld, not '%s'", name,
                            (long)r->lo, (long)r->hi, v);
        if (kind == INT) *(int *)f = (int)x;
        if (kind == LONG) *(long *)f = x;
        if (kind == U64) *(uint64_t *)f = (uint64_t)x;
        return FN_OK;
    }
    case FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || (check && !(x >= r->lo && x <= r->hi)))
            return fn_error(FN_ERR_ARG, "option '--%s' needs a number from %g to %g, not '%s'",
                            name, r->lo, r->hi, v);
        *(float *)f = (float)x;
        return FN_OK;
    }
    case ON:
    case OFF:
        *(int *)f = kind == ON;
        return FN_OK;
    case STR:
        *(const char **)f = v;
        return FN_OK;
    case CHOICE:
    case LOSS:
    case STEM: {
        int i = choice_index(r->pub.arg, v);
        if (i < 0) {
            choice_words(r->pub.arg, words, sizeof words);
            return fn_error(FN_ERR_ARG, "option '--%s' takes %s, not '%s'", name, words, v);
        }
        if (kind == LOSS) /* a loss starts from its own defaults */
            fn_loss_opts_default(&c->loss, (fn_loss_kind)i);
        else
            *(int *)f = kind == STEM ? i == 0 : i; /* small|imagenet: small_stem 1 or 0 */
        return FN_OK;
    }
    case LIST: {
        fn_schedule_opts o = *(fn_schedule_opts *)f; /* c unchanged on a bad list */
        if (!parse_list(v, r->lo, r->hi, &o))
            return fn_error(FN_ERR_ARG,
                            "option '--%s' takes increasing epochs like 30,60, not '%s'", name, v);
        *(fn_schedule_opts *)f = o;
        return FN_OK;
    }
    case AUTHORS:
        if (c->loss.kind != FN_LOSS_FOCUS)
            return fn_error(FN_ERR_ARG, "option '--%s' goes with --loss focus", name);
        fn_loss_opts_authors(&c->loss);
        return FN_OK;
    }
    return fn_error(FN_ERR_ARG, "option '--%s': unknown kind", name);
}

fn_status fn_train_option_set(fn_train_config *c, int i, const char *value)
{
    const row *r = i >= 0 ? option_row(i) : NULL;
    if (!c || !r) return fn_error(FN_ERR_ARG, "fn_train_option_set: no option %d", i);
    if (!value) return fn_error(FN_ERR_ARG, "option '--%s' needs a value", r->pub.name);
    return set_text(c, r, value, 1);
}

void fn_train_config_default(fn_train_config *c)
{
    memset(c, 0, sizeof *c);
    fn_loss_opts_default(&c->loss, FN_LOSS_CE);
    fn_sgd_opts_default(&c->sgd);
    for (int k = 0; k < N_ROWS; k++)
        if (rows[k].def) set_text(c, &rows[k], rows[k].def, 0); /* checked by test_options */
    c->out_dir = "runs/train";
}

/* ---- the resume state: focusnet.config ---- */

/* The object a key goes into ("loss.kind": o's "loss", created at its first
 * key) and the key's own name there. */
/* The bytes a row's field holds (STR: the pointer; hashed by its text). */
static size_t kind_size(int kind)
{
    switch (kind) {
    case LONG:
        return sizeof(long);
    case U64:
        return sizeof(uint64_t);
    case FLOAT:
        return sizeof(float);
    case STR:
        return sizeof(const char *);
    case LIST:
        return sizeof(fn_schedule_opts);
    case AUTHORS:
        return sizeof(fn_loss_opts);
    default:
        return sizeof(int);
    }
}

/* Every saved row: the state keeps exactly what a resume needs to make the
 * same steps, so the same rows are what ranks must agree on, and a new row
 * joins the hash without a line of its own. (LIST hashes the whole
 * fn_schedule_opts: 4-byte fields, no padding.) */
uint64_t fn_train_options_hash(uint64_t h, const fn_train_config *c)
{
    for (int k = 0; k < N_ROWS; k++) {
        const row *r = &rows[k];
        if (!r->key) continue;
        const void *p = cfield(c, r);
        if (r->kind == STR) {
            const char *s = *(const char *const *)p;
            s = s ? s : "";
            h = fn_hash64(h, s, strlen(s) + 1);
        } else {
            h = fn_hash64(h, p, kind_size(r->kind));
        }
    }
    return h;
}

static cJSON *key_object(cJSON *o, const char *key, const char **k)
{
    const char *dot = strchr(key, '.');
    *k = dot ? dot + 1 : key;
    if (!dot) return o;
    char group[32];
    snprintf(group, sizeof group, "%.*s", (int)(dot - key), key);
    cJSON *g = cJSON_GetObjectItemCaseSensitive(o, group);
    if (!g) {
        g = cJSON_CreateObject();
        cJSON_AddItemToObject(o, group, g);
    }
    return g;
}

/* The name at index i of a '|'-list (the first one when out of range). */
static void choice_name(const char *list, int i, char *out, size_t size)
{
    const char *p = list;
    for (int k = 0; k < i && strchr(p, '|'); k++)
        p = strchr(p, '|') + 1;
    snprintf(out, size, "%.*s", (int)strcspn(p, "|"), p);
}

char *fn_train_config_json(const fn_train_config *c)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < N_ROWS; i++) {
        const row *r = &rows[i];
        if (!r->key) continue;
        const char *k;
        cJSON *into = key_object(o, r->key, &k);
        const void *f = cfield(c, r);
        char text[64];
        switch (r->kind) {
        case INT:
        case ON:
        case OFF:
        case STEM:
            cJSON_AddNumberToObject(into, k, *(const int *)f);
            break;
        case LONG:
            cJSON_AddNumberToObject(into, k, (double)*(const long *)f);
            break;
        case FLOAT:
            cJSON_AddNumberToObject(into, k, *(const float *)f);
            break;
        case U64: /* a string: a double holds 53 bits */
            snprintf(text, sizeof text, "%llu", (unsigned long long)*(const uint64_t *)f);
            cJSON_AddStringToObject(into, k, text);
            break;
        case STR:
            if (*(const char *const *)f)
                cJSON_AddStringToObject(into, k, *(const char *const *)f);
            else
                cJSON_AddNullToObject(into, k);
            break;
        case LOSS:
            cJSON_AddStringToObject(into, k, fn_loss_kind_name(c->loss.kind));
            break;
        case CHOICE:
            choice_name(r->pub.arg, *(const int *)f, text, sizeof text);
            cJSON_AddStringToObject(into, k, text);
            break;
        case LIST: {
            const fn_schedule_opts *s = f;
            cJSON *ms = cJSON_AddArrayToObject(into, k);
            for (int m = 0; ms && m < s->n_milestones && m < FN_MAX_MILESTONES; m++)
                cJSON_AddItemToArray(ms, cJSON_CreateNumber(s->milestones[m]));
            break;
        }
        }
    }
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* Reading trusts nothing: every key must be there (or predate its option),
 * of its type, in range. */
typedef struct {
    const char *path;
    fn_status st;
} reader;

static const cJSON *need(reader *r, const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v && r->st == FN_OK)
        r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config has no '%s'", r->path, k);
    return v;
}

static double num(reader *r, const cJSON *v, const char *k, double lo, double hi, int whole)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= lo && d <= hi) || (whole && d != floor(d))) {
        if (r->st == FN_OK)
            r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not a number in [%g, %g]",
                             r->path, k, lo, hi);
        return lo;
    }
    return d;
}

/* A string (or null when nullable) copied into s->strings[slot]. */
static const char *str(reader *r, fn_train_state *s, int slot, const cJSON *v, const char *k,
                       int nullable)
{
    if (nullable && cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 4000 ||
        slot >= (int)(sizeof s->strings / sizeof s->strings[0])) {
        r->st =
            fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not a usable string", r->path, k);
        return NULL;
    }
    s->strings[slot] = strdup(v->valuestring);
    if (!s->strings[slot]) r->st = fn_error(FN_ERR_NOMEM, "out of host memory");
    return s->strings[slot];
}

/* One saved value v of row rw into c. */
static void read_value(reader *r, fn_train_state *s, int *slot, const row *rw, const cJSON *v,
                       const char *k)
{
    fn_train_config *c = &s->c;
    void *f = field(c, rw);
    switch (rw->kind) {
    case INT:
    case ON:
    case OFF:
    case STEM:
        *(int *)f = (int)num(r, v, k, rw->slo, rw->shi, 1);
        break;
    case LONG:
        *(long *)f = (long)num(r, v, k, rw->slo, rw->shi, 1);
        break;
    case FLOAT:
        *(float *)f = (float)num(r, v, k, rw->slo, rw->shi, 0);
        break;
    case U64: {
        char *end = NULL;
        if (cJSON_IsString(v) && v->valuestring[0] >= '0' && v->valuestring[0] <= '9') {
            errno = 0;
            unsigned long long x = strtoull(v->valuestring, &end, 10);
            if (errno == 0 && end && *end == 0) *(uint64_t *)f = x;
        }
        if (!(end && *end == 0))
            r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not a decimal string",
                             r->path, k);
        break;
    }
    case STR:
        *(const char **)f = str(r, s, (*slot)++, v, k, (rw->flags & FN_OPT_NULLABLE) != 0);
        break;
    case LOSS:
        if (!cJSON_IsString(v) || fn_loss_kind_parse(v->valuestring, &c->loss.kind) != FN_OK)
            r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config has an unknown loss", r->path);
        break;
    case CHOICE: {
        int i = cJSON_IsString(v) ? choice_index(rw->pub.arg, v->valuestring) : -1;
        if (i >= 0) {
            *(int *)f = i;
        } else {
            char words[200];
            choice_words(rw->pub.arg, words, sizeof words);
            r->st =
                fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not %s", r->path, k, words);
        }
        break;
    }
    case LIST: {
        fn_schedule_opts *o = f;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > FN_MAX_MILESTONES) {
            r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not a short array",
                             r->path, k);
            break;
        }
        o->n_milestones = 0;
        for (const cJSON *m = v->child; m && r->st == FN_OK; m = m->next) {
            if (!cJSON_IsNumber(m) || !(m->valuedouble >= rw->slo && m->valuedouble <= rw->shi))
                r->st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config has a bad milestone", r->path);
            else
                o->milestones[o->n_milestones++] = (int)m->valuedouble;
        }
        break;
    }
    }
}

fn_status fn_train_config_parse(const char *json, const char *path, fn_train_state *s)
{
    fn_train_config *c = &s->c;
    fn_train_config_default(c);
    c->out_dir = NULL;
    reader r = {path, FN_OK};
    cJSON *o = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.config is not a JSON object", path);
    }
    int slot = 0;
    for (int i = 0; i < N_ROWS && r.st == FN_OK; i++) {
        const row *rw = &rows[i];
        if (!rw->key) continue;
        const cJSON *into = o;
        const char *k = rw->key, *dot = strchr(k, '.');
        if (dot) {
            char group[32];
            snprintf(group, sizeof group, "%.*s", (int)(dot - k), k);
            into = need(&r, o, group);
            if (r.st == FN_OK && !cJSON_IsObject(into))
                r.st = fn_error(FN_ERR_FORMAT, "%s: focusnet.config '%s' is not an object", path,
                                group);
            if (r.st != FN_OK) break;
            k = dot + 1;
        }
        if (rw->absent && !cJSON_HasObjectItem(into, k)) {
            set_text(c, rw, rw->absent, 0);
            continue;
        }
        const cJSON *v = need(&r, into, k);
        if (v) read_value(&r, s, &slot, rw, v, k);
    }
    cJSON_Delete(o);
    return r.st;
}
