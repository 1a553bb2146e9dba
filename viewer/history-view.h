/* The runs' training history (issue 17.4): training loss and test top-1 per
 * epoch of the baseline's and the FocusNet's run on one plot, as `focusnet
 * plot` draws them (fnv_draw_curves, draw/curves.c), read from each run's
 * log.jsonl (fn_run_history_read). The baseline is always the first colour
 * and FocusNet the second; a run without a readable log is named in the
 * legend and in the note under the plot. Hidden while no run has a history.
 * Property "mark-epoch" (int): the epoch marked on both panels (the epoch
 * slider's), 0 for none. */
#ifndef FNV_HISTORY_VIEW_H
#define FNV_HISTORY_VIEW_H

#include <gtk/gtk.h>

#include "worker.h"

#define FNV_TYPE_HISTORY_VIEW (fnv_history_view_get_type())
G_DECLARE_FINAL_TYPE(FnvHistoryView, fnv_history_view, FNV, HISTORY_VIEW, GtkWidget)

/* Reads the log of each slot's run folder (NULL: no model there); returns
 * how many runs have a history. */
int fnv_history_view_set_runs(FnvHistoryView *self, const char *const run_dir[FNV_SLOTS]);
/* Epochs read for slot (0 without a history). */
int fnv_history_view_epochs(FnvHistoryView *self, int slot);

#endif
