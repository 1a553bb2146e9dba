/* Stochastic gradient descent with momentum, exactly torch.optim.SGD's rule,
 * and the learning-rate schedules of the paper (step decay) and cosine. */
#ifndef FN_SGD_H
#define FN_SGD_H

#include "../core/core.h"

/* fn_sgd_opts and fn_sgd_opts_default are public (focusnet.h). */

/* One update of one tensor of n floats, one kernel launch:
 *   g = grad + wd * p
 *   if momentum != 0:
 *       buf = first_step ? g : momentum * buf + (1 - dampening) * g
 *       g = nesterov ? g + momentum * buf : buf
 *   p -= lr * g
 * momentum_buf (n) may be NULL when momentum == 0; grad is only read.
 * first_step is true for the tensor's first update (torch creates the buffer
 * then), so the buffer's earlier contents do not matter. */
fn_status fn_sgd_step(fn_device *dev, const fn_sgd_opts *o, cl_mem param, cl_mem grad,
                      cl_mem momentum_buf, int n, int first_step);

/* ---- The optimizer: SGD over a fixed list of tensors ------------------------
 * It owns one momentum buffer per tensor (zeroed when created, so a state
 * saved before the first step is meaningful) and the number of updates
 * taken. It knows nothing of models: the caller passes the tensors' buffers
 * in the order they were given at creation. */
typedef struct {
    fn_device *dev;
    fn_sgd_opts opts;
    int n;         /* tensors */
    size_t *numel; /* (n) */
    cl_mem *mom;   /* (n) momentum buffers of numel[i] floats */
    long steps;    /* updates taken: momentum starts on the first */
    cl_mem sumsq;  /* 2 floats: the clip's squared gradient norm (fn_reduce_sumsq) */
} fn_sgd;

fn_status fn_sgd_create(fn_device *dev, const fn_sgd_opts *o, int n, const size_t *numel,
                        fn_sgd **out);
void fn_sgd_free(fn_sgd *s);
/* One update of every tensor i: params[i] from grads[i] (fn_sgd_step's
 * rule), after fn_sgd_clip. */
fn_status fn_sgd_update(fn_sgd *s, const cl_mem *params, const cl_mem *grads);
/* With opts.clip_norm X > 0, torch.nn.utils.clip_grad_norm_(params, X) on
 * the device, in place: norm = the L2 norm of all the grads[i] together,
 * each scaled by X / (norm + 1e-6) where that is below 1. Nothing is read
 * back to the host. Before the weight decay, as torch's clip of the loss
 * gradient comes before SGD adds it. X 0 or -1: nothing. */
fn_status fn_sgd_clip(fn_sgd *s, const cl_mem *grads);

/* The plain-C twins (lib/ref/sgd.c); fn_ref_clip_grad_norm returns the norm
 * (in double, then rounded to float as torch's float32 norm). */
void fn_ref_sgd_step(const fn_sgd_opts *o, float *param, const float *grad, float *momentum_buf,
                     int n, int first_step);
float fn_ref_clip_grad_norm(float *const *grads, const size_t *numel, int n, float clip);

/* ---- Learning-rate schedules (host only, lib/optim/schedule.c) ------------
 * Epochs count from 0. Within epoch e, after s of the epoch's S steps, the
 * position is t = e + s/S epochs.
 *   FN_LR_CONSTANT  lr0
 *   FN_LR_STEP      lr0 * gamma^(number of milestones <= e): torch's
 *                   MultiStepLR stepped once per epoch; milestones {100, 150}
 *                   give lr0 for epochs 0-99, lr0*gamma for 100-149, then
 *                   lr0*gamma^2. Constant within an epoch.
 *   FN_LR_COSINE    lr_min + 0.5 (lr0 - lr_min)(1 + cos(pi t / total)),
 *                   t clamped to [0, total] epochs: torch's CosineAnnealingLR
 *                   with T_max = total. per_step = 0 uses t = e (updated once
 *                   per epoch, as that scheduler stepped per epoch); per_step
 *                   = 1 uses t = e + s/S (smooth within the epoch).
 * Any of them may be preceded by a linear warm-up (fn_lr_warmup). */
typedef enum { FN_LR_CONSTANT, FN_LR_STEP, FN_LR_COSINE } fn_lr_kind;

#define FN_LR_MAX_MILESTONES 16

typedef struct {
    fn_lr_kind kind;
    float lr0;
    float gamma;                          /* step: factor at each milestone (0.1) */
    int milestones[FN_LR_MAX_MILESTONES]; /* step: epochs, ascending */
    int n_milestones;
    float lr_min; /* cosine: the final learning rate (0) */
    int total;    /* cosine: length in epochs */
    int per_step; /* cosine: follow t = e + s/S instead of t = e */
    float warmup; /* epochs of linear warm-up in front of any kind (0: none) */
} fn_lr_schedule;

void fn_lr_constant(fn_lr_schedule *s, float lr0);
/* milestones ascending, at most FN_LR_MAX_MILESTONES. */
fn_status fn_lr_step(fn_lr_schedule *s, float lr0, float gamma, const int *milestones, int count);
fn_status fn_lr_cosine(fn_lr_schedule *s, float lr0, float lr_min, int total_epochs, int per_step);
/* The learning rate for step `step` of `steps_per_epoch` in epoch `epoch`
 * (step and steps_per_epoch only matter for a per-step cosine; pass 0, 0
 * for the rate of a whole epoch). */
float fn_lr_at(const fn_lr_schedule *s, int epoch, int step, int steps_per_epoch);
/* A linear warm-up over the first `epochs` epochs (0: none; set after the
 * schedule's constructor, which clears it), as large-batch SGD recipes do
 * (Goyal et al. 2017): the k-th step of the run (k = e S + s, from 0) gets
 * the schedule's rate times min(1, (k + 1) / (epochs S)), so the first step
 * takes lr/(epochs S) and the last warm-up step the full rate. The loss is
 * untouched; only the step size grows. With steps_per_epoch 0 the factor is
 * that of the epoch's last step. */
fn_status fn_lr_warmup(fn_lr_schedule *s, float epochs);

#endif
