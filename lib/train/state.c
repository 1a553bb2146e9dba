/* The training state behind --resume: DIR/state.safetensors, a checkpoint
 * plus momentum buffers, the configuration and the position of the run.
 *
 * It is the single commit point of a run: it holds everything needed to
 * continue (weights and batch-norm statistics included), so it never has to
 * agree with another file. It is replaced atomically (temp file, fsync,
 * rename), after best.safetensors and last.safetensors and before log.jsonl,
 * which a resumed run rewrites from the history stored here. A kill at any
 * moment therefore leaves either the previous state, from which the run
 * redoes the same steps, or the new one. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/model.h"
#include "train.h"

#define STATE_VERSION "1"
#define MOM_PREFIX "momentum."

void fn_train_state_free(fn_train_state *s)
{
    for (size_t i = 0; i < sizeof s->strings / sizeof s->strings[0]; i++)
        free(s->strings[i]);
    free(s->history);
    memset(s, 0, sizeof *s);
}

/* ---- writing ---- */

fn_status fn_train_state_write(const fn_model *m, float *const *params, float *const *mom,
                               const fn_train_state *s, const char *path)
{
    int n_mom = 0;
    for (int i = 0; i < m->n_params; i++)
        n_mom += mom[i] != NULL;
    fn_st_tensor *t = calloc((size_t)n_mom + 1, sizeof *t);
    char(*names)[128] = calloc((size_t)n_mom + 1, sizeof *names);
    char *config = fn_train_config_json(&s->c);
    fn_status st = FN_OK;
    if (!t || !names || !config) st = fn_error(FN_ERR_NOMEM, "%s: out of host memory", path);
    for (int i = 0, k = 0; st == FN_OK && i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        if (!mom[i]) continue;
        snprintf(names[k], sizeof names[k], MOM_PREFIX "%s", p->name);
        t[k].name = names[k];
        t[k].dtype = FN_ST_F32;
        t[k].ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            t[k].shape[d] = p->shape[d];
        t[k].data = mom[i];
        k++;
    }
    if (st == FN_OK) {
        char epoch[16], step[32], steps_done[32], sgd[16], best[40], best_epoch[16], stats[200],
            hash[32];
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->data_hash);
        snprintf(epoch, sizeof epoch, "%d", s->epoch);
        snprintf(step, sizeof step, "%ld", s->step);
        snprintf(steps_done, sizeof steps_done, "%ld", s->steps_done);
        snprintf(sgd, sizeof sgd, "%d", s->sgd_steps);
        snprintf(best, sizeof best, "%.17g", s->best_top1);
        snprintf(best_epoch, sizeof best_epoch, "%d", s->best_epoch);
        /* %.9g round-trips every float exactly. */
        snprintf(stats, sizeof stats, "[%.9g,%.9g,%.9g,%.9g]", s->stats[0], s->stats[1],
                 s->stats[2], s->stats[3]);
        const char *keys[12] = {"focusnet.state",     "focusnet.config",
                                "focusnet.epoch",     "focusnet.step",
                                "focusnet.steps_done", "focusnet.sgd_steps",
                                "focusnet.best_top1", "focusnet.best_epoch",
                                "focusnet.stats",     "focusnet.data_hash"};
        const char *vals[12] = {STATE_VERSION, config, epoch,      step,  steps_done,
                                sgd,           best,   best_epoch, stats, hash};
        int n_keys = 10;
        char bhash[32], ihash[32];
        /* Only when there is one: states of runs without stay as they were. */
        if (s->has_baseline_hash) {
            snprintf(bhash, sizeof bhash, "%016llx", (unsigned long long)s->baseline_hash);
            keys[n_keys] = "focusnet.baseline_hash";
            vals[n_keys++] = bhash;
        }
        if (s->has_init_hash) {
            snprintf(ihash, sizeof ihash, "%016llx", (unsigned long long)s->init_hash);
            keys[n_keys] = "focusnet.init_hash";
            vals[n_keys++] = ihash;
        }
        st = fn_checkpoint_write(m, params, t, n_mom, keys, vals, n_keys, path);
    }
    free(t);
    free(names);
    free(config);
    return st;
}

/* ---- reading ---- */

static int meta_long(const fn_st_file *f, const char *key, long lo, long hi, long *out)
{
    const char *v = fn_st_meta(f, key);
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

fn_status fn_train_state_read(const fn_st_file *f, const char *path, fn_train_state *s)
{
    memset(s, 0, sizeof *s);
    const char *version = fn_st_meta(f, "focusnet.state");
    if (!version)
        return fn_error(FN_ERR_FORMAT, "%s: not a focusnet training state (no focusnet.state)",
                        path);
    if (strcmp(version, STATE_VERSION) != 0)
        return fn_error(FN_ERR_FORMAT, "%s: training state version '%.16s', this focusnet reads %s",
                        path, version, STATE_VERSION);
    FN_TRY(fn_train_config_parse(fn_st_meta(f, "focusnet.config"), path, s));
    long epoch, step, steps_done, sgd, best_epoch;
    if (!meta_long(f, "focusnet.epoch", 0, 100000, &epoch) ||
        !meta_long(f, "focusnet.step", 0, 1L << 40, &step) ||
        !meta_long(f, "focusnet.steps_done", 0, 1L << 50, &steps_done) ||
        !meta_long(f, "focusnet.sgd_steps", 0, 1L << 30, &sgd) ||
        !meta_long(f, "focusnet.best_epoch", 0, 100000, &best_epoch) || best_epoch > epoch ||
        sgd > steps_done)
        return fn_error(FN_ERR_FORMAT,
                        "%s: the run's position in the metadata is missing or out "
                        "of range",
                        path);
    s->epoch = (int)epoch;
    s->step = step;
    s->steps_done = steps_done;
    s->sgd_steps = (int)sgd;
    s->best_epoch = (int)best_epoch;
    const char *best = fn_st_meta(f, "focusnet.best_top1");
    char *end = NULL;
    s->best_top1 = best ? strtod(best, &end) : NAN;
    if (!best || !end || *end || !(s->best_top1 >= -1 && s->best_top1 <= 1))
        return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.best_top1 missing or out of range",
                        path);
    cJSON *a = cJSON_Parse(fn_st_meta(f, "focusnet.stats") ? fn_st_meta(f, "focusnet.stats") : "");
    int ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) == 4;
    for (int i = 0; ok && i < 4; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        ok = cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 1e30;
        if (ok) s->stats[i] = (float)v->valuedouble;
    }
    cJSON_Delete(a);
    if (!ok)
        return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.stats must be 4 finite numbers",
                        path);
    const char *hash = fn_st_meta(f, "focusnet.data_hash");
    end = NULL;
    if (hash && strlen(hash) == 16) s->data_hash = strtoull(hash, &end, 16);
    if (!end || *end)
        return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.data_hash missing or malformed",
                        path);
    /* Optional: states written before issue 12 have none. */
    const char *fh[2] = {fn_st_meta(f, "focusnet.baseline_hash"), fn_st_meta(f, "focusnet.init_hash")};
    for (int i = 0; i < 2; i++) {
        if (!fh[i]) continue;
        end = NULL;
        uint64_t v = strlen(fh[i]) == 16 ? strtoull(fh[i], &end, 16) : 0;
        if (!end || *end)
            return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.%s_hash is malformed", path,
                            i ? "init" : "baseline");
        if (i) s->init_hash = v, s->has_init_hash = 1;
        else s->baseline_hash = v, s->has_baseline_hash = 1;
    }
    const char *hist = fn_st_meta(f, "focusnet.history");
    cJSON *h = hist ? cJSON_Parse(hist) : NULL;
    ok = cJSON_IsArray(h);
    for (const cJSON *e = ok ? h->child : NULL; e && ok; e = e->next)
        ok = cJSON_IsObject(e);
    cJSON_Delete(h);
    if (!ok || !(s->history = strdup(hist)))
        return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.history is not an array of objects",
                        path);
    return FN_OK;
}

/* Reads tensor `name` (shape of p) into host. */
static fn_status get_like(const fn_st_file *f, const char *path, const char *name,
                          const fn_param *p, float *host)
{
    const fn_st_tensor *t = fn_st_find(f, name);
    int same = t && t->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
        same = t->shape[d] == p->shape[d];
    if (!same)
        return fn_error(FN_ERR_MISMATCH, "%s: tensor %s is missing or not shaped like %s", path,
                        name, p->name);
    return fn_checkpoint_get_finite(f, path, name, host, p->numel);
}

/* Checks the state's tensors against m and converts each; with a device,
 * uploads them (parameters to the model, momentum to opt, whose tensor j is
 * the model's j-th trainable one; opt may be NULL). */
static fn_status load_tensors(fn_model *m, fn_sgd *opt, const fn_st_file *f, const char *path)
{
    FN_TRY(fn_checkpoint_check_tensors(m, f, path, MOM_PREFIX));
    int n_mom = 0;
    for (int i = 0; i < m->n_params; i++)
        n_mom += m->params[i].trainable;
    int extra = 0;
    for (int i = 0; i < fn_st_count(f); i++)
        extra += strncmp(fn_st_tensor_at(f, i)->name, MOM_PREFIX, strlen(MOM_PREFIX)) == 0;
    if (extra != n_mom)
        return fn_error(FN_ERR_MISMATCH, "%s: %d momentum tensors, the %s has %d trainable ones",
                        path, extra, m->cfg.arch, n_mom);
    if (opt && opt->n != n_mom)
        return fn_error(FN_ERR_ARG, "%s: the optimizer has %d tensors, the %s %d trainable ones",
                        path, opt->n, m->cfg.arch, n_mom);
    fn_status st = FN_OK;
    for (int i = 0, j = 0; st == FN_OK && i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        float *host = malloc(p->numel * sizeof *host + 1);
        if (!host) return fn_error(FN_ERR_NOMEM, "%s: out of host memory", path);
        char name[128];
        snprintf(name, sizeof name, MOM_PREFIX "%s", p->name);
        st = get_like(f, path, p->name, p, host);
        if (st == FN_OK && m->dev)
            st = fn_buffer_write(m->dev, p->data, 0, p->numel * sizeof(float), host);
        if (st == FN_OK && p->trainable) st = get_like(f, path, name, p, host);
        if (st == FN_OK && p->trainable && m->dev && opt)
            st = fn_buffer_write(m->dev, opt->mom[j], 0, p->numel * sizeof(float), host);
        j += p->trainable;
        free(host);
    }
    return st;
}

fn_status fn_train_state_load_tensors(fn_model *m, fn_sgd *opt, const fn_st_file *f,
                                      const char *path)
{
    return load_tensors(m, opt, f, path);
}

fn_status fn_train_state_read_mem(const char *name, const void *data, size_t size)
{
    fn_st_file *f = NULL;
    FN_TRY(fn_st_open_mem(name, data, size, &f));
    fn_train_state s;
    fn_status st = fn_train_state_read(f, name, &s);
    fn_model_config cfg;
    fn_model *m = NULL;
    if (st == FN_OK) st = fn_checkpoint_file_config(f, name, NULL, &cfg);
    if (st == FN_OK) st = fn_checkpoint_model(NULL, &cfg, 1, 1, name, &m);
    if (st == FN_OK) st = load_tensors(m, NULL, f, name);
    fn_model_free(m);
    fn_train_state_free(&s);
    fn_st_close(f);
    return st;
}
