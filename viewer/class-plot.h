/* The small clickable plots of the viewer, each a drawing area around one pure
 * drawing function of draw.c:
 *   FnvBarChart      a model's predictions (bars), signal "class-activated" (int)
 *   FnvLabelView     the baseline's multi-warm label, signal "class-activated" (int)
 *                    both also "pair-activated" (int) on a secondary click: the
 *                    class to pair with the true one (issue 17.1)
 *   FnvConfusionView a confusion matrix, signal "cell-activated" (int row, int col) */
#ifndef FNV_CLASS_PLOT_H
#define FNV_CLASS_PLOT_H

#include <gtk/gtk.h>
#include <stdint.h>

#define FNV_TYPE_BAR_CHART (fnv_bar_chart_get_type())
G_DECLARE_FINAL_TYPE(FnvBarChart, fnv_bar_chart, FNV, BAR_CHART, GtkDrawingArea)
/* prob (K) and names (K, may be NULL) copied; prob NULL clears. */
void fnv_bar_chart_set(FnvBarChart *self, const float *prob, int k, const char *const *names,
                       int top, int true_class, int selected);

#define FNV_TYPE_LABEL_VIEW (fnv_label_view_get_type())
G_DECLARE_FINAL_TYPE(FnvLabelView, fnv_label_view, FNV, LABEL_VIEW, GtkDrawingArea)
void fnv_label_view_set(FnvLabelView *self, const float *label, int k, const char *const *names,
                        int true_class, int selected);

#define FNV_TYPE_CONFUSION_VIEW (fnv_confusion_view_get_type())
G_DECLARE_FINAL_TYPE(FnvConfusionView, fnv_confusion_view, FNV, CONFUSION_VIEW, GtkDrawingArea)
/* conf (K, K) and names copied; NULL clears. */
void fnv_confusion_view_set(FnvConfusionView *self, const int64_t *conf, int k,
                            const char *const *names, int sel_row, int sel_col);
/* How cells are shaded (fnv_matrix): value / denom[row] (K, copied; NULL: by
 * the row's sum, the default) from white to rgb (FNV_BAR_RGB by default).
 * Call after fnv_confusion_view_set, which sets K. */
void fnv_confusion_view_set_shading(FnvConfusionView *self, const int64_t *denom,
                                    const double rgb[3]);

#endif
