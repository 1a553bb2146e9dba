/* The run directory: where a run's checkpoints, resume state and log live,
 * and what it holds when a run starts, fails or was killed. */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file.h"
#include "train.h"

/* Creates path and its parents; *created says whether path itself is new. */
static fn_status make_dir(const char *path, int *created)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    *created = mkdir(tmp, 0755) == 0;
    if (!*created && errno != EEXIST)
        return fn_error(FN_ERR_IO, "%s: cannot create the run directory: %s", path,
                        strerror(errno));
    return FN_OK;
}

/* Temporary files of writers that were killed ("NAME.tmp-PID" with no such
 * process any more) are removed: they are never complete. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *t = strstr(e->d_name, ".tmp-");
        if (!t) continue;
        char *end;
        long pid = strtol(t + 5, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

fn_status fn_rundir_open(fn_rundir *d, const char *dir, int fresh)
{
    memset(d, 0, sizeof *d);
    d->dir = dir;
    FN_TRY(make_dir(dir, &d->created));
    snprintf(d->last, sizeof d->last, "%s/last.safetensors", dir);
    snprintf(d->best, sizeof d->best, "%s/best.safetensors", dir);
    snprintf(d->log, sizeof d->log, "%s/log.jsonl", dir);
    snprintf(d->state, sizeof d->state, "%s/state.safetensors", dir);
    remove_stale_temps(dir);
    if (fresh) {
        /* A fresh run in an old directory: the old resume point and log go
         * (an old state would resume the wrong run); checkpoints are replaced
         * as this run writes its own. */
        unlink(d->state);
        unlink(d->log);
    }
    return FN_OK;
}

void fn_rundir_failed(const fn_rundir *d)
{
    /* A run that failed before writing anything leaves no empty folder. */
    if (d->created && d->dir) rmdir(d->dir);
}

typedef struct {
    const cJSON *history, *extra;
} log_ctx;

static fn_status write_log_lines(FILE *f, void *arg)
{
    log_ctx *c = arg;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *e = pass == 0 ? (c->history ? c->history->child : NULL) : c->extra;
        for (; e; e = pass == 0 ? e->next : NULL) {
            char *line = cJSON_PrintUnformatted(e);
            if (!line) return fn_error(FN_ERR_NOMEM, "out of host memory");
            int ok = fprintf(f, "%s\n", line) > 0;
            free(line);
            if (!ok) return fn_error(FN_ERR_IO, "log: write failed");
        }
    }
    return FN_OK;
}

fn_status fn_rundir_write_log(const fn_rundir *d, const cJSON *history, const cJSON *extra)
{
    log_ctx c = {history, extra};
    return fn_file_write_atomic(d->log, write_log_lines, &c);
}

void fn_rundir_kept(const fn_rundir *d, int last_saved_epoch, char *out, size_t n)
{
    if (last_saved_epoch > 0)
        snprintf(out, n, "%s keeps epoch %d", d->last, last_saved_epoch);
    else if (access(d->state, F_OK) == 0)
        snprintf(out, n, "%s keeps the last good state", d->state);
    else
        snprintf(out, n, "no checkpoint had been saved yet");
}
