/* One training step (focusnet.h): the trainer's epoch loop, the benchmark
 * and a data-parallel trainer all run this one. */
#include <stdlib.h>
#include <string.h>

#include "../loss/loss.h"
#include "train.h"

fn_status fn_trainer_create(fn_model *m, fn_model *ref, const fn_loss_opts *loss,
                            const fn_sgd_opts *sgd, fn_trainer **out)
{
    *out = NULL;
    if (!m || !m->dev || !m->training)
        return fn_error(FN_ERR_ARG, "a trainer needs a model built for training on a device");
    if (ref && (ref->dev != m->dev || ref->cfg.classes != m->cfg.classes ||
                ref->cfg.channels != m->cfg.channels || ref->cfg.height != m->cfg.height ||
                ref->cfg.width_px != m->cfg.width_px || ref->max_batch < m->max_batch))
        return fn_error(FN_ERR_MISMATCH,
                        "the reference model must be on the same device, for the same classes "
                        "and input, and take the model's batch");
    fn_trainer *t = calloc(1, sizeof *t);
    if (!t) return fn_error(FN_ERR_NOMEM, "out of host memory");
    t->dev = m->dev;
    t->model = m;
    t->ref = ref;
    t->loss = *loss;
    t->param = calloc((size_t)m->n_params + 1, sizeof *t->param);
    t->pdata = calloc((size_t)m->n_params + 1, sizeof *t->pdata);
    t->pgrad = calloc((size_t)m->n_params + 1, sizeof *t->pgrad);
    size_t *numel = calloc((size_t)m->n_params + 1, sizeof *numel);
    fn_status st = t->param && t->pdata && t->pgrad && numel
                       ? FN_OK
                       : fn_error(FN_ERR_NOMEM, "out of host memory");
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        if (!p->trainable) continue;
        t->param[t->n] = i;
        t->pdata[t->n] = p->data;
        t->pgrad[t->n] = p->grad;
        numel[t->n] = p->numel;
        t->n_grads += p->numel;
        t->n++;
    }
    if (st == FN_OK) st = fn_sgd_create(t->dev, sgd, t->n, numel, &t->opt);
    free(numel);
    int b = m->max_batch;
    if (st == FN_OK) st = fn_buffer_new(t->dev, (size_t)b * sizeof(int32_t), &t->labels);
    if (st == FN_OK) st = fn_buffer_new(t->dev, (size_t)b * sizeof(float), &t->losses);
    if (st == FN_OK) st = fn_buffer_new(t->dev, 4 * sizeof(float), &t->stats);
    if (st == FN_OK) st = fn_buffer_fill(t->dev, t->stats, 0, 4 * sizeof(float), 0.0f);
    if (st != FN_OK) {
        fn_trainer_free(t);
        return st;
    }
    *out = t;
    return FN_OK;
}

void fn_trainer_free(fn_trainer *t)
{
    if (!t) return;
    fn_sgd_free(t->opt);
    fn_buffer_free(t->labels);
    fn_buffer_free(t->losses);
    fn_buffer_free(t->stats);
    free(t->param);
    free(t->pdata);
    free(t->pgrad);
    free(t);
}

fn_status fn_trainer_forward(fn_trainer *t, const float *x, const int32_t *y, int n)
{
    fn_model *m = t->model;
    int k = m->cfg.classes;
    if (n < 1 || n > m->max_batch)
        return fn_error(FN_ERR_ARG, "batch of %d does not fit this model (1..%d)", n, m->max_batch);
    size_t in_bytes = (size_t)n * m->cfg.channels * m->cfg.height * m->cfg.width_px * sizeof(float);
    FN_TRY(fn_buffer_write(t->dev, m->acts[m->input].data, 0, in_bytes, x));
    FN_TRY(fn_buffer_write(t->dev, t->labels, 0, (size_t)n * sizeof(int32_t), y));
    cl_mem ref = NULL;
    if (t->ref) {
        FN_TRY(fn_buffer_copy(t->dev, t->ref->acts[t->ref->input].data, 0, m->acts[m->input].data,
                              0, in_bytes));
        FN_TRY(fn_model_forward(t->ref, n, 0));
        ref = t->ref->acts[t->ref->logits].data;
    }
    FN_TRY(fn_model_forward(m, n, 1));
    cl_mem logits = m->acts[m->logits].data;
    FN_TRY(fn_loss_compute(t->dev, &t->loss, t->losses, m->acts[m->logits].grad, NULL, logits,
                           t->labels, ref, n, k));
    FN_TRY(fn_batch_stats(t->dev, t->stats, logits, t->labels, t->losses, n, k));
    return fn_model_zero_grad(m);
}

fn_status fn_trainer_grads(fn_trainer *t, const float *x, const int32_t *y, int n)
{
    FN_TRY(fn_trainer_forward(t, x, y, n));
    return fn_model_backward(t->model, n);
}

fn_status fn_trainer_apply(fn_trainer *t)
{
    FN_TRY(fn_sgd_update(t->opt, t->pdata, t->pgrad));
    /* Batch norm's num_batches_tracked, as torch counts it: one per update. */
    t->model->batches_tracked = t->opt->steps;
    return FN_OK;
}

fn_status fn_trainer_step(fn_trainer *t, const float *images, const int32_t *labels, int n)
{
    FN_TRY(fn_trainer_grads(t, images, labels, n));
    if (t->hook) FN_TRY(t->hook(t, t->hook_user));
    return fn_trainer_apply(t);
}

void fn_trainer_set_hook(fn_trainer *t, fn_trainer_hook hook, void *user)
{
    t->hook = hook;
    t->hook_user = user;
}

size_t fn_trainer_grad_count(const fn_trainer *t)
{
    return t->n_grads;
}

fn_status fn_trainer_grads_read(fn_trainer *t, float *host)
{
    for (int j = 0; j < t->n; j++) {
        size_t numel = t->opt->numel[j];
        FN_TRY(fn_buffer_read(t->dev, t->pgrad[j], 0, numel * sizeof(float), host));
        host += numel;
    }
    return FN_OK;
}

fn_status fn_trainer_grads_write(fn_trainer *t, const float *host)
{
    for (int j = 0; j < t->n; j++) {
        size_t numel = t->opt->numel[j];
        FN_TRY(fn_buffer_write(t->dev, t->pgrad[j], 0, numel * sizeof(float), host));
        host += numel;
    }
    return FN_OK;
}

void fn_trainer_set_lr(fn_trainer *t, float lr)
{
    t->opt->opts.lr = lr;
}

float fn_trainer_lr(const fn_trainer *t)
{
    return t->opt->opts.lr;
}

long fn_trainer_steps(const fn_trainer *t)
{
    return t->opt->steps;
}

void fn_trainer_set_steps(fn_trainer *t, long steps)
{
    t->opt->steps = steps;
    t->model->batches_tracked = steps;
}

fn_status fn_trainer_stats_read(fn_trainer *t, float stats[4])
{
    return fn_buffer_read(t->dev, t->stats, 0, 4 * sizeof(float), stats);
}

fn_status fn_trainer_stats_set(fn_trainer *t, const float stats[4])
{
    return fn_buffer_write(t->dev, t->stats, 0, 4 * sizeof(float), stats);
}
