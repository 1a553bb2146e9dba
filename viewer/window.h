/* The viewer's window: a baseline and a FocusNet model side by side on one
 * image at a time, with their class activation maps, predictions, the
 * baseline's multi-warm label and, over a dataset split, their confusion
 * matrices. Every computation runs on the window's worker thread. */
#ifndef FNV_WINDOW_H
#define FNV_WINDOW_H

#include <gtk/gtk.h>

#include "focusnet.h"

#define FNV_TYPE_WINDOW (fnv_window_get_type())
G_DECLARE_FINAL_TYPE(FnvWindow, fnv_window, FNV, WINDOW, GtkApplicationWindow)

FnvWindow *fnv_window_new(GtkApplication *app, const char *device);

/* A run folder (DIR/baseline + DIR/focusnet, or DIR/best.safetensors), a
 * checkpoint (its slot chosen by the loss it was trained with) or an image. */
void fnv_window_open_path(FnvWindow *self, const char *path);
/* Opens each path in turn; of the images among them, the first is selected
 * (issue 17: the last one was). */
void fnv_window_open_paths(FnvWindow *self, const char *const *paths, int n);
/* slot: 0 baseline, 1 FocusNet, -1 by the checkpoint's loss. */
void fnv_window_load_checkpoint(FnvWindow *self, const char *path, int slot);
void fnv_window_add_image(FnvWindow *self, const char *path);
/* Shows the runs' checkpoints of epoch (focusnet train --keep-epochs) once a
 * run that kept it is open; 0: the checkpoints as opened (epoch-slider.h). */
void fnv_window_set_epoch(FnvWindow *self, int epoch);
void fnv_window_open_dataset(FnvWindow *self, const char *spec, const char *split, int limit);

/* Lists the images of true class row whose baseline multi-warm label holds
 * class col (issue 17.2), now or once the split is in. */
void fnv_window_set_warm_cell(FnvWindow *self, int row, int col);

/* What is shown is chosen through properties, bound to the window's controls:
 *   "class-index"     int, the class to map, -1 (default): the top class
 *   "grad-cam"        boolean, Grad-CAM even where plain CAM applies
 *   "colormap"        int, an fn_colormap (viridis)
 *   "opacity"         double in [0, 1] (0.5)
 *   "shared-scale"    boolean, one colour scale for both models (TRUE)
 *   "multiwarm-rule"  int, 0: logit > 0 (the paper), 1: softmax(z/2) > 1/K
 *   "filter"          int, the dataset images listed: 0 all, 1 baseline wrong and
 *                     FocusNet right, 2 the reverse, 3 both wrong, 4 a matrix cell,
 *                     5 a multi-warm matrix cell
 *   "first-index"     int, the dataset image to show once a split is in, -1: none
 *   "pair-class"      int, the confusing pair's class B (issue 17.1): -1 the one the
 *                     baseline finds most probable after the true class, -2 (default)
 *                     no pair view
 *   "present"         boolean, the presentation mode (issue 17.5): the image and
 *                     its maps big in large type; left/right step through the
 *                     images listed, up/down through the classes, Escape leaves
 *   "busy"            boolean, read-only: jobs are running */

/* Once everything asked for so far is shown (or has failed with its message
 * shown), writes the whole window to window_png and the view (what Export
 * writes) to view_png, either may be NULL, with describe prints
 * fnv_window_describe's lines to stdout, and with quit, quits the application. */
void fnv_window_screenshot_when_ready(FnvWindow *self, const char *window_png, const char *view_png,
                                      gboolean describe, gboolean quit);
/* What the window shows, as lines "describe: ...": the window's size, each
 * panel's caption, the confusing pair, and for each view (confusion
 * matrices, ...) where it lies and whether the scrolled view shows all of it
 * without scrolling (issue 17.6: the matrices were cut off). */
char *fnv_window_describe(FnvWindow *self);
/* Writes what the window shows now (the image, maps, plots) to a PNG. */
gboolean fnv_window_export(FnvWindow *self, const char *path, GError **error);

#endif
