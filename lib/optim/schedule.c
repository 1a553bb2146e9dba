/* Learning-rate schedules, computed on the host in double; see sgd.h. */
#include <math.h>
#include <string.h>

#include "sgd.h"

void fn_lr_constant(fn_lr_schedule *s, float lr0)
{
    memset(s, 0, sizeof *s);
    s->kind = FN_LR_CONSTANT;
    s->lr0 = lr0;
    s->gamma = 1.0f;
}

fn_status fn_lr_step(fn_lr_schedule *s, float lr0, float gamma, const int *milestones, int count)
{
    if (count < 0 || count > FN_LR_MAX_MILESTONES)
        return fn_error(FN_ERR_ARG, "step schedule: %d milestones (at most %d)", count,
                        FN_LR_MAX_MILESTONES);
    for (int i = 1; i < count; i++)
        if (milestones[i] <= milestones[i - 1])
            return fn_error(FN_ERR_ARG, "step schedule: milestones must ascend (%d after %d)",
                            milestones[i], milestones[i - 1]);
    fn_lr_constant(s, lr0);
    s->kind = FN_LR_STEP;
    s->gamma = gamma;
    for (int i = 0; i < count; i++)
        s->milestones[i] = milestones[i];
    s->n_milestones = count;
    return FN_OK;
}

fn_status fn_lr_cosine(fn_lr_schedule *s, float lr0, float lr_min, int total_epochs, int per_step)
{
    if (total_epochs < 1) return fn_error(FN_ERR_ARG, "cosine schedule: %d epochs", total_epochs);
    fn_lr_constant(s, lr0);
    s->kind = FN_LR_COSINE;
    s->lr_min = lr_min;
    s->total = total_epochs;
    s->per_step = per_step != 0;
    return FN_OK;
}

fn_status fn_lr_warmup(fn_lr_schedule *s, float epochs)
{
    if (!(epochs >= 0 && epochs <= 100000))
        return fn_error(FN_ERR_ARG, "warm-up: %g epochs (0 to 100000)", (double)epochs);
    s->warmup = epochs;
    return FN_OK;
}

/* The warm-up factor of step `step` (from 0) of epoch `epoch`. */
static double warmup_factor(const fn_lr_schedule *s, int epoch, int step, int steps_per_epoch)
{
    if (!(s->warmup > 0)) return 1.0;
    double per = steps_per_epoch > 0 ? steps_per_epoch : 1;
    double k = steps_per_epoch > 0 ? (double)epoch * per + step : epoch;
    return fmin(1.0, (k + 1.0) / ((double)s->warmup * per));
}

static float scheduled(const fn_lr_schedule *s, int epoch, int step, int steps_per_epoch);

float fn_lr_at(const fn_lr_schedule *s, int epoch, int step, int steps_per_epoch)
{
    double f = warmup_factor(s, epoch, step, steps_per_epoch);
    float lr = scheduled(s, epoch, step, steps_per_epoch);
    return f < 1.0 ? (float)(lr * f) : lr;
}

static float scheduled(const fn_lr_schedule *s, int epoch, int step, int steps_per_epoch)
{
    switch (s->kind) {
    case FN_LR_STEP: {
        double lr = s->lr0;
        for (int i = 0; i < s->n_milestones; i++)
            if (epoch >= s->milestones[i]) lr *= s->gamma;
        return (float)lr;
    }
    case FN_LR_COSINE: {
        double t = epoch;
        if (s->per_step && steps_per_epoch > 0) t += (double)step / steps_per_epoch;
        t = fmin(fmax(t, 0.0), (double)s->total);
        return (float)(s->lr_min +
                       0.5 * ((double)s->lr0 - s->lr_min) * (1.0 + cos(M_PI * t / s->total)));
    }
    case FN_LR_CONSTANT:
        break;
    }
    return s->lr0;
}
