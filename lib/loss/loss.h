/* Training losses on the device, one call per step: cross-entropy, label
 * smoothing, knowledge distillation and the FocusNet focus-picking loss
 * (paper Eq. 4-12, with the switches for the authors' released variant).
 *
 * Every loss works on logits (N, K) with int32 labels (N) and writes, per
 * sample, the loss (N) and, when asked, d(mean over the batch)/d logits
 * (N, K). The gradient OVERWRITES dlogits (it is an input gradient). The
 * frozen network's logits (KD teacher, focus baseline) get no gradient.
 * A label outside [0, K) gives that sample a NaN loss and a zero gradient, so
 * the caller's non-finite check reports it (reading it back would cost a sync). */
#ifndef FN_LOSS_H
#define FN_LOSS_H

#include "../core/core.h"

typedef enum { FN_LOSS_CE, FN_LOSS_LS, FN_LOSS_KD, FN_LOSS_FOCUS } fn_loss_kind;
typedef enum {
    FN_MULTIWARM_LOGIT,  /* paper Eq. 4: l'_n = [z^b_n > 0] */
    FN_MULTIWARM_SOFTMAX /* authors' code: l'_n = [softmax(z^b / T)_n > 1/K] */
} fn_multiwarm_rule;

typedef struct {
    fn_loss_kind kind;
    float smoothing;      /* LS epsilon (0.1): target = (1-eps)*onehot + eps/K */
    float kd_temperature; /* KD T (4) */
    float kd_weight; /* KD w (0.9): L = (1-w)*CE(z,y) + w*T^2*KL(softmax(z_t/T) || softmax(z/T)) */
    float alpha, beta;      /* focus: L = L_cls + alpha*R_att - beta*R_ent (1, 1) */
    int detach_d;           /* focus: d = softmax(z) - softmax(z_b) treated as a constant in the
                               gradient (0: the gradient flows through softmax(z) in d, as the
                               authors' code does). The loss value is the same either way. */
    fn_multiwarm_rule rule; /* FN_MULTIWARM_LOGIT */
    float rule_temperature; /* T of FN_MULTIWARM_SOFTMAX (2 in the authors' code) */
    float cls_smoothing;    /* label smoothing of the target inside L_cls: 0 paper, 0.1 authors */
} fn_loss_opts;

/* The paper's defaults for the given kind (values in the comments above). */
void fn_loss_opts_default(fn_loss_opts *o, fn_loss_kind kind);
/* The focus loss as the authors' code computes it: softmax rule with T = 2,
 * cls_smoothing 0.1, d not detached, alpha = beta = 1. */
void fn_loss_opts_authors(fn_loss_opts *o);
/* "ce", "ls", "kd", "focus" <-> kind. */
const char *fn_loss_kind_name(fn_loss_kind kind);
fn_status fn_loss_kind_parse(const char *name, fn_loss_kind *out);

/* logits (N, K); labels int32 (N); ref_logits (N, K): the frozen teacher (KD)
 * or baseline (focus), NULL for CE and LS.
 * loss (N): per-sample loss, NULL to skip. dlogits (N, K): d(mean over the
 * batch of loss)/d logits, OVERWRITTEN, NULL to skip. multiwarm (N, K): the
 * multi-warm label l (focus only; NULL to skip). Everything stays on the
 * device; one kernel launch, one work-group per sample; no scratch slots. */
fn_status fn_loss_compute(fn_device *dev, const fn_loss_opts *o, cl_mem loss, cl_mem dlogits,
                          cl_mem multiwarm, cl_mem logits, cl_mem labels, cl_mem ref_logits, int n,
                          int k);

/* The plain-C twin (lib/ref/loss.c), computed in double per sample. */
void fn_ref_loss_compute(const fn_loss_opts *o, float *loss, float *dlogits, float *multiwarm,
                         const float *logits, const int32_t *labels, const float *ref_logits, int n,
                         int k);

#endif
