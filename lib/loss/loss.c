/* Host side of the losses: option defaults, checks, and one launch with one
 * work-group per sample row (kernels/loss.cl). No scratch slots are used. */
#include <math.h>
#include <string.h>

#include "loss.h"

void fn_loss_opts_default(fn_loss_opts *o, fn_loss_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->smoothing = 0.1f;
    o->kd_temperature = 4.0f;
    o->kd_weight = 0.9f;
    o->alpha = 1.0f;
    o->beta = 1.0f;
    o->detach_d = 0;
    o->rule = FN_MULTIWARM_LOGIT;
    o->rule_temperature = 2.0f; /* only read by FN_MULTIWARM_SOFTMAX */
    o->cls_smoothing = 0.0f;
}

void fn_loss_opts_authors(fn_loss_opts *o)
{
    fn_loss_opts_default(o, FN_LOSS_FOCUS);
    o->rule = FN_MULTIWARM_SOFTMAX;
    o->rule_temperature = 2.0f;
    o->cls_smoothing = 0.1f;
}

static const char *const kind_names[] = {"ce", "ls", "kd", "focus"};

const char *fn_loss_kind_name(fn_loss_kind kind)
{
    return (unsigned)kind < 4 ? kind_names[kind] : "?";
}

fn_status fn_loss_kind_parse(const char *name, fn_loss_kind *out)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, kind_names[i]) == 0) {
            *out = (fn_loss_kind)i;
            return FN_OK;
        }
    return fn_error(FN_ERR_ARG, "unknown loss '%s' (expected ce, ls, kd or focus)",
                    name ? name : "(null)");
}

static int in_unit(float x)
{
    return x >= 0.0f && x <= 1.0f;
}

static fn_status check_opts(const fn_loss_opts *o, cl_mem ref_logits, int n, int k)
{
    if (!o) return fn_error(FN_ERR_ARG, "loss: no options");
    if (n < 0 || k < 1) return fn_error(FN_ERR_ARG, "loss: bad shape N=%d K=%d", n, k);
    switch (o->kind) {
    case FN_LOSS_CE:
        return FN_OK;
    case FN_LOSS_LS:
        if (!in_unit(o->smoothing))
            return fn_error(FN_ERR_ARG, "label smoothing %g is outside [0, 1]", o->smoothing);
        return FN_OK;
    case FN_LOSS_KD:
        if (!ref_logits)
            return fn_error(FN_ERR_ARG, "distillation loss needs the teacher's logits");
        if (!(o->kd_temperature > 0.0f) || !isfinite(o->kd_temperature))
            return fn_error(FN_ERR_ARG, "distillation temperature %g must be positive",
                            o->kd_temperature);
        if (!in_unit(o->kd_weight))
            return fn_error(FN_ERR_ARG, "distillation weight %g is outside [0, 1]", o->kd_weight);
        return FN_OK;
    case FN_LOSS_FOCUS:
        if (!ref_logits) return fn_error(FN_ERR_ARG, "focus loss needs the baseline's logits");
        if (!isfinite(o->alpha) || !isfinite(o->beta))
            return fn_error(FN_ERR_ARG, "focus loss weights alpha=%g beta=%g must be finite",
                            o->alpha, o->beta);
        if (!in_unit(o->cls_smoothing))
            return fn_error(FN_ERR_ARG, "label smoothing %g is outside [0, 1]", o->cls_smoothing);
        if (o->rule != FN_MULTIWARM_LOGIT && o->rule != FN_MULTIWARM_SOFTMAX)
            return fn_error(FN_ERR_ARG, "unknown multi-warm rule %d", (int)o->rule);
        if (o->rule == FN_MULTIWARM_SOFTMAX &&
            (!(o->rule_temperature > 0.0f) || !isfinite(o->rule_temperature)))
            return fn_error(FN_ERR_ARG, "multi-warm temperature %g must be positive",
                            o->rule_temperature);
        return FN_OK;
    }
    return fn_error(FN_ERR_ARG, "unknown loss kind %d", (int)o->kind);
}

/* The largest power of two that the kernel, the device and the row allow
 * (at most 256: beyond that the tree's barriers cost more than they save). */
static fn_status row_local_size(fn_device *dev, cl_kernel kern, int k, size_t *out)
{
    size_t kmax = 0;
    FN_CL(clGetKernelWorkGroupInfo(kern, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                                   NULL));
    size_t cap = 256;
    if (dev->info.max_work_group && dev->info.max_work_group < cap) cap = dev->info.max_work_group;
    if (kmax && kmax < cap) cap = kmax;
    /* On GPUs at least 32 items (one unit; lanes past k idle, as the
     * unit's other lanes would anyway). */
    size_t l = 1;
    if (!dev->long_runs)
        while (l * 2 <= cap && l < 32)
            l *= 2;
    while (l * 2 <= cap && l < (size_t)k)
        l *= 2;
    *out = l;
    return FN_OK;
}

fn_status fn_loss_compute(fn_device *dev, const fn_loss_opts *o, cl_mem loss, cl_mem dlogits,
                          cl_mem multiwarm, cl_mem logits, cl_mem labels, cl_mem ref_logits, int n,
                          int k)
{
    FN_TRY(check_opts(o, ref_logits, n, k));
    if (n == 0) return FN_OK;
    /* An absent output is never touched; the kernel still needs a buffer there. */
    int want_loss = loss != NULL, want_grad = dlogits != NULL;
    int want_mw = multiwarm != NULL && o->kind == FN_LOSS_FOCUS;
    if (!loss) loss = logits;
    if (!dlogits) dlogits = logits;
    if (!multiwarm) multiwarm = logits;
    float inv_n = 1.0f / (float)n;
    cl_kernel kern;
    fn_status st;
    if (o->kind == FN_LOSS_KD) {
        FN_TRY(fn_kernel_get(dev, "loss", "loss_kd", &kern));
        float t = o->kd_temperature, w = o->kd_weight;
        st = fn_kernel_args(kern, FN_ARG(n), FN_ARG(k), FN_ARG(t), FN_ARG(w), FN_ARG(inv_n),
                            FN_ARG(logits), FN_ARG(ref_logits), FN_ARG(labels), FN_ARG(loss),
                            FN_ARG(dlogits), FN_ARG(want_loss), FN_ARG(want_grad), (size_t)0);
    } else if (o->kind == FN_LOSS_FOCUS) {
        FN_TRY(fn_kernel_get(dev, "loss", "loss_focus", &kern));
        float a = o->alpha, b = o->beta, eps = o->cls_smoothing;
        int detach = o->detach_d != 0, rule_softmax = o->rule == FN_MULTIWARM_SOFTMAX;
        float rule_t = rule_softmax ? o->rule_temperature : 1.0f;
        st = fn_kernel_args(kern, FN_ARG(n), FN_ARG(k), FN_ARG(a), FN_ARG(b), FN_ARG(eps),
                            FN_ARG(detach), FN_ARG(rule_softmax), FN_ARG(rule_t), FN_ARG(inv_n),
                            FN_ARG(logits), FN_ARG(ref_logits), FN_ARG(labels), FN_ARG(loss),
                            FN_ARG(dlogits), FN_ARG(multiwarm), FN_ARG(want_loss),
                            FN_ARG(want_grad), FN_ARG(want_mw), (size_t)0);
    } else {
        FN_TRY(fn_kernel_get(dev, "loss", "loss_ce", &kern));
        float eps = o->kind == FN_LOSS_LS ? o->smoothing : 0.0f;
        st = fn_kernel_args(kern, FN_ARG(n), FN_ARG(k), FN_ARG(eps), FN_ARG(inv_n), FN_ARG(logits),
                            FN_ARG(labels), FN_ARG(loss), FN_ARG(dlogits), FN_ARG(want_loss),
                            FN_ARG(want_grad), (size_t)0);
    }
    FN_TRY(st);
    size_t local;
    FN_TRY(row_local_size(dev, kern, k, &local));
    /* The __local reduction array is the last argument of every loss kernel. */
    cl_uint nargs = 0;
    FN_CL(clGetKernelInfo(kern, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL));
    FN_CL(clSetKernelArg(kern, nargs - 1, local * sizeof(cl_float4), NULL));
    size_t global = (size_t)n * local;
    return fn_launch(dev, kern, 1, &global, &local);
}
