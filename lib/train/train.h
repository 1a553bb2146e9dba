/* Training internals shared by train.c, evaluate.c and the tests. */
#ifndef FN_TRAIN_H
#define FN_TRAIN_H

#include "../data/data.h"
#include "../nn/model.h"

fn_status fn_eval_begin(fn_eval_report *r, int classes);
/* Adds n samples' logits (n, K) and labels to the report's sums. */
void fn_eval_add(fn_eval_report *r, const float *logits, const int32_t *labels, int n);
void fn_eval_end(fn_eval_report *r);
fn_status fn_evaluate_dataset(fn_model *m, const fn_dataset *d, fn_eval_report *out);

/* stats (4 floats) += {sum of loss, correct top-1, non-finite losses, samples}
 * for one batch, on the device: the step loop reads it only every few steps. */
fn_status fn_batch_stats(fn_device *dev, cl_mem stats, cl_mem logits, cl_mem labels, cl_mem loss,
                         int n, int k);

#endif
