/* SGD update on the device: one launch per tensor (kernels/sgd.cl). */
#include <math.h>

#include "sgd.h"

void fn_sgd_opts_default(fn_sgd_opts *o)
{
    o->lr = 0.1f;
    o->momentum = 0.9f;
    o->dampening = 0.0f;
    o->weight_decay = 1e-4f;
    o->nesterov = 0;
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
