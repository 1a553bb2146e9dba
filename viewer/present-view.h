/* The presentation mode (issue 17.5): the image shown, each model's map big
 * side by side with its prediction, and the baseline's multi-warm label, in
 * large type (fnv_draw_present). The window steps through images and classes
 * with the arrow keys while it is shown. */
#ifndef FNV_PRESENT_VIEW_H
#define FNV_PRESENT_VIEW_H

#include <gtk/gtk.h>

#include "worker.h"

#define FNV_TYPE_PRESENT_VIEW (fnv_present_view_get_type())
G_DECLARE_FINAL_TYPE(FnvPresentView, fnv_present_view, FNV, PRESENT_VIEW, GtkWidget)

/* An image job's results (copied): title, names (K), label the baseline's
 * multi-warm label (K) or NULL. */
void fnv_present_view_show(FnvPresentView *self, const FnvJob *j, int k, const char *const *names,
                           const char *title, const float *label);
void fnv_present_view_clear(FnvPresentView *self);
void fnv_present_view_set_style(FnvPresentView *self, fn_colormap cm, double opacity,
                                gboolean shared);
/* What it shows as text, one line per model ("Baseline: Sandal 92% · CAM of
 * Sandal"), for --describe; "" when empty. */
char *fnv_present_view_describe(FnvPresentView *self);

#endif
