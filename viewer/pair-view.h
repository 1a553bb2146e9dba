/* The confusing pair (issue 17.1, the paper's Figure 1): for the image shown,
 * the maps of class A (the true class) and class B (the class that confuses
 * the baseline most, or one the user picked) and the contrast "why A, not B"
 * (CAM weights w_A - w_B, Grad-CAM of z_A - z_B), one row per model, drawn by
 * fnv_draw_pair. Signal "close-requested": its close button was pressed. */
#ifndef FNV_PAIR_VIEW_H
#define FNV_PAIR_VIEW_H

#include <gtk/gtk.h>

#include "worker.h"

#define FNV_TYPE_PAIR_VIEW (fnv_pair_view_get_type())
G_DECLARE_FINAL_TYPE(FnvPairView, fnv_pair_view, FNV, PAIR_VIEW, GtkWidget)

/* An image job's pair (j->pair_a >= 0; else the view is emptied); names (K). */
void fnv_pair_view_show(FnvPairView *self, const FnvJob *j, int k, const char *const *names);
void fnv_pair_view_clear(FnvPairView *self, const char *text);
/* A and B share a scale in each model (which class has more evidence); with
 * shared, both models share them too. The contrast is centred on 0. */
void fnv_pair_view_set_style(FnvPairView *self, fn_colormap cm, double opacity, gboolean shared);
/* The classes shown, -1 when none: for tests and --describe. */
void fnv_pair_view_get_pair(FnvPairView *self, int *a, int *b);
/* The heading, as shown ("Why Shirt, not T-shirt?" ...). */
const char *fnv_pair_view_get_heading(FnvPairView *self);

#endif
