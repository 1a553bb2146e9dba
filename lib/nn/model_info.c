/* Describing a model without running it: its configuration, parameters,
 * FLOP count and layers (focusnet.h). Split from model.c, which runs it. */
#include <stdio.h>
#include <string.h>

#include "model.h"

fn_status fn_model_config_default(fn_model_config *cfg, const char *arch, int classes, int c, int h,
                                  int w)
{
    memset(cfg, 0, sizeof *cfg);
    int known = 0;
    for (const char *const *n = fn_model_arch_names(); *n; n++)
        known |= strcmp(*n, arch) == 0;
    if (!known)
        return fn_error(FN_ERR_ARG,
                        "unknown model '%s' (models: lenet5, resnet18, resnet34, mobilenetv2)",
                        arch);
    if (classes < 1 || c < 1 || h < 1 || w < 1)
        return fn_error(FN_ERR_ARG, "model %s needs at least one class and a non-empty input",
                        arch);
    snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
    cfg->classes = classes;
    cfg->channels = c;
    cfg->height = h;
    cfg->width_px = w;
    cfg->small_stem = h <= 64 && w <= 64;
    cfg->width = strcmp(arch, "mobilenetv2") == 0 ? 0.5f : 1.0f;
    return FN_OK;
}

const fn_model_config *fn_model_get_config(const fn_model *m)
{
    return &m->cfg;
}

int fn_model_find_param(const fn_model *m, const char *name)
{
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

int64_t fn_model_param_count(const fn_model *m)
{
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].trainable) n += (int64_t)m->params[i].numel;
    return n;
}

/* Multiply-adds times 2 of layer l's forward for one image (convolutions
 * and fully connected layers; the rest counts as 0). */
static double layer_flops(const fn_model *m, const fn_layer *l)
{
    const fn_act *o = &m->acts[l->out];
    if (l->kind == FN_L_CONV)
        return 2.0 * o->c * o->h * o->w * (double)(l->conv.c / l->conv.groups) * l->conv.kh *
               l->conv.kw;
    if (l->kind == FN_L_LINEAR) return 2.0 * (double)m->params[l->w].numel;
    return 0;
}

double fn_model_flops(const fn_model *m)
{
    double f = 0;
    for (int i = 0; i < m->n_layers; i++)
        f += layer_flops(m, &m->layers[i]);
    return f;
}

int fn_model_layer_count(const fn_model *m)
{
    return m->n_layers;
}

fn_status fn_model_layer_info(const fn_model *m, int i, fn_layer_info *out)
{
    static const char *const kinds[] = {"conv",    "bn",  "relu",   "relu6",
                                        "maxpool", "gap", "linear", "add"};
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= m->n_layers)
        return fn_error(FN_ERR_ARG, "no layer %d (the model has %d)", i, m->n_layers);
    const fn_layer *l = &m->layers[i];
    const fn_act *a = &m->acts[l->in], *o = &m->acts[l->out];
    out->type = (fn_layer_type)l->kind;
    out->kind = kinds[l->kind];
    snprintf(out->name, sizeof out->name, "%s", out->kind);
    if (l->w >= 0) { /* conv, bn, linear: the torchvision name, without ".weight" */
        snprintf(out->name, sizeof out->name, "%s", m->params[l->w].name);
        char *dot = strrchr(out->name, '.');
        if (dot) *dot = 0;
    }
    out->in_c = a->c, out->in_h = a->h, out->in_w = a->w;
    out->out_c = o->c, out->out_h = o->h, out->out_w = o->w;
    if (l->kind == FN_L_CONV) {
        out->k = l->conv.kh;
        out->stride = l->conv.stride;
        out->pad = l->conv.pad;
        out->groups = l->conv.groups;
    } else if (l->kind == FN_L_MAXPOOL) {
        out->k = l->pool.k;
        out->stride = l->pool.stride;
        out->pad = l->pool.pad;
    }
    out->flops = layer_flops(m, l);
    out->bias = l->b >= 0 && l->kind != FN_L_BN;
    out->reads_input = l->in == m->input;
    return FN_OK;
}

