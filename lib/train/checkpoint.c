/* Checkpoints: safetensors with torchvision's tensor names; the model's
 * description lives in the metadata under "focusnet.*" keys so that a file
 * written by PyTorch with the same names and keys loads too. */
#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/data.h"
#include "../io/safetensors.h"
#include "../nn/model.h"
#include "train.h"

#define CKPT_VERSION "1"

const char *fn_model_class_name(const fn_model *m, int i)
{
    static _Thread_local char num[16];
    if (m->meta.class_names && i >= 0 && i < m->cfg.classes && m->meta.class_names[i])
        return m->meta.class_names[i];
    snprintf(num, sizeof num, "%d", i);
    return num;
}

void fn_model_normalization(const fn_model *m, float mean[3], float std[3])
{
    for (int i = 0; i < 3; i++) {
        mean[i] = m->meta.mean[i];
        std[i] = m->meta.std[i];
    }
}

const char *fn_model_dataset(const fn_model *m)
{
    return m->meta.dataset;
}

static char *json_floats(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

/* Every parameter of m read back to the host, in parameter order. */
fn_status fn_checkpoint_read_params(const fn_model *m, float ***out)
{
    *out = NULL;
    float **host = calloc((size_t)m->n_params + 1, sizeof *host);
    if (!host) return fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_status st = FN_OK;
    for (int i = 0; i < m->n_params && st == FN_OK; i++) {
        const fn_param *p = &m->params[i];
        host[i] = malloc(p->numel * sizeof(float) + 1);
        st = host[i] ? fn_buffer_read(m->dev, p->data, 0, p->numel * sizeof(float), host[i])
                     : fn_error(FN_ERR_NOMEM, "out of host memory");
    }
    if (st != FN_OK) {
        fn_host_params_free(m, host);
        return st;
    }
    *out = host;
    return FN_OK;
}

void fn_host_params_free(const fn_model *m, float **host)
{
    if (!host) return;
    for (int i = 0; i < m->n_params; i++)
        free(host[i]);
    free(host);
}

fn_status fn_checkpoint_write(const fn_model *m, float *const *host, const fn_st_tensor *extra,
                              int n_extra, const char *const *extra_keys,
                              const char *const *extra_vals, int n_extra_meta, const char *path)
{
    const fn_model_config *c = &m->cfg;
    int n_bn = 0;
    for (int i = 0; i < m->n_layers; i++)
        n_bn += m->layers[i].kind == FN_L_BN;
    int n_t = m->n_params + n_bn + n_extra;
    fn_st_tensor *t = calloc((size_t)n_t, sizeof *t);
    char(*bn_names)[96] = calloc((size_t)(n_bn ? n_bn : 1), sizeof *bn_names);
    enum { N_META = 13 };
    const char **keys = calloc((size_t)(N_META + n_extra_meta), sizeof *keys);
    const char **vals = calloc((size_t)(N_META + n_extra_meta), sizeof *vals);
    int64_t batches = m->batches_tracked;
    fn_status st = FN_OK;
    char *names_json = NULL, *mean_json = NULL, *std_json = NULL;
    if (!t || !bn_names || !keys || !vals) {
        st = fn_error(FN_ERR_NOMEM, "%s: out of host memory", path);
        goto done;
    }
    int k = 0;
    for (int i = 0; i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        t[k].name = p->name;
        t[k].dtype = FN_ST_F32;
        t[k].ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            t[k].shape[d] = p->shape[d];
        t[k].data = host[i];
        k++;
    }
    /* PyTorch's BatchNorm2d also keeps num_batches_tracked: write it so that
     * load_state_dict(strict=True) accepts the file. */
    for (int i = 0, b = 0; i < m->n_layers; i++) {
        const fn_layer *l = &m->layers[i];
        if (l->kind != FN_L_BN) continue;
        const char *w = m->params[l->w].name;
        snprintf(bn_names[b], sizeof bn_names[b], "%.*snum_batches_tracked",
                 (int)(strlen(w) - strlen("weight")), w);
        t[k].name = bn_names[b++];
        t[k].dtype = FN_ST_I64;
        t[k].ndim = 0;
        t[k].data = &batches;
        k++;
    }
    for (int i = 0; i < n_extra; i++)
        t[k++] = extra[i];
    cJSON *names = cJSON_CreateArray();
    for (int i = 0; i < c->classes; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(fn_model_class_name(m, i)));
    names_json = cJSON_PrintUnformatted(names);
    cJSON_Delete(names);
    mean_json = json_floats(m->meta.mean, 3);
    std_json = json_floats(m->meta.std, 3);
    char small[8], width[32], classes[16], input[64];
    snprintf(small, sizeof small, "%d", c->small_stem);
    snprintf(width, sizeof width, "%g", c->width);
    snprintf(classes, sizeof classes, "%d", c->classes);
    snprintf(input, sizeof input, "%dx%dx%d", c->channels, c->height, c->width_px);
    const char *base_keys[N_META] = {
        "format",          "focusnet.version", "focusnet.arch",    "focusnet.small_stem",
        "focusnet.width",  "focusnet.classes", "focusnet.input",   "focusnet.class_names",
        "focusnet.mean",   "focusnet.std",     "focusnet.dataset", "focusnet.loss",
        "focusnet.history"};
    const char *base_vals[N_META] = {"pt",
                                     CKPT_VERSION,
                                     c->arch,
                                     small,
                                     width,
                                     classes,
                                     input,
                                     names_json,
                                     mean_json,
                                     std_json,
                                     m->meta.dataset,
                                     m->meta.loss,
                                     m->meta.history ? m->meta.history : "[]"};
    for (int i = 0; i < N_META; i++) {
        keys[i] = base_keys[i];
        vals[i] = base_vals[i];
    }
    for (int i = 0; i < n_extra_meta; i++) {
        keys[N_META + i] = extra_keys[i];
        vals[N_META + i] = extra_vals[i];
    }
    if (!names_json || !mean_json || !std_json)
        st = fn_error(FN_ERR_NOMEM, "%s: out of host memory", path);
    else
        st = fn_st_write(path, t, n_t, keys, vals, N_META + n_extra_meta);
done:
    free(t);
    free(bn_names);
    free(keys);
    free(vals);
    free(names_json);
    free(mean_json);
    free(std_json);
    return st;
}

fn_status fn_checkpoint_save(const fn_model *m, const char *path)
{
    float **host;
    FN_TRY(fn_checkpoint_read_params(m, &host));
    fn_status st = fn_checkpoint_write(m, host, NULL, 0, NULL, NULL, 0, path);
    fn_host_params_free(m, host);
    return st;
}

static int parse_floats(const char *json, float *out, int n)
{
    cJSON *a = json ? cJSON_Parse(json) : NULL;
    int ok = cJSON_IsArray(a) && cJSON_GetArraySize(a) == n;
    for (int i = 0; ok && i < n; i++) {
        cJSON *v = cJSON_GetArrayItem(a, i);
        ok = cJSON_IsNumber(v);
        if (ok) out[i] = (float)v->valuedouble;
    }
    cJSON_Delete(a);
    return ok;
}

static fn_status read_config(const fn_st_file *f, const char *path, fn_model_config *c)
{
    const char *arch = fn_st_meta(f, "focusnet.arch");
    if (!arch)
        return fn_error(FN_ERR_FORMAT,
                        "%s: not a focusnet checkpoint (its metadata has no focusnet.arch)", path);
    const char *classes = fn_st_meta(f, "focusnet.classes");
    const char *input = fn_st_meta(f, "focusnet.input");
    int k = classes ? atoi(classes) : 0, ch = 0, h = 0, w = 0;
    if (k < 1 || k > 100000 || !input || sscanf(input, "%dx%dx%d", &ch, &h, &w) != 3 || ch < 1 ||
        ch > 4 || h < 1 || w < 1 || h > 4096 || w > 4096)
        return fn_error(FN_ERR_FORMAT,
                        "%s: metadata focusnet.classes / focusnet.input missing or out of range",
                        path);
    /* An unknown architecture in a file is the file's fault. */
    if (fn_model_config_default(c, arch, k, ch, h, w) != FN_OK)
        return fn_error_prefix(FN_ERR_FORMAT, "%s: ", path);
    const char *small = fn_st_meta(f, "focusnet.small_stem");
    const char *width = fn_st_meta(f, "focusnet.width");
    if (small) c->small_stem = atoi(small) != 0;
    if (width) {
        float wv = (float)atof(width);
        if (!(wv > 0.01f && wv <= 4.0f))
            return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.width '%s' out of range", path,
                            width);
        c->width = wv;
    }
    return FN_OK;
}

static void describe(const fn_model_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s%s with %d classes for %dx%dx%d input", c->arch,
             strcmp(c->arch, "lenet5") == 0 ? "" : (c->small_stem ? " (small stem)" : ""),
             c->classes, c->channels, c->height, c->width_px);
}

static fn_status load_meta(fn_model *m, const fn_st_file *f, const char *path)
{
    const char *names = fn_st_meta(f, "focusnet.class_names");
    cJSON *a = names ? cJSON_Parse(names) : NULL;
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == m->cfg.classes) {
        m->meta.class_names = calloc((size_t)m->cfg.classes, sizeof *m->meta.class_names);
        for (int i = 0; m->meta.class_names && i < m->cfg.classes; i++) {
            cJSON *v = cJSON_GetArrayItem(a, i);
            m->meta.class_names[i] = strdup(cJSON_IsString(v) ? v->valuestring : "?");
        }
    }
    cJSON_Delete(a);
    if (!parse_floats(fn_st_meta(f, "focusnet.mean"), m->meta.mean, 3) ||
        !parse_floats(fn_st_meta(f, "focusnet.std"), m->meta.std, 3))
        return fn_error(FN_ERR_FORMAT,
                        "%s: metadata focusnet.mean / focusnet.std must be arrays of 3 numbers",
                        path);
    for (int i = 0; i < 3; i++)
        if (!(m->meta.std[i] > 0))
            return fn_error(FN_ERR_FORMAT, "%s: metadata focusnet.std must be positive", path);
    const char *ds = fn_st_meta(f, "focusnet.dataset");
    const char *loss = fn_st_meta(f, "focusnet.loss");
    const char *hist = fn_st_meta(f, "focusnet.history");
    snprintf(m->meta.dataset, sizeof m->meta.dataset, "%s", ds ? ds : "");
    snprintf(m->meta.loss, sizeof m->meta.loss, "%s", loss ? loss : "");
    if (hist) {
        m->meta.history = strdup(hist);
    }
    return FN_OK;
}

/* Every tensor m has must be in f with its shape; BN's num_batches_tracked
 * and, for a training state, names with the prefix `extra` (NULL: none) are
 * the only other tensors allowed. */
fn_status fn_checkpoint_check_tensors(const fn_model *m, const fn_st_file *f, const char *path,
                                      const char *extra)
{
    for (int i = 0; i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        const fn_st_tensor *t = fn_st_find(f, p->name);
        if (!t)
            return fn_error(FN_ERR_MISMATCH, "%s: tensor %s is missing (is this a %s checkpoint?)",
                            path, p->name, m->cfg.arch);
        int same = t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++)
            same = t->shape[d] == p->shape[d];
        if (!same)
            return fn_error(FN_ERR_MISMATCH,
                            "%s: tensor %s has %d dimensions of another shape than "
                            "the %s built from its metadata needs",
                            path, p->name, t->ndim, m->cfg.arch);
    }
    for (int i = 0; i < fn_st_count(f); i++) {
        const char *name = fn_st_tensor_at(f, i)->name;
        const char *tail = strrchr(name, '.');
        if (fn_model_find_param(m, name) < 0 &&
            !(tail && strcmp(tail, ".num_batches_tracked") == 0) &&
            !(extra && strncmp(name, extra, strlen(extra)) == 0))
            return fn_error(FN_ERR_MISMATCH, "%s: tensor %s does not belong to a %s", path, name,
                            m->cfg.arch);
    }
    return FN_OK;
}

/* The model config from f, checked against expect (NULL: anything). */
fn_status fn_checkpoint_file_config(const fn_st_file *f, const char *path,
                                    const fn_model_config *expect, fn_model_config *c)
{
    FN_TRY(read_config(f, path, c));
    if (expect && (strcmp(expect->arch, c->arch) != 0 || expect->classes != c->classes ||
                   expect->channels != c->channels || expect->height != c->height ||
                   expect->width_px != c->width_px ||
                   (strcmp(c->arch, "lenet5") != 0 && expect->small_stem != c->small_stem) ||
                   (strcmp(c->arch, "mobilenetv2") == 0 && expect->width != c->width))) {
        char have[160], want[160];
        describe(c, have, sizeof have);
        describe(expect, want, sizeof want);
        return fn_error(FN_ERR_MISMATCH, "%s holds a %s; this needs a %s", path, have, want);
    }
    return FN_OK;
}

fn_status fn_checkpoint_model(fn_device *dev, const fn_model_config *c, int max_batch, int training,
                              const char *path, fn_model **out)
{
    *out = NULL;
    if (max_batch < 1)
        return fn_error(FN_ERR_ARG, "batch size must be at least 1, not %d", max_batch);
    fn_status st = fn_model_create(dev, c, max_batch, training, out);
    /* The config came from the file: a model it cannot describe is its fault. */
    if (st == FN_ERR_ARG) return fn_error_prefix(FN_ERR_FORMAT, "%s: ", path);
    return st;
}

fn_status fn_checkpoint_get_finite(const fn_st_file *f, const char *path, const char *name,
                                   float *host, size_t n)
{
    FN_TRY(fn_st_get_f32(f, name, host, n));
    /* One NaN would only show as "loss nan" or a diverged FocusNet stage,
     * far from its cause. */
    for (size_t i = 0; i < n; i++)
        if (!isfinite(host[i]))
            return fn_error(FN_ERR_FORMAT, "%s: tensor %s holds a %s at element %zu", path, name,
                            isnan(host[i]) ? "NaN" : "infinity", i);
    return FN_OK;
}

fn_status fn_checkpoint_load(fn_device *dev, const char *path, const fn_model_config *expect,
                             int max_batch, int training, fn_model **out)
{
    *out = NULL;
    fn_st_file *f = NULL;
    FN_TRY(fn_st_open(path, &f));
    fn_model_config c;
    fn_status st = fn_checkpoint_file_config(f, path, expect, &c);
    fn_model *m = NULL;
    if (st == FN_OK) st = fn_checkpoint_model(dev, &c, max_batch, training, path, &m);
    if (st == FN_OK) st = fn_checkpoint_check_tensors(m, f, path, NULL);
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        float *host = malloc(p->numel * sizeof *host + 1);
        if (!host) {
            st = fn_error(FN_ERR_NOMEM, "%s: out of host memory", path);
            break;
        }
        st = fn_checkpoint_get_finite(f, path, p->name, host, p->numel);
        if (st == FN_OK) st = fn_buffer_write(dev, p->data, 0, p->numel * sizeof(float), host);
        free(host);
    }
    if (st == FN_OK) st = load_meta(m, f, path);
    fn_st_close(f);
    if (st != FN_OK) {
        fn_model_free(m);
        return st;
    }
    *out = m;
    return FN_OK;
}

fn_status fn_checkpoint_read_config_mem(const char *name, const void *data, size_t size,
                                        fn_model_config *cfg)
{
    fn_st_file *f = NULL;
    FN_TRY(fn_st_open_mem(name, data, size, &f));
    fn_model *m = NULL;
    fn_status st = fn_checkpoint_file_config(f, name, NULL, cfg);
    /* A shapes-only model: the same checks as a load, without a device. */
    if (st == FN_OK) st = fn_checkpoint_model(NULL, cfg, 1, 0, name, &m);
    /* The metadata first, so that inputs without every tensor reach it. */
    if (st == FN_OK) st = load_meta(m, f, name);
    if (st == FN_OK) st = fn_checkpoint_check_tensors(m, f, name, NULL);
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        float *host = malloc(m->params[i].numel * sizeof *host + 1);
        st = host ? fn_st_get_f32(f, m->params[i].name, host, m->params[i].numel)
                  : fn_error(FN_ERR_NOMEM, "%s: out of host memory", name);
        free(host);
    }
    fn_model_free(m);
    fn_st_close(f);
    return st;
}

fn_status fn_model_predict_file(fn_model *m, const char *path, float *logits)
{
    const fn_model_config *c = &m->cfg;
    fn_image img;
    FN_TRY(fn_image_load(path, &img));
    float *x = malloc((size_t)c->channels * c->height * c->width_px * sizeof *x);
    fn_status st = x ? fn_image_to_input(&img, c->channels, c->height, c->width_px, m->meta.mean,
                                         m->meta.std, x)
                     : fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_image_free(&img);
    if (st == FN_OK) st = fn_model_predict(m, x, 1, logits);
    free(x);
    return st;
}
