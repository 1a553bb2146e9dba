/* The epoch slider (issue 17.3): replays the current image through the
 * checkpoints the two runs kept along their training (epochs.h). Its
 * positions are the epochs either run kept, ascending, then the checkpoints
 * as opened ("opened": a run folder's best) at the right end. A model whose run kept no
 * checkpoint of the epoch shown is left out there, and says so; the other
 * is shown alone. Hidden while neither run kept any.
 * Property "epoch" (int): the epoch shown, 0 for the checkpoints as opened.
 * An epoch asked for before the runs are known (--epoch) is kept and shown
 * once a run that kept it is. */
#ifndef FNV_EPOCH_SLIDER_H
#define FNV_EPOCH_SLIDER_H

#include <gtk/gtk.h>

#include "worker.h"

#define FNV_TYPE_EPOCH_SLIDER (fnv_epoch_slider_get_type())
G_DECLARE_FINAL_TYPE(FnvEpochSlider, fnv_epoch_slider, FNV, EPOCH_SLIDER, GtkWidget)

/* The run folder of each slot (NULL: no model there); rescans their epochs. */
void fnv_epoch_slider_set_runs(FnvEpochSlider *self, const char *const run_dir[FNV_SLOTS]);
/* The epoch shown; 0: the checkpoints as opened. */
int fnv_epoch_slider_get_epoch(FnvEpochSlider *self);
/* The checkpoint of slot at the epoch shown (g_free it): NULL with *kept TRUE
 * for the checkpoint as opened, NULL with *kept FALSE where its run kept no
 * checkpoint of that epoch. */
char *fnv_epoch_slider_checkpoint(FnvEpochSlider *self, int slot, gboolean *kept);
/* Why slot shows nothing at this epoch, one line (g_free it). */
char *fnv_epoch_slider_missing(FnvEpochSlider *self, int slot);
/* The epochs slot's run kept (n of them), owned by the slider. */
const int *fnv_epoch_slider_kept(FnvEpochSlider *self, int slot, int *n);

#endif
