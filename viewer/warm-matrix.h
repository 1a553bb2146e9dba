/* The baseline's confusion structure over a split (issue 17.2): the K x K
 * matrix of how often class j is in the multi-warm label of class i's images
 * (fn_multiwarm_counts), the confusions FocusNet is trained to focus on,
 * each cell shaded by its share of class i's images. Signal "cell-activated"
 * (int row, int col): a cell was clicked. */
#ifndef FNV_WARM_MATRIX_H
#define FNV_WARM_MATRIX_H

#include <gtk/gtk.h>

#include "worker.h"

#define FNV_TYPE_WARM_MATRIX (fnv_warm_matrix_get_type())
G_DECLARE_FINAL_TYPE(FnvWarmMatrix, fnv_warm_matrix, FNV, WARM_MATRIX, GtkWidget)

/* The split's results (d->zs[FNV_BASELINE] the baseline's logits; NULL, or no
 * baseline: empty) under the multi-warm rule (0: logit > 0, 1: softmax(z/2) >
 * 1/K); FALSE with the library's message when it cannot be counted. */
gboolean fnv_warm_matrix_set(FnvWarmMatrix *self, const FnvJob *d, int rule, GError **error);
void fnv_warm_matrix_select(FnvWarmMatrix *self, int row, int col);
/* (n, K) membership and (K, K) counts, NULL when empty; owned by the view
 * until the next fnv_warm_matrix_set. */
const uint8_t *fnv_warm_matrix_get_warm(FnvWarmMatrix *self);
const int64_t *fnv_warm_matrix_get_counts(FnvWarmMatrix *self, int *k);

#endif
