/* The run directory: where a run's checkpoints, resume state and log live,
 * what it holds when a run starts, fails or was killed, and the run lock.
 *
 * Run folders: a fresh run never destroys a run already in its folder, and
 * two runs never share one. The lock is an flock(2) on DIR/run.lock, held
 * while the run lives: the kernel drops it when the process dies, however it
 * dies, so a lock left by a dead run never blocks; the PID written into the
 * file is only for the message. */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file.h"
#include "rundir.h"

static const char *const run_files[] = {"state.safetensors", "log.jsonl", "last.safetensors",
                                        "best.safetensors", NULL};

/* 1 for "epoch-NNN.safetensors" (NNN: digits), what --keep-epochs writes. */
static int kept_epoch_name(const char *name)
{
    if (strncmp(name, "epoch-", 6) != 0) return 0;
    size_t digits = strspn(name + 6, "0123456789");
    return digits >= 3 && strcmp(name + 6 + digits, ".safetensors") == 0;
}

/* 1 when dir/epochs holds a kept epoch. */
static int holds_epochs(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/epochs", dir);
    DIR *d = opendir(p);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = kept_epoch_name(e->d_name);
    closedir(d);
    return found;
}

int fn_rundir_holds_run(const char *dir, const char **which)
{
    for (int i = 0; run_files[i]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, run_files[i]);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (which) *which = run_files[i];
            return 1;
        }
    }
    /* Kept epochs alone are a run too: a fresh run would mix its epochs in. */
    if (holds_epochs(dir)) {
        if (which) *which = "epochs/";
        return 1;
    }
    return 0;
}

fn_status fn_train_check_out_dir(const char *dir, int overwrite)
{
    if (!dir || !*dir) return fn_error(FN_ERR_ARG, "no run directory (out_dir) given");
    FN_TRY(fn_file_check_out_dir(dir));
    const char *which = NULL;
    if (!overwrite && fn_rundir_holds_run(dir, &which))
        return fn_error(FN_ERR_ARG,
                        "%s already holds a run (%s); continue it with --resume %s, or start "
                        "over with --overwrite",
                        dir, which, dir);
    return FN_OK;
}

void fn_rundir_remove_run(const char *dir)
{
    for (int i = 0; run_files[i]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, run_files[i]);
        unlink(p);
    }
    /* The old run's kept epochs go too, or they would pose as this run's;
     * what else a user put in epochs/ stays (and so does the folder then). */
    char ep[4200];
    snprintf(ep, sizeof ep, "%s/epochs", dir);
    DIR *d = opendir(ep);
    if (!d) return;
    struct dirent *e;
    int removed = 0;
    while ((e = readdir(d)) != NULL) {
        if (!kept_epoch_name(e->d_name)) continue;
        char p[4500];
        snprintf(p, sizeof p, "%s/%s", ep, e->d_name);
        removed += unlink(p) == 0;
    }
    closedir(d);
    fn_rundir_remove_stale_temps(ep);
    /* The folder goes with the old run's epochs; one a user made (empty,
     * before any run) stays. */
    if (removed) rmdir(ep);
}

fn_status fn_rundir_epoch_path(const fn_rundir *d, int epoch, char *path, size_t n)
{
    if (mkdir(d->epochs, 0755) != 0 && errno != EEXIST)
        return fn_error(FN_ERR_IO, "%s: cannot create the folder of kept epochs: %s", d->epochs,
                        strerror(errno));
    if ((size_t)snprintf(path, n, "%s/epoch-%03d.safetensors", d->epochs, epoch) >= n)
        return fn_error(FN_ERR_IO, "%s: path too long", d->epochs);
    return FN_OK;
}

fn_status fn_rundir_lock(const char *dir, int *fd_out)
{
    *fd_out = -1;
    char p[4200];
    snprintf(p, sizeof p, "%s/run.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return fn_error(FN_ERR_IO, "%s: cannot open the run lock: %s", p, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        close(fd);
        long pid = strtol(buf, NULL, 10);
        if (e == EWOULDBLOCK) {
            if (pid > 0)
                return fn_error(FN_ERR_IO, "%s is in use by another run (PID %ld)", dir, pid);
            return fn_error(FN_ERR_IO, "%s is in use by another run", dir);
        }
        return fn_error(FN_ERR_IO, "%s: cannot lock: %s", p, strerror(e));
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        /* The lock holds without the PID; only the message of a second run
         * would lack it. */
    }
    *fd_out = fd;
    return FN_OK;
}

void fn_rundir_unlock(int fd)
{
    if (fd >= 0) close(fd); /* closing drops the flock */
}

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
void fn_rundir_remove_stale_temps(const char *dir)
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

fn_status fn_rundir_open(fn_rundir *d, const char *dir, int fresh, int overwrite)
{
    memset(d, 0, sizeof *d);
    d->dir = dir;
    d->lock_fd = -1;
    FN_TRY(fn_file_check_out_dir(dir));
    FN_TRY(make_dir(dir, &d->created));
    FN_TRY(fn_rundir_lock(dir, &d->lock_fd));
    snprintf(d->last, sizeof d->last, "%s/last.safetensors", dir);
    snprintf(d->best, sizeof d->best, "%s/best.safetensors", dir);
    snprintf(d->log, sizeof d->log, "%s/log.jsonl", dir);
    snprintf(d->state, sizeof d->state, "%s/state.safetensors", dir);
    snprintf(d->epochs, sizeof d->epochs, "%s/epochs", dir);
    fn_rundir_remove_stale_temps(dir);
    fn_rundir_remove_stale_temps(d->epochs);
    if (fresh) {
        /* Checked again under the lock: another run may have written here
         * since fn_train looked. With overwrite the old run goes, all of it
         * (its state would resume the wrong run, its best checkpoint would
         * pose as this run's). */
        FN_TRY(fn_train_check_out_dir(dir, overwrite));
        fn_rundir_remove_run(dir);
    }
    return FN_OK;
}

void fn_rundir_failed(const fn_rundir *d)
{
    /* A run that failed before writing anything leaves no empty folder. */
    if (d->created && d->dir) {
        char lock[1200];
        snprintf(lock, sizeof lock, "%s/run.lock", d->dir);
        unlink(lock);
        rmdir(d->dir);
    }
}

void fn_rundir_close(fn_rundir *d)
{
    if (d->dir) fn_rundir_unlock(d->lock_fd);
    d->lock_fd = -1;
    d->dir = NULL;
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
