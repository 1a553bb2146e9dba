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

/* fn_loss_kind, fn_multiwarm_rule, fn_loss_opts and their helpers are public:
 * see focusnet.h. */

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
