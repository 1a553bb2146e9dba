/* Hostile paths and files (issue 12): what is not a regular file is refused
 * at once, never read forever; a folder path that runs through a file is
 * refused; writes say the system's reason. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "io/file.h"
#include "tmpdir.h"

static void expect_refused(const char *path, const char *needle)
{
    uint8_t *data = NULL;
    size_t size = 0;
    /* A FIFO that blocked would hang here; the alarm turns that into a failure. */
    alarm(20);
    fn_status st = fn_file_read(path, 1 << 20, &data, &size);
    alarm(0);
    CHECK(st == FN_ERR_IO && !data, "%s: refused, got %s", path, fn_status_name(st));
    CHECK(strstr(fn_last_error(), path) && strstr(fn_last_error(), needle),
          "%s: message names it and says '%s': %s", path, needle, fn_last_error());
    free(data);
}

static void test_inputs(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/fifo", dir);
    CHECK(mkfifo(p, 0644) == 0, "mkfifo");
    expect_refused(p, "FIFO");
    CHECK(fn_file_check_input(p) == FN_ERR_IO, "a FIFO is no input");
    expect_refused(dir, "directory");
    expect_refused("/dev/zero", "device");
    snprintf(p, sizeof p, "%s/loop", dir);
    CHECK(symlink(p, p) == 0, "symlink loop");
    expect_refused(p, strerror(ELOOP));
    snprintf(p, sizeof p, "%s/sock", dir);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", p);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0) expect_refused(p, "socket");
    if (s >= 0) close(s);
    /* A regular file still reads. */
    snprintf(p, sizeof p, "%s/plain", dir);
    CHECK(write_bytes(p, "abc", 3), "write plain");
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK_OK(fn_file_read(p, 16, &data, &size));
    CHECK(size == 3 && data && memcmp(data, "abc", 3) == 0, "plain file read back");
    free(data);
}

static void test_outputs(const char *dir)
{
    char p[1024], q[1100];
    snprintf(p, sizeof p, "%s/plain", dir);
    snprintf(q, sizeof q, "%s/sub/run", p);
    CHECK(fn_file_check_out_dir(q) == FN_ERR_IO, "a folder through a file is refused");
    CHECK(strstr(fn_last_error(), q) && strstr(fn_last_error(), "not a directory"),
          "message: %s", fn_last_error());
    snprintf(q, sizeof q, "%s/new/run", dir);
    CHECK_OK(fn_file_check_out_dir(q));
    snprintf(q, sizeof q, "%s/x.png", p);
    CHECK(fn_write_file_atomic(q, "x", 1) == FN_ERR_IO, "a file under a file is refused");
    CHECK(fn_write_file_atomic("/dev/full", "x", 1) == FN_ERR_IO, "a device is not replaced");
    CHECK(strstr(fn_last_error(), "/dev/full"), "message: %s", fn_last_error());
    /* A write cut short (the file size limit) keeps the old file and says why. */
    snprintf(q, sizeof q, "%s/keep.bin", dir);
    CHECK_OK(fn_write_file_atomic(q, "old", 3));
    static char big[1 << 17];
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 16 * 1024;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        fn_status st = fn_write_file_atomic(q, big, sizeof big);
        setrlimit(RLIMIT_FSIZE, &old_lim);
        CHECK(st == FN_ERR_IO, "cut short: %s", fn_status_name(st));
        CHECK(strstr(fn_last_error(), q) && strstr(fn_last_error(), strerror(EFBIG)),
              "message names the file and the reason: %s", fn_last_error());
        uint8_t *data = NULL;
        size_t size = 0;
        CHECK_OK(fn_file_read(q, 16, &data, &size));
        CHECK(size == 3 && data && memcmp(data, "old", 3) == 0, "the old file survives");
        free(data);
        CHECK(tmpdir_count(dir, ".tmp-") == 0, "no temporary file left");
    }
    signal(SIGXFSZ, old_sig);
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "hostile");
    test_inputs(dir);
    test_outputs(dir);
    tmpdir_remove(dir);
    printf("%d checks, %d failed\n", check_count, check_failed);
    return check_failed != 0;
}
