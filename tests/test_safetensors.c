/* safetensors: round trips, a file laid out as PyTorch's safetensors writes
 * it, every kind of corruption we promise to catch, and atomic writes. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "io/safetensors.h"
#include "tmpdir.h"

/* 8-byte little-endian length + header (padded with spaces to a multiple of
 * 8, as the Python library does) + data. */
static size_t build(uint8_t *out, const char *header, const void *data, size_t data_size)
{
    size_t n = strlen(header), padded = (n + 7) / 8 * 8;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(out + 8, header, n);
    memset(out + 8 + n, ' ', padded - n);
    if (data_size) memcpy(out + 8 + padded, data, data_size);
    return 8 + padded + data_size;
}

static void expect_bad(const char *what, const uint8_t *bytes, size_t size, const char *needle)
{
    fn_st_file *f = NULL;
    fn_status st = fn_st_open_mem(what, bytes, size, &f);
    CHECK(st == FN_ERR_FORMAT, "%s: expected a format error, got %s", what, fn_status_name(st));
    CHECK(f == NULL, "%s: no file on failure", what);
    CHECK(strstr(fn_last_error(), what) != NULL, "%s: message should name the file: %s", what,
          fn_last_error());
    CHECK(!needle || strstr(fn_last_error(), needle), "%s: message \"%s\" lacks \"%s\"", what,
          fn_last_error(), needle);
    fn_st_close(f);
}

static void expect_bad_header(const char *what, const char *header, size_t data_size,
                              const char *needle)
{
    static uint8_t buf[1 << 16], data[4096];
    size_t n = build(buf, header, data, data_size);
    expect_bad(what, buf, n, needle);
}

static void test_pytorch_layout(void)
{
    /* What safetensors.torch.save_file({"w": torch.tensor([[1., 2.], [3., 4.]])}) writes. */
    const char *header = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":"
                         "[2,2],\"data_offsets\":[0,16]}}";
    float w[4] = {1, 2, 3, 4};
    uint8_t buf[512];
    size_t n = build(buf, header, w, sizeof w);
    fn_st_file *f = NULL;
    CHECK_OK(fn_st_open_mem("pt.safetensors", buf, n, &f));
    if (!f) return;
    CHECK(fn_st_count(f) == 1, "one tensor");
    const fn_st_tensor *t = fn_st_find(f, "w");
    CHECK(t && t->dtype == FN_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 2,
          "w is F32 [2, 2]");
    float got[4];
    CHECK_OK(fn_st_get_f32(f, "w", got, 4));
    check_close("pt w", got, w, 4, 0, 0);
    CHECK(fn_st_meta(f, "format") && strcmp(fn_st_meta(f, "format"), "pt") == 0, "format=pt");
    CHECK(fn_st_meta(f, "missing") == NULL, "absent metadata is NULL");
    CHECK(fn_st_get_f32(f, "w", got, 3) == FN_ERR_MISMATCH, "element count is checked");
    CHECK(fn_st_get_f32(f, "v", got, 4) == FN_ERR_FORMAT, "a missing tensor is an error");
    fn_st_close(f);

    /* The same with the order PyTorch's writer may also use (metadata last). */
    const char *header2 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                          "\"__metadata__\":{\"format\":\"pt\"}}";
    n = build(buf, header2, w, sizeof w);
    CHECK_OK(fn_st_open_mem("pt2.safetensors", buf, n, &f));
    if (f) {
        CHECK(fn_st_meta_count(f) == 1, "one metadata entry");
        CHECK_OK(fn_st_get_f32(f, "w", got, 4));
        check_close("pt2 w", got, w, 4, 0, 0);
        fn_st_close(f);
    }
}

static void test_round_trip(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    float a[6] = {1.5f, -2, 3.25f, 0, 1e-30f, -7e20f};
    double b[4] = {1.0 / 3, -2.5, 1e10, 0};
    uint16_t h[5] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001}; /* 1, -2, 0.5, 65504, 2^-24 */
    uint16_t bf[3] = {0x3F80, 0xC040, 0x0000};                /* 1, -3, 0 */
    int64_t i64[3] = {-5, 0, 1 << 20};
    int32_t i32[2] = {-7, 123456};
    float scalar = 42;
    fn_st_tensor t[8] = {
        {.name = "layer.weight", .dtype = FN_ST_F32, .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b64", .dtype = FN_ST_F64, .ndim = 1, .shape = {4}, .data = b},
        {.name = "half", .dtype = FN_ST_F16, .ndim = 1, .shape = {5}, .data = h},
        {.name = "bf", .dtype = FN_ST_BF16, .ndim = 3, .shape = {1, 3, 1}, .data = bf},
        {.name = "count", .dtype = FN_ST_I64, .ndim = 1, .shape = {3}, .data = i64},
        {.name = "ints \"quoted\"\n", .dtype = FN_ST_I32, .ndim = 1, .shape = {2}, .data = i32},
        {.name = "scalar", .dtype = FN_ST_F32, .ndim = 0, .data = &scalar},
        {.name = "empty", .dtype = FN_ST_F32, .ndim = 2, .shape = {0, 4}, .data = NULL},
    };
    const char *keys[2] = {"epoch", "note"}, *values[2] = {"12", "a \"quote\" and \\ and \t"};
    CHECK_OK(fn_st_write(path, t, 8, keys, values, 2));
    CHECK(tmpdir_count(dir, ".tmp-") == 0, "no temporary file left");

    /* The header is padded so that the data starts 8-byte aligned. */
    FILE *fp = fopen(path, "rb");
    uint8_t len[8] = {0};
    CHECK(fp && fread(len, 1, 8, fp) == 8, "read the length");
    if (fp) fclose(fp);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | len[i];
    CHECK(hl % 8 == 0, "header length %llu is a multiple of 8", (unsigned long long)hl);

    fn_st_file *f = NULL;
    CHECK_OK(fn_st_open(path, &f));
    if (!f) return;
    CHECK(fn_st_count(f) == 8, "8 tensors, got %d", fn_st_count(f));
    for (int i = 0; i < 8 && i < fn_st_count(f); i++) {
        const fn_st_tensor *r = fn_st_tensor_at(f, i);
        CHECK(strcmp(r->name, t[i].name) == 0, "tensor %d keeps its name and order", i);
        CHECK(r->dtype == t[i].dtype && r->ndim == t[i].ndim, "tensor %d dtype and rank", i);
        for (int d = 0; d < r->ndim; d++)
            CHECK(r->shape[d] == t[i].shape[d], "tensor %d dim %d", i, d);
        size_t bytes = fn_st_numel(r) * fn_st_dtype_size(r->dtype);
        CHECK(r->nbytes == bytes, "tensor %d size", i);
        CHECK(bytes == 0 || memcmp(r->data, t[i].data, bytes) == 0, "tensor %d bytes", i);
    }
    float got[6];
    CHECK_OK(fn_st_get_f32(f, "layer.weight", got, 6));
    check_close("f32", got, a, 6, 0, 0);
    float want_b[4] = {(float)(1.0 / 3), -2.5f, 1e10f, 0};
    CHECK_OK(fn_st_get_f32(f, "b64", got, 4));
    check_close("f64", got, want_b, 4, 0, 0);
    float want_h[5] = {1, -2, 0.5f, 65504, 5.9604645e-8f};
    CHECK_OK(fn_st_get_f32(f, "half", got, 5));
    check_close("f16", got, want_h, 5, 0, 0);
    float want_bf[3] = {1, -3, 0};
    CHECK_OK(fn_st_get_f32(f, "bf", got, 3));
    check_close("bf16", got, want_bf, 3, 0, 0);
    float want_i64[3] = {-5, 0, 1 << 20}, want_i32[2] = {-7, 123456};
    CHECK_OK(fn_st_get_f32(f, "count", got, 3));
    check_close("i64", got, want_i64, 3, 0, 0);
    CHECK_OK(fn_st_get_f32(f, "ints \"quoted\"\n", got, 2));
    check_close("i32", got, want_i32, 2, 0, 0);
    CHECK_OK(fn_st_get_f32(f, "scalar", got, 1));
    CHECK(got[0] == 42, "scalar");
    CHECK_OK(fn_st_get_f32(f, "empty", got, 0));
    CHECK(fn_st_meta_count(f) == 2, "two metadata entries");
    for (int i = 0; i < 2; i++) {
        const char *v = fn_st_meta(f, keys[i]);
        CHECK(v && strcmp(v, values[i]) == 0, "metadata %s = %s", keys[i], v ? v : "(none)");
    }
    fn_st_close(f);

    /* No tensors and no metadata is still a valid file. */
    CHECK_OK(fn_st_write(path, NULL, 0, NULL, NULL, 0));
    CHECK_OK(fn_st_open(path, &f));
    if (f) {
        CHECK(fn_st_count(f) == 0 && fn_st_meta_count(f) == 0, "empty file");
        fn_st_close(f);
    }
}

static void test_corrupt(void)
{
    uint8_t buf[256];
    expect_bad("short.safetensors", (const uint8_t *)"\x10\x00\x00", 3, "truncated");
    /* Header length larger than the file, and absurdly large. */
    size_t n = build(buf, "{}", NULL, 0);
    buf[0] = 200;
    expect_bad("long.safetensors", buf, n, "exceeds");
    memset(buf, 0xff, 8);
    expect_bad("huge.safetensors", buf, n, "exceeds");
    buf[7] = 0x7f;
    expect_bad("huge2.safetensors", buf, n, "exceeds");

    expect_bad_header("notjson.safetensors", "{\"w\": {\"dtype\": ", 0, "JSON");
    expect_bad_header("garbage.safetensors", "hello world", 0, "JSON");
    expect_bad_header("array.safetensors", "[1, 2, 3]", 0, "object");
    expect_bad_header("after.safetensors", "{} {}", 0, "after");
    expect_bad_header("negshape.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8,
                      "shape");
    expect_bad_header("fracshape.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,10]}}", 10,
                      "shape");
    expect_bad_header("bigshape.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                      "\"data_offsets\":[0,0]}}",
                      0, "shape");
    expect_bad_header("hugeshape.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,0]}}", 0,
                      "shape");
    /* A product that wraps to a small number must not pass: 2^62 * 4 bytes. */
    expect_bad_header("wrap.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],"
                      "\"data_offsets\":[0,0]}}",
                      0, NULL);
    expect_bad_header("range.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8,
                      "outside");
    expect_bad_header("reversed.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
                      "outside");
    expect_bad_header("negoff.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8,
                      "data_offsets");
    expect_bad_header("sizediff.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 16,
                      "need 16 bytes");
    expect_bad_header("threeoff.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
                      "data_offsets");
    expect_bad_header("dtype.safetensors",
                      "{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
                      "dtype");
    expect_bad_header("dtypenum.safetensors",
                      "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype");
    expect_bad_header("missing.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
                      "data_offsets");
    expect_bad_header("notobj.safetensors", "{\"w\":[1,2]}", 0, "object");
    expect_bad_header("dup.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                      8, "twice");
    expect_bad_header("overlap.safetensors",
                      "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
                      24, "overlap");
    expect_bad_header("metaval.safetensors", "{\"__metadata__\":{\"epoch\":3}}", 0, "string");
    expect_bad_header("metaobj.safetensors", "{\"__metadata__\":[\"x\"]}", 0, "__metadata__");
    expect_bad_header("dims.safetensors",
                      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                      "\"data_offsets\":[0,4]}}",
                      4, "dimensions");
    /* A NUL inside the header would cut names short. */
    n = build(buf, "{\"a\":{}}", NULL, 0);
    buf[10] = 0;
    expect_bad("nul.safetensors", buf, n, "NUL");
    /* A truncated good file: the data section is short. */
    float w[4] = {1, 2, 3, 4};
    n = build(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", w, 16);
    expect_bad("cut.safetensors", buf, n - 1, "outside");
    /* Every prefix of a valid file is rejected, never crashes. */
    for (size_t k = 0; k < n; k++) {
        fn_st_file *f = NULL;
        CHECK(fn_st_open_mem("prefix", buf, k, &f) == FN_ERR_FORMAT, "prefix of %zu bytes", k);
        fn_st_close(f);
    }
    /* Not there at all. */
    fn_st_file *f = NULL;
    CHECK(fn_st_open("/nonexistent/x.safetensors", &f) == FN_ERR_IO, "missing file is FN_ERR_IO");
    CHECK(strstr(fn_last_error(), "/nonexistent/x.safetensors") != NULL, "names the file");
}

static int file_equals(const char *path, const uint8_t *want, size_t n)
{
    static uint8_t got[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t k = fread(got, 1, sizeof got, f);
    fclose(f);
    return k == n && memcmp(got, want, n) == 0;
}

static void test_atomic(const char *dir)
{
    float w[4] = {1, 2, 3, 4};
    fn_st_tensor t = {.name = "w", .dtype = FN_ST_F32, .ndim = 1, .shape = {4}, .data = w};

    /* A folder that does not exist: fails, and creates nothing. */
    char path[600], sub[600];
    snprintf(sub, sizeof sub, "%s/missing", dir);
    snprintf(path, sizeof path, "%s/missing/x.safetensors", dir);
    CHECK(fn_st_write(path, &t, 1, NULL, NULL, 0) == FN_ERR_IO, "missing folder is FN_ERR_IO");
    CHECK(strstr(fn_last_error(), path) != NULL, "message names the path: %s", fn_last_error());
    struct stat sb;
    CHECK(stat(sub, &sb) != 0, "the folder was not created");

    /* The old file survives failed writes. */
    snprintf(path, sizeof path, "%s/keep.safetensors", dir);
    CHECK_OK(fn_st_write(path, &t, 1, NULL, NULL, 0));
    static uint8_t old[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t old_n = f ? fread(old, 1, sizeof old, f) : 0;
    if (f) fclose(f);
    CHECK(old_n > 16, "wrote the first version");

    fn_st_tensor dup[2] = {t, t};
    CHECK(fn_st_write(path, dup, 2, NULL, NULL, 0) == FN_ERR_ARG, "duplicate names rejected");
    CHECK(file_equals(path, old, old_n), "old file intact after a rejected write");

    /* A write that fails half way (the file size limit stops it). */
    static float big[1 << 18];
    fn_st_tensor bt = {
        .name = "big", .dtype = FN_ST_F32, .ndim = 1, .shape = {1 << 18}, .data = big};
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 64 * 1024;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        fn_status st = fn_st_write(path, &bt, 1, NULL, NULL, 0);
        setrlimit(RLIMIT_FSIZE, &old_lim);
        CHECK(st == FN_ERR_IO, "a write cut short fails with FN_ERR_IO, got %s",
              fn_status_name(st));
        CHECK(file_equals(path, old, old_n), "old file intact after a failed write");
        CHECK(tmpdir_count(dir, ".tmp-") == 0, "temporary file removed");
        /* The system's reason, as for a full disk ("No space left on device"). */
        CHECK(strstr(fn_last_error(), strerror(EFBIG)) && strstr(fn_last_error(), path),
              "a failed write says why and where: %s", fn_last_error());
    }
    signal(SIGXFSZ, old_sig);

    /* The target is a folder: the rename fails, the temporary goes away. */
    snprintf(path, sizeof path, "%s/adir", dir);
    mkdir(path, 0755);
    CHECK(fn_st_write(path, &t, 1, NULL, NULL, 0) == FN_ERR_IO, "rename over a folder fails");
    CHECK(tmpdir_count(dir, ".tmp-") == 0, "temporary file removed after a failed rename");
    CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode), "the folder is still there");

    /* And a successful overwrite replaces the file. */
    snprintf(path, sizeof path, "%s/keep.safetensors", dir);
    w[0] = 9;
    CHECK_OK(fn_st_write(path, &t, 1, NULL, NULL, 0));
    fn_st_file *sf = NULL;
    CHECK_OK(fn_st_open(path, &sf));
    float got[4] = {0};
    if (sf) {
        CHECK_OK(fn_st_get_f32(sf, "w", got, 4));
        fn_st_close(sf);
    }
    CHECK(got[0] == 9, "overwrite took effect");
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "st");
    test_pytorch_layout();
    test_round_trip(dir);
    test_corrupt();
    test_atomic(dir);
    tmpdir_remove(dir);
    return check_summary("safetensors");
}
