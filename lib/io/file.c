/* Whole-file reads and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/core.h"
#include "file.h"

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
    return "not a regular file";
}

fn_status fn_file_check_input(const char *path)
{
    struct stat st;
    if (!path || !*path) return fn_error(FN_ERR_ARG, "no file name given");
    if (stat(path, &st) != 0)
        return fn_error(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fn_error(FN_ERR_IO, "%s: is %s, not a regular file", path, kind_of(st.st_mode));
    return FN_OK;
}

fn_status fn_file_open_read(const char *path, FILE **out)
{
    *out = NULL;
    FN_TRY(fn_file_check_input(path));
    /* O_NONBLOCK: a FIFO swapped in after the check must not make open()
     * wait for a writer forever; fstat then refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fn_error(FN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fn_error(FN_ERR_IO, "%s: not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return fn_error(FN_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    *out = f;
    return FN_OK;
}

fn_status fn_file_read(const char *path, size_t max, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f;
    FN_TRY(fn_file_open_read(path, &f));
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

/* The first existing part of path (itself included) that is not a
 * directory, into bad; 0 when there is none. */
static int through_file(const char *path, char *bad, size_t n, mode_t *mode)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof tmp, "%s", path);
    if (len < 0 || (size_t)len >= sizeof tmp) return 0;
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = 0;
        struct stat st;
        int r = stat(tmp, &st);
        if ((r == 0 && !S_ISDIR(st.st_mode)) || (r != 0 && errno == ELOOP)) {
            snprintf(bad, n, "%s", tmp);
            *mode = r == 0 ? st.st_mode : 0;
            return 1;
        }
        *p = c;
        if (!c) return 0;
    }
}

static const char *what_is(mode_t m)
{
    return m == 0 ? "a symlink loop" : S_ISREG(m) ? "a file" : kind_of(m);
}

fn_status fn_file_check_out_dir(const char *path)
{
    if (!path || !*path) return fn_error(FN_ERR_ARG, "no directory given");
    /* Each existing part must be a directory: "file/sub" is refused here
     * rather than by the first write, maybe hours later. */
    char bad[4096];
    mode_t m;
    if (through_file(path, bad, sizeof bad, &m))
        return fn_error(FN_ERR_IO, "%s: %s is %s, not a directory", path, bad, what_is(m));
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
    FN_TRY(fn_file_check_out_file(path));
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) return fn_error(FN_ERR_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return fn_error(FN_ERR_IO, "cannot write %s: cannot create %s: %s", path, tmp,
                        strerror(errno));
    errno = 0;
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

fn_status fn_file_check_out_file(const char *path)
{
    if (!path || !*path) return fn_error(FN_ERR_ARG, "no output file given");
    struct stat st;
    /* A FIFO or device would be replaced by the rename; a directory cannot be. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return fn_error(FN_ERR_IO, "cannot write %s: it is %s, not a regular file", path,
                        kind_of(st.st_mode));
    char dir[4096], bad[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n == 0 || n >= sizeof dir) return FN_OK;
    memcpy(dir, path, n);
    dir[n] = 0;
    mode_t m;
    if (through_file(dir, bad, sizeof bad, &m))
        return fn_error(FN_ERR_IO, "cannot write %s: %s is %s, not a directory", path, bad,
                        what_is(m));
    return FN_OK;
}

typedef struct {
    const void *data;
    size_t size;
    const char *path;
} bytes_ctx;

static fn_status write_bytes(FILE *f, void *arg)
{
    const bytes_ctx *b = arg;
    if (b->size && fwrite(b->data, 1, b->size, f) != b->size)
        return fn_error(FN_ERR_IO, "%s: write failed: %s", b->path, strerror(errno));
    return FN_OK;
}

fn_status fn_write_file_atomic(const char *path, const void *data, size_t size)
{
    bytes_ctx b = {data, size, path};
    return fn_file_write_atomic(path, write_bytes, &b);
}

fn_status fn_file_hash(const char *path, uint64_t *out)
{
    uint8_t *data;
    size_t size;
    FN_TRY(fn_file_read(path, (size_t)1 << 40, &data, &size));
    *out = fn_hash64(FN_HASH_INIT, data, size);
    free(data);
    return FN_OK;
}
