/* SGD update on the device: one launch per tensor (kernels/sgd.cl), after
 * the optional gradient-norm clip (fn_reduce_sumsq, then a scaling launch
 * per tensor). */
#include <math.h>
#include <stdlib.h>

#include "../ops/ops.h"
#include "sgd.h"

void fn_sgd_opts_default(fn_sgd_opts *o)
{
    o->lr = 0.1f;
    o->momentum = 0.9f;
    o->dampening = 0.0f;
    o->weight_decay = 1e-4f;
    o->nesterov = 0;
    o->clip_norm = -1.0f; /* a bare optimizer: none; fn_train: the stage's default */
}

fn_status fn_sgd_step(fn_device *dev, const fn_sgd_opts *o, cl_mem param, cl_mem grad,
                      cl_mem momentum_buf, int n, int first_step)
{
    if (!o || n < 0 || !param || !grad) return fn_error(FN_ERR_ARG, "sgd: bad arguments (n=%d)", n);
    if (!isfinite(o->lr) || !isfinite(o->momentum) || !isfinite(o->dampening) ||
        !isfinite(o->weight_decay) || o->momentum < 0.0f || o->weight_decay < 0.0f)
        return fn_error(FN_ERR_ARG,
                        "sgd: bad options lr=%g momentum=%g dampening=%g weight decay=%g", o->lr,
                        o->momentum, o->dampening, o->weight_decay);
    if (o->nesterov && (o->momentum <= 0.0f || o->dampening != 0.0f))
        return fn_error(FN_ERR_ARG, "sgd: Nesterov momentum needs momentum > 0 and no dampening");
    if (o->momentum != 0.0f && !momentum_buf)
        return fn_error(FN_ERR_ARG, "sgd: momentum %g needs a momentum buffer", o->momentum);
    if (n == 0) return FN_OK;
    cl_mem buf = momentum_buf ? momentum_buf : grad; /* never touched without momentum */
    int nesterov = o->nesterov != 0, first = first_step != 0;
    cl_kernel k;
    FN_TRY(fn_kernel_get(dev, "sgd", "sgd_step", &k));
    FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(o->lr), FN_ARG(o->momentum), FN_ARG(o->dampening),
                          FN_ARG(o->weight_decay), FN_ARG(nesterov), FN_ARG(first), FN_ARG(param),
                          FN_ARG(grad), FN_ARG(buf), (size_t)0));
    return fn_launch1(dev, k, (size_t)n);
}

fn_status fn_sgd_create(fn_device *dev, const fn_sgd_opts *o, int n, const size_t *numel,
                        fn_sgd **out)
{
    *out = NULL;
    if (!(o->clip_norm >= 0.0f || o->clip_norm == -1.0f) || !isfinite(o->clip_norm))
        return fn_error(FN_ERR_ARG, "sgd: gradient-norm clip %g (0 or -1: none, else > 0)",
                        o->clip_norm);
    fn_sgd *s = calloc(1, sizeof *s);
    if (!s) return fn_error(FN_ERR_NOMEM, "out of host memory");
    s->dev = dev;
    s->opts = *o;
    s->n = n;
    s->numel = calloc((size_t)n + 1, sizeof *s->numel);
    s->mom = calloc((size_t)n + 1, sizeof *s->mom);
    fn_status st = s->numel && s->mom ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory");
    if (st == FN_OK) st = fn_buffer_new(dev, 2 * sizeof(float), &s->sumsq);
    for (int i = 0; st == FN_OK && i < n; i++) {
        size_t b = numel[i] * sizeof(float);
        s->numel[i] = numel[i];
        st = fn_buffer_new(dev, b, &s->mom[i]);
        if (st == FN_OK) st = fn_buffer_fill(dev, s->mom[i], 0, b, 0.0f);
    }
    if (st != FN_OK) {
        fn_sgd_free(s);
        return st;
    }
    *out = s;
    return FN_OK;
}

void fn_sgd_free(fn_sgd *s)
{
    if (!s) return;
    for (int i = 0; s->mom && i < s->n; i++)
        fn_buffer_free(s->mom[i]);
    fn_buffer_free(s->sumsq);
    free(s->mom);
    free(s->numel);
    free(s);
}

fn_status fn_sgd_clip(fn_sgd *s, const cl_mem *grads)
{
    float clip = s->opts.clip_norm;
    if (clip == 0.0f || clip == -1.0f) return FN_OK;
    if (!(clip > 0.0f) || !isfinite(clip))
        return fn_error(FN_ERR_ARG, "sgd: gradient-norm clip %g (0 or -1: none, else > 0)", clip);
    FN_TRY(fn_reduce_sumsq(s->dev, s->sumsq, grads, s->numel, s->n));
    cl_kernel k;
    FN_TRY(fn_kernel_get(s->dev, "sgd", "grad_clip", &k));
    for (int i = 0; i < s->n; i++) {
        int n = (int)s->numel[i];
        if (n == 0) continue;
        FN_TRY(fn_kernel_args(k, FN_ARG(n), FN_ARG(clip), FN_ARG(s->sumsq), FN_ARG(grads[i]),
                              (size_t)0));
        FN_TRY(fn_launch1(s->dev, k, (size_t)n));
    }
    return FN_OK;
}

fn_status fn_sgd_update(fn_sgd *s, const cl_mem *params, const cl_mem *grads)
{
    FN_TRY(fn_sgd_clip(s, grads));
    int first = s->steps == 0;
    for (int i = 0; i < s->n; i++)
        FN_TRY(
            fn_sgd_step(s->dev, &s->opts, params[i], grads[i], s->mom[i], (int)s->numel[i], first));
    s->steps++;
    return FN_OK;
}
