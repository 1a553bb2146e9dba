/* Architectures: LeNet-5, ResNet-18/34 and MobileNetV2, built from layers with
 * torchvision's parameter names (LeNet-5: conv1, conv2, fc1, fc2, fc3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return p;
    int cap2 = *cap ? *cap * 2 : 32;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(p, (size_t)cap2 * elem);
    if (!q) return NULL;
    memset((char *)q + (size_t)*cap * elem, 0, (size_t)(cap2 - *cap) * elem);
    *cap = cap2;
    return q;
}

int fn_model_add_act(fn_model *m, int c, int h, int w)
{
    fn_act *a = grow(m->acts, &m->cap_acts, m->n_acts + 1, sizeof *a);
    if (!a) return -1;
    m->acts = a;
    fn_act *x = &m->acts[m->n_acts];
    memset(x, 0, sizeof *x);
    x->c = c;
    x->h = h;
    x->w = w;
    x->alias = -1;
    x->last_use = -1;
    return m->n_acts++;
}

int fn_model_add_param(fn_model *m, const char *name, int ndim, const int *shape, int trainable)
{
    fn_param *p = grow(m->params, &m->cap_params, m->n_params + 1, sizeof *p);
    if (!p) return -1;
    m->params = p;
    fn_param *x = &m->params[m->n_params];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->ndim = ndim;
    x->numel = 1;
    for (int i = 0; i < ndim; i++) {
        x->shape[i] = shape[i];
        x->numel *= (size_t)shape[i];
    }
    x->trainable = trainable;
    return m->n_params++;
}

static fn_layer *add_layer(fn_model *m, fn_layer_kind kind, int in, int out)
{
    fn_layer *l = grow(m->layers, &m->cap_layers, m->n_layers + 1, sizeof *l);
    if (!l) return NULL;
    m->layers = l;
    fn_layer *x = &m->layers[m->n_layers++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->in = in;
    x->in2 = -1;
    x->out = out;
    x->w = x->b = x->rmean = x->rvar = -1;
    return x;
}

static int param_named(fn_model *m, const char *prefix, const char *suffix, int ndim,
                       const int *shape, int trainable)
{
    char name[96];
    snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", suffix);
    return fn_model_add_param(m, name, ndim, shape, trainable);
}

int fn_build_conv(fn_model *m, const char *name, int in, int oc, int k, int stride, int pad,
                  int groups, int bias)
{
    if (in < 0) return -1;
    fn_act *a = &m->acts[in];
    fn_conv_shape s = {0, a->c, a->h, a->w, oc, k, k, stride, pad, groups};
    int out = fn_model_add_act(m, oc, fn_conv_out_h(&s), fn_conv_out_w(&s));
    fn_layer *l = out < 0 ? NULL : add_layer(m, FN_L_CONV, in, out);
    if (!l) return -1;
    l->conv = s;
    int wshape[4] = {oc, s.c / groups, k, k};
    l->w = param_named(m, name, "weight", 4, wshape, 1);
    if (bias) l->b = param_named(m, name, "bias", 1, &oc, 1);
    return out;
}

int fn_build_bn(fn_model *m, const char *name, int in)
{
    if (in < 0) return -1;
    fn_act *a = &m->acts[in];
    int c = a->c;
    int out = fn_model_add_act(m, c, a->h, a->w);
    fn_layer *l = out < 0 ? NULL : add_layer(m, FN_L_BN, in, out);
    if (!l) return -1;
    l->w = param_named(m, name, "weight", 1, &c, 1);
    l->b = param_named(m, name, "bias", 1, &c, 1);
    l->rmean = param_named(m, name, "running_mean", 1, &c, 0);
    l->rvar = param_named(m, name, "running_var", 1, &c, 0);
    return out;
}

int fn_build_act(fn_model *m, fn_layer_kind kind, int in)
{
    if (in < 0) return -1;
    fn_act *a = &m->acts[in];
    int out = fn_model_add_act(m, a->c, a->h, a->w);
    return out >= 0 && add_layer(m, kind, in, out) ? out : -1;
}

int fn_build_maxpool(fn_model *m, int in, int k, int stride, int pad)
{
    if (in < 0) return -1;
    fn_act *a = &m->acts[in];
    fn_pool_shape s = {0, a->c, a->h, a->w, k, stride, pad};
    int out = fn_model_add_act(m, a->c, fn_pool_out_h(&s), fn_pool_out_w(&s));
    fn_layer *l = out < 0 ? NULL : add_layer(m, FN_L_MAXPOOL, in, out);
    if (!l) return -1;
    l->pool = s;
    return out;
}

int fn_build_gap(fn_model *m, int in)
{
    if (in < 0) return -1;
    int out = fn_model_add_act(m, m->acts[in].c, 1, 1);
    return out >= 0 && add_layer(m, FN_L_GAP, in, out) ? out : -1;
}

int fn_build_linear(fn_model *m, const char *name, int in, int outf)
{
    if (in < 0) return -1;
    fn_act *a = &m->acts[in];
    int inf = a->c * a->h * a->w; /* NCHW is already flat per sample */
    int out = fn_model_add_act(m, outf, 1, 1);
    fn_layer *l = out < 0 ? NULL : add_layer(m, FN_L_LINEAR, in, out);
    if (!l) return -1;
    int wshape[2] = {outf, inf};
    l->w = param_named(m, name, "weight", 2, wshape, 1);
    l->b = param_named(m, name, "bias", 1, &outf, 1);
    return out;
}

int fn_build_add(fn_model *m, int a, int b)
{
    if (a < 0 || b < 0) return -1;
    int out = fn_model_add_act(m, m->acts[a].c, m->acts[a].h, m->acts[a].w);
    fn_layer *l = out < 0 ? NULL : add_layer(m, FN_L_ADD, a, out);
    if (!l) return -1;
    l->in2 = b;
    return out;
}

/* ---- LeNet-5: conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2;
 * linear 120, ReLU, 84, ReLU, K. ReLU and max pooling rather than the 1998
 * tanh/subsampling: they train faster and reach higher accuracy. */
static int lenet5(fn_model *m, int x)
{
    x = fn_build_act(m, FN_L_RELU, fn_build_conv(m, "conv1", x, 6, 5, 1, 2, 1, 1));
    x = fn_build_maxpool(m, x, 2, 2, 0);
    x = fn_build_act(m, FN_L_RELU, fn_build_conv(m, "conv2", x, 16, 5, 1, 0, 1, 1));
    m->features = x;
    x = fn_build_maxpool(m, x, 2, 2, 0);
    x = fn_build_act(m, FN_L_RELU, fn_build_linear(m, "fc1", x, 120));
    x = fn_build_act(m, FN_L_RELU, fn_build_linear(m, "fc2", x, 84));
    return fn_build_linear(m, "fc3", x, m->cfg.classes);
}

/* ---- ResNet (torchvision's BasicBlock) ---- */
static int basic_block(fn_model *m, const char *name, int x, int planes, int stride)
{
    char n[96];
    int inplanes = x >= 0 ? m->acts[x].c : 0;
    snprintf(n, sizeof n, "%s.conv1", name);
    int y = fn_build_conv(m, n, x, planes, 3, stride, 1, 1, 0);
    snprintf(n, sizeof n, "%s.bn1", name);
    y = fn_build_act(m, FN_L_RELU, fn_build_bn(m, n, y));
    snprintf(n, sizeof n, "%s.conv2", name);
    y = fn_build_conv(m, n, y, planes, 3, 1, 1, 1, 0);
    snprintf(n, sizeof n, "%s.bn2", name);
    y = fn_build_bn(m, n, y);
    int identity = x;
    if (stride != 1 || inplanes != planes) {
        snprintf(n, sizeof n, "%s.downsample.0", name);
        identity = fn_build_conv(m, n, x, planes, 1, stride, 0, 1, 0);
        snprintf(n, sizeof n, "%s.downsample.1", name);
        identity = fn_build_bn(m, n, identity);
    }
    return fn_build_act(m, FN_L_RELU, fn_build_add(m, y, identity));
}

static int resnet(fn_model *m, int x, const int *blocks)
{
    int div = m->narrow > 1 ? m->narrow : 1; /* tests only (fn_model_create_narrow) */
    if (m->cfg.small_stem) {
        x = fn_build_conv(m, "conv1", x, 64 / div, 3, 1, 1, 1, 0);
        x = fn_build_act(m, FN_L_RELU, fn_build_bn(m, "bn1", x));
    } else {
        x = fn_build_conv(m, "conv1", x, 64 / div, 7, 2, 3, 1, 0);
        x = fn_build_act(m, FN_L_RELU, fn_build_bn(m, "bn1", x));
        x = fn_build_maxpool(m, x, 3, 2, 1);
    }
    const int planes[4] = {64 / div, 128 / div, 256 / div, 512 / div};
    for (int s = 0; s < 4; s++)
        for (int b = 0; b < blocks[s]; b++) {
            char name[32];
            snprintf(name, sizeof name, "layer%d.%d", s + 1, b);
            x = basic_block(m, name, x, planes[s], (b == 0 && s > 0) ? 2 : 1);
        }
    m->features = x;
    x = fn_build_gap(m, x);
    return fn_build_linear(m, "fc", x, m->cfg.classes);
}

/* ---- MobileNetV2 (torchvision's layout and channel rounding) ---- */
static int make_divisible(double v, int divisor)
{
    int nv = (int)(v + divisor / 2.0) / divisor * divisor;
    if (nv < divisor) nv = divisor;
    if (nv < 0.9 * v) nv += divisor;
    return nv;
}

static int conv_bn_relu6(fn_model *m, const char *name, int x, int oc, int k, int stride,
                         int groups)
{
    char n[96];
    snprintf(n, sizeof n, "%s.0", name);
    x = fn_build_conv(m, n, x, oc, k, stride, (k - 1) / 2, groups, 0);
    snprintf(n, sizeof n, "%s.1", name);
    return fn_build_act(m, FN_L_RELU6, fn_build_bn(m, n, x));
}

static int inverted_residual(fn_model *m, int index, int x, int oup, int stride, int t)
{
    char n[96];
    int inp = x >= 0 ? m->acts[x].c : 0;
    int hidden = (int)lround(inp * (double)t);
    int y = x, i = 0;
    if (t != 1) {
        snprintf(n, sizeof n, "features.%d.conv.%d", index, i++);
        y = conv_bn_relu6(m, n, y, hidden, 1, 1, 1);
    }
    snprintf(n, sizeof n, "features.%d.conv.%d", index, i++);
    y = conv_bn_relu6(m, n, y, hidden, 3, stride, hidden);
    snprintf(n, sizeof n, "features.%d.conv.%d", index, i++);
    y = fn_build_conv(m, n, y, oup, 1, 1, 0, 1, 0);
    snprintf(n, sizeof n, "features.%d.conv.%d", index, i++);
    y = fn_build_bn(m, n, y);
    if (stride == 1 && inp == oup) y = fn_build_add(m, x, y);
    return y;
}

static int mobilenetv2(fn_model *m, int x)
{
    static const int setting[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    double width = m->cfg.width;
    int small = m->cfg.small_stem;
    int input_channel = make_divisible(32 * width, 8);
    int last_channel = make_divisible(1280 * (width > 1.0 ? width : 1.0), 8);
    x = conv_bn_relu6(m, "features.0", x, input_channel, 3, small ? 1 : 2, 1);
    int index = 1, first_stride2_seen = 0;
    for (int g = 0; g < 7; g++) {
        int oc = make_divisible(setting[g][1] * width, 8);
        for (int i = 0; i < setting[g][2]; i++) {
            int stride = i == 0 ? setting[g][3] : 1;
            if (stride == 2 && !first_stride2_seen) {
                first_stride2_seen = 1;
                if (small) stride = 1; /* the paper's small-image variant: 8x down-sampling */
            }
            x = inverted_residual(m, index++, x, oc, stride, setting[g][0]);
        }
    }
    char n[32];
    snprintf(n, sizeof n, "features.%d", index);
    x = conv_bn_relu6(m, n, x, last_channel, 1, 1, 1);
    m->features = x;
    x = fn_build_gap(m, x);
    /* torchvision puts Dropout(0.2) at classifier.0; we train without it. */
    return fn_build_linear(m, "classifier.1", x, m->cfg.classes);
}

static const char *const arch_names[] = {"lenet5", "resnet18", "resnet34", "mobilenetv2", NULL};

const char *const *fn_model_arch_names(void)
{
    return arch_names;
}

fn_status fn_arch_build(fn_model *m)
{
    const fn_model_config *c = &m->cfg;
    m->features = -1;
    m->cam_linear = -1;
    int x = fn_model_add_act(m, c->channels, c->height, c->width_px);
    m->input = x;
    int out;
    if (strcmp(c->arch, "lenet5") == 0) {
        out = lenet5(m, x);
    } else if (strcmp(c->arch, "resnet18") == 0) {
        static const int b[4] = {2, 2, 2, 2};
        out = resnet(m, x, b);
    } else if (strcmp(c->arch, "resnet34") == 0) {
        static const int b[4] = {3, 4, 6, 3};
        out = resnet(m, x, b);
    } else if (strcmp(c->arch, "mobilenetv2") == 0) {
        out = mobilenetv2(m, x);
    } else {
        return fn_error(FN_ERR_ARG,
                        "unknown model '%s' (models: lenet5, resnet18, resnet34, "
                        "mobilenetv2)",
                        c->arch);
    }
    if (out < 0) return fn_error(FN_ERR_NOMEM, "out of host memory building %s", c->arch);
    for (int i = 0; i < m->n_acts; i++)
        if (m->acts[i].h < 1 || m->acts[i].w < 1)
            return fn_error(
                FN_ERR_ARG, "input %dx%d is too small for %s%s (a layer's output would be empty)",
                c->height, c->width_px, c->arch, c->small_stem ? "" : " with the ImageNet stem");
    m->logits = out;
    if (m->features >= 0 && strcmp(c->arch, "lenet5") != 0) m->cam_linear = m->n_layers - 1;
    return FN_OK;
}
