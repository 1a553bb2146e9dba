/* Run folders (rundir.c): the files of a run, protection of an existing run
 * and the run lock. */
#ifndef FN_RUNDIR_H
#define FN_RUNDIR_H

#include <cJSON.h>

#include "../core/core.h"

/* 1 when dir holds a run's files or kept epochs (*which: the first one
 * found). */
int fn_rundir_holds_run(const char *dir, const char **which);
/* Removes a run's files (a fresh run with overwrite), its kept epochs
 * included (DIR/epochs/epoch-*.safetensors; the folder too when that
 * empties it, while an empty folder a user made before stays). */
void fn_rundir_remove_run(const char *dir);
/* Takes the run lock of dir (an existing folder); refused while another
 * process holds it, naming its PID. fn_rundir_unlock(fd) releases it. */
fn_status fn_rundir_lock(const char *dir, int *fd);
void fn_rundir_unlock(int fd);

/* Removes "NAME.tmp-PID" files of writers that died: they are never complete. */
void fn_rundir_remove_stale_temps(const char *dir);

/* ---- The run directory (rundir.c) ------------------------------------------ */
typedef struct {
    const char *dir;
    int created;                                         /* this run made the directory */
    int lock_fd;                                         /* the run lock, -1: none */
    char last[1200], best[1200], log[1200], state[1200]; /* the files' paths */
    char epochs[1200]; /* the folder of kept epochs (--keep-epochs) */
} fn_rundir;

/* DIR/epochs/epoch-NNN.safetensors (NNN: the 1-based epoch, 3 digits or
 * more) into path, creating DIR/epochs when it is not there. */
fn_status fn_rundir_epoch_path(const fn_rundir *d, int epoch, char *path, size_t n);

/* Checks dir, creates it (and parents) if needed, takes its run lock and
 * removes temporary files of killed writers. fresh: a new run, refused
 * where a run is (fn_train_check_out_dir) unless overwrite, whose files then go. */
fn_status fn_rundir_open(fn_rundir *d, const char *dir, int fresh, int overwrite);
/* Releases the lock (after fn_rundir_open, successful or not). */
void fn_rundir_close(fn_rundir *d);
/* After a failure: removes the directory again if this run created it and
 * it is still empty. */
void fn_rundir_failed(const fn_rundir *d);
/* Replaces the log atomically: one line per record of history, then extra
 * (a partial epoch's record, or NULL). */
fn_status fn_rundir_write_log(const fn_rundir *d, const cJSON *history, const cJSON *extra);
/* What the files keep when a run stops on a non-finite value, for messages. */
void fn_rundir_kept(const fn_rundir *d, int last_saved_epoch, char *out, size_t n);

#endif
