/* Whole-file reads and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/core.h"
#include "file.h"

fn_status fn_file_read(const char *path, size_t max, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return fn_error(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fn_error(FN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)max) {
        fclose(f);
        return fn_error(FN_ERR_FORMAT, "%s: too large: %lld bytes, at most %zu expected", path,
                        (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return fn_error(FN_ERR_NOMEM, "%s: no memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != n) {
        free(buf);
        return fn_error(FN_ERR_IO, "%s: read %zu of %zu bytes", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return FN_OK;
}

/* Makes the rename itself durable; failures here cannot undo the write, so
 * they are ignored. */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1;
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

fn_status fn_file_write_atomic(const char *path, fn_write_fn write, void *ctx)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) return fn_error(FN_ERR_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return fn_error(FN_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    fn_status st = write(f, ctx);
    if (st == FN_OK && (ferror(f) || fflush(f) != 0))
        st = fn_error(FN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (st == FN_OK && fsync(fileno(f)) != 0)
        st = fn_error(FN_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && st == FN_OK)
        st = fn_error(FN_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (st == FN_OK && rename(tmp, path) != 0)
        st = fn_error(FN_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (st != FN_OK) {
        unlink(tmp);
        return st;
    }
    sync_parent_dir(path);
    return FN_OK;
}
