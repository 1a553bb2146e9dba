/* The window's sidebar: the images opened and the rows of a dataset split
 * that its filter keeps (all, where FocusNet fixes or breaks the baseline,
 * both wrong, one confusion-matrix cell), the dataset spec and split to load,
 * and a line of accuracies. Signal "image-changed": another row is shown
 * (chosen by the user or by the list); property "filter". */
#ifndef FNV_IMAGE_LIST_H
#define FNV_IMAGE_LIST_H

#include <gtk/gtk.h>

#include "worker.h"

typedef enum {
    FNV_FILTER_ALL,
    FNV_FILTER_FIXED,  /* baseline wrong, FocusNet right */
    FNV_FILTER_BROKEN, /* baseline right, FocusNet wrong */
    FNV_FILTER_BOTH_WRONG,
    FNV_FILTER_CELL, /* the cell chosen with fnv_image_list_set_cell */
    FNV_FILTER_WARM, /* the multi-warm cell chosen with fnv_image_list_set_warm_cell */
} FnvFilter;

#define FNV_TYPE_IMAGE_LIST (fnv_image_list_get_type())
G_DECLARE_FINAL_TYPE(FnvImageList, fnv_image_list, FNV, IMAGE_LIST, GtkWidget)

/* Appends an image file and shows it. */
void fnv_image_list_add_file(FnvImageList *self, const char *path);
/* Image files in the list (they are its first rows), and selecting one. */
int fnv_image_list_count_files(FnvImageList *self);
void fnv_image_list_select_file(FnvImageList *self, int i);
/* The split's results (borrowed: the caller keeps d alive until it sets
 * another or NULL). With d, the filter's first row is shown, or the row of
 * dataset image want_index (>= 0); NULL drops the split's rows, the shown row
 * too if it was one. */
void fnv_image_list_set_dataset(FnvImageList *self, const FnvJob *d, int want_index);
void fnv_image_list_set_filter(FnvImageList *self, FnvFilter filter);
FnvFilter fnv_image_list_get_filter(FnvImageList *self);
/* Lists the images of model slot's confusion cell (true row, predicted col). */
void fnv_image_list_set_cell(FnvImageList *self, int slot, int row, int col);
/* The baseline's multi-warm membership over the split (issue 17.2): warm
 * (n, K) as fn_multiwarm_counts gives it, borrowed like the split's results;
 * fnv_image_list_set_dataset forgets it. */
void fnv_image_list_set_warm(FnvImageList *self, const uint8_t *warm);
/* Lists the images of true class row whose label holds class col. */
void fnv_image_list_set_warm_cell(FnvImageList *self, int row, int col);
/* The cell of FNV_FILTER_WARM, or -1, -1. */
void fnv_image_list_get_warm_cell(FnvImageList *self, int *row, int *col);
/* The line under the list: "N images listed ... of M. Baseline 91.2%. ..." */
const char *fnv_image_list_get_summary(FnvImageList *self);
/* Shows the row delta rows after (before, delta < 0) the one shown, within
 * the list; returns whether it moved (the presentation mode's arrow keys). */
gboolean fnv_image_list_step(FnvImageList *self, int delta);
/* The cell of FNV_FILTER_CELL in slot, or -1, -1. */
void fnv_image_list_get_cell(FnvImageList *self, int slot, int *row, int *col);
/* The row shown: an image file (*path) or a dataset image (*index, path
 * NULL); FALSE when none is. */
gboolean fnv_image_list_get_current(FnvImageList *self, const char **path, int *index);

/* The dataset to load: its spec ("fashion-mnist", ...) and split. */
const char *fnv_image_list_get_spec(FnvImageList *self);
void fnv_image_list_set_spec(FnvImageList *self, const char *spec);
const char *fnv_image_list_get_split(FnvImageList *self);
void fnv_image_list_set_split(FnvImageList *self, const char *split);

#endif
