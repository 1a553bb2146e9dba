/* Run folders (rundir.c): protection of an existing run and the run lock. */
#ifndef FN_RUNDIR_H
#define FN_RUNDIR_H

#include "../core/core.h"

/* 1 when dir holds a run's files (*which: the first one found). */
int fn_rundir_holds_run(const char *dir, const char **which);
/* Removes a run's files (a fresh run with overwrite). */
void fn_rundir_remove_run(const char *dir);
/* Takes the run lock of dir (an existing folder); refused while another
 * process holds it, naming its PID. fn_rundir_unlock(fd) releases it. */
fn_status fn_rundir_lock(const char *dir, int *fd);
void fn_rundir_unlock(int fd);

/* Removes "NAME.tmp-PID" files of writers that died: they are never complete. */
void fn_rundir_remove_stale_temps(const char *dir);

#endif
