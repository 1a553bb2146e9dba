/* Run folders: a fresh run never destroys a run already in its folder, and
 * two runs never share one. The lock is an flock(2) on DIR/run.lock, held
 * while the run lives: the kernel drops it when the process dies, however it
 * dies, so a lock left by a dead run never blocks; the PID written into the
 * file is only for the message. */
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
