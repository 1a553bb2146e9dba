/* The checkpoints a run kept along its training (focusnet train
 * --keep-epochs E): RUN_DIR/epochs/epoch-NNN.safetensors, NNN the 1-based
 * epoch in at least 3 digits, zero padded, in the format of the run's best
 * checkpoint. Plain GLib, no GTK: the epoch slider reads runs through these. */
#ifndef FNV_EPOCHS_H
#define FNV_EPOCHS_H

#include <glib.h>

/* The run folder of a checkpoint: its folder, or the run above it for one of
 * the run's epochs/ checkpoints. g_free it. */
char *fnv_run_dir_of(const char *checkpoint);
/* The epochs run_dir kept, ascending, into *n (0 and NULL for none, no
 * epochs/ folder or run_dir NULL). Names that are not exactly
 * epoch-NNN.safetensors, and anything not a regular file, are not epochs. g_free it. */
int *fnv_kept_epochs(const char *run_dir, int *n);
/* RUN_DIR/epochs/epoch-NNN.safetensors of epoch (1-based). g_free it. */
char *fnv_epoch_checkpoint(const char *run_dir, int epoch);

#endif
