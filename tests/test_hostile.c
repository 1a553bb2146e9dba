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

#include <cJSON.h>

#include "check.h"
#include "io/safetensors.h"
#include "train/train.h"
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
    CHECK(strstr(fn_last_error(), q) && strstr(fn_last_error(), "not a directory"), "message: %s",
          fn_last_error());
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

static void test_utf8(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x88", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x88"},
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* cut short at the end */
        {"q\"\\\n\x01", "q\"\\\n\x01"},                           /* JSON's part: cJSON escapes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = fn_utf8_sanitize(cases[i].in);
        CHECK(got && strcmp(got, cases[i].out) == 0, "utf8 case %zu: got '%s'", i, got);
        free(got);
    }
}

/* A safetensors header with hostile names is valid JSON and valid UTF-8, and
 * reads back (with U+FFFD for the bad bytes). */
static void test_header(const char *dir)
{
    const char *name = "t\"\\\n\x01\xff", *key = "k\"\xfe", *val = "v\\\t\x1f\xc3";
    float w[2] = {1, 2};
    fn_st_tensor t = {.name = name, .dtype = FN_ST_F32, .ndim = 1, .shape = {2}, .data = w};
    char path[1024];
    snprintf(path, sizeof path, "%s/odd.safetensors", dir);
    CHECK_OK(fn_st_write(path, &t, 1, &key, &val, 1));
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK_OK(fn_file_read(path, 1 << 20, &b, &n));
    if (!b || n < 8) return;
    size_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    char *h = strndup((const char *)b + 8, hl);
    char *clean = fn_utf8_sanitize(h);
    CHECK(clean && strcmp(clean, h) == 0, "the header is valid UTF-8: %s", h);
    cJSON *j = cJSON_Parse(h);
    CHECK(j != NULL, "the header is valid JSON: %s", h);
    cJSON_Delete(j);
    free(clean);
    free(h);
    free(b);
    fn_st_file *f = NULL;
    CHECK_OK(fn_st_open(path, &f));
    if (!f) return;
    CHECK(fn_st_find(f, "t\"\\\n\x01\xef\xbf\xbd") != NULL, "the tensor name reads back repaired");
    const char *v = fn_st_meta(f, "k\"\xef\xbf\xbd");
    CHECK(v && strcmp(v, "v\\\t\x1f\xef\xbf\xbd") == 0, "the metadata reads back: %s", v ? v : "-");
    fn_st_close(f);
}

/* A copy of the committed PyTorch checkpoint with one value of `tensor` set to v. */
static void write_poisoned(const char *src, const char *dst, const char *tensor, float v)
{
    fn_st_file *f = NULL;
    CHECK_OK(fn_st_open(src, &f));
    if (!f) return;
    int n = fn_st_count(f), nm = fn_st_meta_count(f);
    fn_st_tensor *t = calloc((size_t)n, sizeof *t);
    const char **keys = calloc((size_t)nm + 1, sizeof *keys),
               **vals = calloc((size_t)nm + 1, sizeof *vals);
    void **copies = calloc((size_t)n, sizeof *copies);
    for (int i = 0; i < n; i++) {
        t[i] = *fn_st_tensor_at(f, i);
        copies[i] = malloc(t[i].nbytes + 4);
        memcpy(copies[i], t[i].data, t[i].nbytes);
        if (strcmp(t[i].name, tensor) == 0 && t[i].dtype == FN_ST_F32 && t[i].nbytes >= 8)
            memcpy((char *)copies[i] + 4, &v, 4);
        t[i].data = copies[i];
    }
    for (int i = 0; i < nm; i++)
        fn_st_meta_at(f, i, &keys[i], &vals[i]);
    CHECK_OK(fn_st_write(dst, t, n, keys, vals, nm));
    for (int i = 0; i < n; i++)
        free(copies[i]);
    free(copies);
    free(t);
    free(keys);
    free(vals);
    fn_st_close(f);
}

static void test_non_finite(const char *dir)
{
    const char *src_dir = getenv("FOCUSNET_SOURCE_DIR");
    char src[1024], dst[1100];
    snprintf(src, sizeof src, "%s/tests/fixtures/torch_lenet5.safetensors",
             src_dir ? src_dir : "..");
    fn_device *dev = NULL;
    CHECK_OK(fn_device_open(NULL, &dev));
    if (!dev) return;
    fn_model *m = NULL;
    CHECK_OK(fn_checkpoint_load(dev, src, NULL, 1, 0, &m)); /* the fixture itself loads */
    fn_model_free(m);
    const float bad[2] = {NAN, -INFINITY};
    for (int k = 0; k < 2; k++) {
        snprintf(dst, sizeof dst, "%s/poisoned%d.safetensors", dir, k);
        write_poisoned(src, dst, "conv2.weight", bad[k]);
        m = NULL;
        fn_status st = fn_checkpoint_load(dev, dst, NULL, 1, 0, &m);
        CHECK(st == FN_ERR_FORMAT && !m, "a checkpoint with %s is refused: %s", k ? "-inf" : "NaN",
              fn_status_name(st));
        CHECK(strstr(fn_last_error(), dst) && strstr(fn_last_error(), "conv2.weight") &&
                  strstr(fn_last_error(), k ? "infinity" : "NaN") && !strchr(fn_last_error(), '\n'),
              "one line naming the file and the tensor: %s", fn_last_error());
        fn_model_free(m);
    }
    fn_device_free(dev);
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "hostile");
    test_inputs(dir);
    test_outputs(dir);
    test_utf8();
    test_header(dir);
    test_non_finite(dir);
    tmpdir_remove(dir);
    printf("%d checks, %d failed\n", check_count, check_failed);
    return check_failed != 0;
}
