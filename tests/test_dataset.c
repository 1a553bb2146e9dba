/* Datasets on small synthetic files: IDX (raw and gzipped, and every way they
 * can be broken), CIFAR binary batches, image folders, limits, normalization. */
#include <stb_image_write.h>
#include <zlib.h>

#include "check.h"
#include "data/internal.h"
#include "tmpdir.h"

#define N_IMG 6
#define ROWS 3
#define COLS 2

static size_t idx_images(uint8_t *out, uint32_t n, uint32_t rows, uint32_t cols, const uint8_t *pix,
                         size_t npix)
{
    uint32_t h[4] = {0x00000803, n, rows, cols};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(h[i] >> (24 - 8 * b));
    memcpy(out + 16, pix, npix);
    return 16 + npix;
}

static size_t idx_labels(uint8_t *out, uint32_t n, const uint8_t *lab, size_t nlab)
{
    uint32_t h[2] = {0x00000801, n};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(h[i] >> (24 - 8 * b));
    memcpy(out + 8, lab, nlab);
    return 8 + nlab;
}

static size_t gzip_mem(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t out = z.total_out;
    deflateEnd(&z);
    return out;
}

static uint8_t pix[N_IMG * ROWS * COLS];
static const uint8_t idx_labs[N_IMG] = {0, 0, 0, 1, 1, 2};

static void expect_idx_error(const char *what, const uint8_t *img, size_t ni, const uint8_t *lab,
                             size_t nl, const char *needle)
{
    fn_dataset *d = NULL;
    fn_status st = fn_dataset_from_idx_mem(what, img, ni, lab, nl, 10, &d);
    CHECK(st == FN_ERR_FORMAT, "%s: expected a format error, got %s", what, fn_status_name(st));
    CHECK(d == NULL, "%s: no dataset on failure", what);
    CHECK(strstr(fn_last_error(), what) != NULL, "%s: message names the file: %s", what,
          fn_last_error());
    CHECK(!needle || strstr(fn_last_error(), needle), "%s: message \"%s\" lacks \"%s\"", what,
          fn_last_error(), needle);
    fn_dataset_free(d);
}

static void test_idx_mem(void)
{
    static uint8_t img[4096], lab[256], gz[4096], tmp[4096];
    size_t ni = idx_images(img, N_IMG, ROWS, COLS, pix, sizeof pix);
    size_t nl = idx_labels(lab, N_IMG, idx_labs, N_IMG);
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_from_idx_mem("raw", img, ni, lab, nl, 10, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == N_IMG && fn_dataset_channels(d) == 1 &&
                  fn_dataset_height(d) == ROWS && fn_dataset_width(d) == COLS,
              "raw IDX shape");
        CHECK(memcmp(fn_dataset_image(d, 0), pix, sizeof pix) == 0, "raw IDX pixels");
        for (int i = 0; i < N_IMG; i++)
            CHECK(fn_dataset_label(d, i) == idx_labs[i], "label %d", i);
        CHECK(fn_dataset_label(d, N_IMG) == -1 && fn_dataset_image(d, -1) == NULL,
              "out of range accessors");
        fn_dataset_free(d);
    }
    size_t ng = gzip_mem(img, ni, gz, sizeof gz);
    CHECK_OK(fn_dataset_from_idx_mem("gz", gz, ng, lab, nl, 10, &d));
    if (d) {
        CHECK(memcmp(fn_dataset_image(d, 0), pix, sizeof pix) == 0, "gzipped IDX pixels");
        fn_dataset_free(d);
    }
    /* Two gzip members one after the other are one stream. */
    size_t half = ni / 2;
    size_t g1 = gzip_mem(img, half, tmp, sizeof tmp);
    size_t g2 = gzip_mem(img + half, ni - half, tmp + g1, sizeof tmp - g1);
    CHECK_OK(fn_dataset_from_idx_mem("gz2", tmp, g1 + g2, lab, nl, 10, &d));
    fn_dataset_free(d);

    expect_idx_error("trunc", img, ni - 5, lab, nl,
                     "truncated: header says 6 images of 3x2, file holds 31 bytes of pixels");
    expect_idx_error("gztrunc", gz, ng - 12, lab, nl, "truncated");
    expect_idx_error("labtrunc", img, ni, lab, nl - 1, "truncated");
    expect_idx_error("hdr", img, 10, lab, nl, "header");
    expect_idx_error("empty", img, 0, lab, nl, "truncated");
    expect_idx_error("trailing", img, ni + 1, lab, nl, "past");
    memcpy(tmp, img, ni);
    tmp[3] = 0x02;
    expect_idx_error("magic", tmp, ni, lab, nl, "magic");
    expect_idx_error("swapped", lab, nl, img, ni, "where labels were expected");
    /* Counts that disagree. */
    size_t nl5 = idx_labels(tmp, N_IMG - 1, idx_labs, N_IMG - 1);
    expect_idx_error("count", img, ni, tmp, nl5, "labels");
    /* A label outside the classes. */
    uint8_t bad[N_IMG];
    memcpy(bad, idx_labs, N_IMG);
    bad[4] = 10;
    nl5 = idx_labels(tmp, N_IMG, bad, N_IMG);
    expect_idx_error("label", img, ni, tmp, nl5, "not below 10");
    /* A header announcing far more than the file holds: refused or reported
     * as truncated, never allocated up front. */
    size_t nh = idx_images(tmp, 0x7fffffff, 28, 28, pix, sizeof pix);
    expect_idx_error("liar", tmp, nh, lab, nl, "truncated");
    nh = idx_images(tmp, 0xffffffff, 65535, 65535, pix, sizeof pix);
    expect_idx_error("absurd", tmp, nh, lab, nl, "usable");
    nh = idx_images(tmp, 5, 0, 3, pix, sizeof pix);
    expect_idx_error("zero", tmp, nh, lab, nl, "usable");
    /* A corrupted gzip body: a data or checksum error, not a crash. */
    memcpy(tmp, gz, ng);
    tmp[ng / 2] ^= 0x55;
    tmp[ng / 2 + 1] ^= 0xaa;
    d = NULL;
    fn_status st = fn_dataset_from_idx_mem("gzbad", tmp, ng, lab, nl, 10, &d);
    CHECK(st == FN_ERR_FORMAT, "corrupt gzip -> %s", fn_status_name(st));
    fn_dataset_free(d);
    /* Every prefix of both files fails cleanly. */
    for (size_t k = 0; k < ng; k++) {
        d = NULL;
        CHECK(fn_dataset_from_idx_mem("prefix", gz, k, lab, nl, 10, &d) == FN_ERR_FORMAT,
              "gz prefix %zu", k);
        fn_dataset_free(d);
    }
    for (size_t k = 0; k < nl; k++) {
        d = NULL;
        CHECK(fn_dataset_from_idx_mem("prefix", img, ni, lab, k, 10, &d) == FN_ERR_FORMAT,
              "label prefix %zu", k);
        fn_dataset_free(d);
    }
}

static void test_idx_dir(const char *root)
{
    static uint8_t img[4096], lab[256];
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/mnist", root);
    mkdir(dir, 0755);
    size_t ni = idx_images(img, N_IMG, ROWS, COLS, pix, sizeof pix);
    size_t nl = idx_labels(lab, N_IMG, idx_labs, N_IMG);
    /* Images gzipped through zlib's gz files, labels raw. */
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    gzFile g = gzopen(path, "wb");
    CHECK(g && gzwrite(g, img, (unsigned)ni) == (int)ni, "write gz");
    if (g) gzclose(g);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    CHECK(write_bytes(path, lab, nl), "write labels");

    char spec[700];
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_open(spec, "train", 0, &d));
    if (d) {
        CHECK(strcmp(fn_dataset_name(d), "mnist") == 0, "name mnist");
        CHECK(fn_dataset_classes(d) == 10, "10 classes");
        CHECK(strcmp(fn_dataset_class_name(d, 3), "3") == 0, "digit names");
        CHECK(fn_dataset_class_name(d, 10) == NULL, "class name out of range");
        CHECK(memcmp(fn_dataset_image(d, 0), pix, sizeof pix) == 0, "pixels");
        float m[3], s[3];
        fn_dataset_default_norm(d, m, s);
        CHECK(m[0] == 0.1307f && s[0] == 0.3081f && m[2] == 0.1307f, "mnist normalization");
        fn_dataset_free(d);
    }
    /* Limit: labels 0,0,0,1,1,2 and limit 4 keep two 0s, one 1, one 2, in order. */
    CHECK_OK(fn_dataset_open(spec, "train", 4, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 4, "limit 4 keeps 4, got %d", fn_dataset_count(d));
        const int keep[4] = {0, 1, 3, 5};
        for (int i = 0; i < 4 && i < fn_dataset_count(d); i++) {
            CHECK(fn_dataset_label(d, i) == idx_labs[keep[i]], "limited label %d", i);
            CHECK(memcmp(fn_dataset_image(d, i), pix + keep[i] * ROWS * COLS, ROWS * COLS) == 0,
                  "limited image %d is image %d", i, keep[i]);
        }
        fn_dataset_free(d);
    }
    /* A validation split: labels 0,0,0,1,1,2, two held out = the last 0 and
     * the last 1 (images 2 and 4); the others train, in order. Its "test"
     * split never reads SPEC's test files (there are none here). */
    char hold[760];
    snprintf(hold, sizeof hold, "holdout:2:%s", spec);
    const int held[2] = {2, 4}, rest[4] = {0, 1, 3, 5};
    for (int t = 0; t < 2; t++) {
        CHECK_OK(fn_dataset_open(hold, t ? "test" : "train", 0, &d));
        if (!d) continue;
        int n = t ? 2 : 4;
        const int *want = t ? held : rest;
        CHECK(fn_dataset_count(d) == n, "holdout %s split: %d images, got %d", t ? "test" : "train",
              n, fn_dataset_count(d));
        CHECK(strcmp(fn_dataset_name(d), "mnist") == 0, "holdout keeps the name");
        for (int i = 0; i < n && i < fn_dataset_count(d); i++)
            CHECK(fn_dataset_label(d, i) == idx_labs[want[i]] &&
                      memcmp(fn_dataset_image(d, i), pix + want[i] * ROWS * COLS, ROWS * COLS) == 0,
                  "holdout %s image %d is image %d", t ? "test" : "train", i, want[i]);
        float m[3], s[3];
        fn_dataset_default_norm(d, m, s);
        CHECK(m[0] == 0.1307f && s[0] == 0.3081f, "holdout keeps the normalization");
        fn_dataset_free(d);
    }
    /* A limit applies to what is left: train 0,1,3,5 limited to 2 -> 0, 3. */
    CHECK_OK(fn_dataset_open(hold, "train", 2, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 2 &&
                  memcmp(fn_dataset_image(d, 1), pix + 3 * ROWS * COLS, ROWS * COLS) == 0,
              "holdout then limit");
        fn_dataset_free(d);
    }
    const char *bad[] = {"holdout:6:", "holdout:0:", "holdout:x:", "holdout:2"};
    for (int i = 0; i < 4; i++) {
        snprintf(hold, sizeof hold, "%s%s", bad[i], i == 3 ? "" : spec);
        CHECK(fn_dataset_open(hold, "test", 0, &d) == FN_ERR_ARG && d == NULL, "%s refused", hold);
        CHECK(strstr(fn_last_error(), "holdout") != NULL, "the message names holdout: %s",
              fn_last_error());
    }
    /* Fixed formats refuse another shape. */
    CHECK(fn_dataset_open_sized(spec, "train", 0, 3, 0, 0, &d) == FN_ERR_MISMATCH,
          "mnist is not RGB");
    CHECK(fn_dataset_open_sized(spec, "train", 0, 1, ROWS, COLS, &d) == FN_OK, "matching size");
    fn_dataset_free(d);
    /* The test split is missing. */
    CHECK(fn_dataset_open(spec, "test", 0, &d) == FN_ERR_IO, "missing t10k files");
    CHECK(strstr(fn_last_error(), "t10k-images-idx3-ubyte") != NULL, "names the file: %s",
          fn_last_error());
    /* Fashion-MNIST through the environment override. */
    setenv("FOCUSNET_FASHION_MNIST_DIR", dir, 1);
    CHECK_OK(fn_dataset_open("fashion-mnist", "train", 0, &d));
    if (d) {
        CHECK(strcmp(fn_dataset_name(d), "fashion-mnist") == 0, "name fashion-mnist");
        CHECK(strcmp(fn_dataset_class_name(d, 0), "T-shirt/top") == 0 &&
                  strcmp(fn_dataset_class_name(d, 9), "Ankle boot") == 0,
              "fashion class names");
        float m[3], s[3];
        fn_dataset_default_norm(d, m, s);
        CHECK(m[0] == 0.2860f && s[0] == 0.3530f, "fashion normalization");
        fn_dataset_free(d);
    }
    unsetenv("FOCUSNET_FASHION_MNIST_DIR");
    /* A corrupt file on disk is reported with its path. */
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    CHECK(write_bytes(path, lab, nl - 2), "write short labels");
    CHECK(fn_dataset_open(spec, "train", 0, &d) == FN_ERR_FORMAT, "short labels");
    CHECK(strstr(fn_last_error(), path) != NULL, "message names %s: %s", path, fn_last_error());
}

static void test_specs(void)
{
    fn_dataset *d = NULL;
    CHECK(fn_dataset_open("imagenet:/x", "train", 0, &d) == FN_ERR_ARG, "unknown kind");
    CHECK(fn_dataset_open("mnist", "train", 0, &d) == FN_ERR_ARG, "mnist needs a folder");
    CHECK(fn_dataset_open("mnist:/x", "valid", 0, &d) == FN_ERR_ARG, "bad split");
    CHECK(fn_dataset_open("mnist:/x", "train", -1, &d) == FN_ERR_ARG, "bad limit");
    CHECK(fn_dataset_open("cifar10:/nonexistent", "train", 0, &d) == FN_ERR_IO, "missing folder");
    CHECK(d == NULL, "no dataset");
}

static void write_cifar(const char *path, int hundred, int n, int first_label)
{
    size_t rec = (hundred ? 2 : 1) + 3072;
    uint8_t *buf = malloc(rec * n);
    for (int r = 0; r < n; r++) {
        uint8_t *p = buf + r * rec;
        int label = first_label + r;
        if (hundred) {
            p[0] = (uint8_t)(label / 5); /* coarse */
            p[1] = (uint8_t)label;       /* fine */
        } else {
            p[0] = (uint8_t)label;
        }
        for (int k = 0; k < 3072; k++)
            p[(hundred ? 2 : 1) + k] = (uint8_t)(k * 7 + label);
    }
    CHECK(write_bytes(path, buf, rec * n), "write %s", path);
    free(buf);
}

static void test_cifar(const char *root)
{
    char dir[600], sub[700], path[800], spec[700];
    snprintf(dir, sizeof dir, "%s/c10", root);
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    mkdir(dir, 0755);
    mkdir(sub, 0755);
    for (int b = 1; b <= 5; b++) {
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", sub, b);
        write_cifar(path, 0, 2, 2 * (b - 1));
    }
    snprintf(path, sizeof path, "%s/test_batch.bin", sub);
    write_cifar(path, 0, 3, 7);
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_open(spec, "train", 0, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 10 && fn_dataset_channels(d) == 3 &&
                  fn_dataset_height(d) == 32 && fn_dataset_width(d) == 32,
              "cifar10 shape");
        CHECK(fn_dataset_label(d, 9) == 9 && fn_dataset_image(d, 9)[1] == 7 + 9,
              "last record of batch 5");
        CHECK(strcmp(fn_dataset_class_name(d, 0), "airplane") == 0 &&
                  strcmp(fn_dataset_class_name(d, 9), "truck") == 0,
              "cifar10 names");
        float m[3], s[3];
        fn_dataset_default_norm(d, m, s);
        CHECK(m[0] == 0.4914f && m[2] == 0.4465f && s[1] == 0.2435f, "cifar10 normalization");
        fn_dataset_free(d);
    }
    CHECK_OK(fn_dataset_open(spec, "test", 2, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 2 && fn_dataset_label(d, 0) == 7, "test split, limited");
        fn_dataset_free(d);
    }
    /* Names from batches.meta.txt when present. */
    snprintf(path, sizeof path, "%s/batches.meta.txt", sub);
    const char *names = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n";
    write_bytes(path, names, strlen(names));
    CHECK_OK(fn_dataset_open(spec, "test", 0, &d));
    if (d) {
        CHECK(strcmp(fn_dataset_class_name(d, 9), "j") == 0, "names from batches.meta.txt");
        fn_dataset_free(d);
    }
    /* Broken batches. */
    snprintf(path, sizeof path, "%s/test_batch.bin", sub);
    write_cifar(path, 0, 1, 10);
    CHECK(fn_dataset_open(spec, "test", 0, &d) == FN_ERR_FORMAT, "label 10 in cifar10");
    CHECK(strstr(fn_last_error(), "test_batch.bin") != NULL, "names the file: %s", fn_last_error());
    uint8_t junk[100] = {0};
    write_bytes(path, junk, sizeof junk);
    CHECK(fn_dataset_open(spec, "test", 0, &d) == FN_ERR_FORMAT, "partial record");
    CHECK(strstr(fn_last_error(), "whole number") != NULL, "says why: %s", fn_last_error());
    write_bytes(path, junk, 0);
    CHECK(fn_dataset_open(spec, "test", 0, &d) == FN_ERR_FORMAT, "empty batch");
    snprintf(path, sizeof path, "%s/data_batch_3.bin", sub);
    remove(path);
    CHECK(fn_dataset_open(spec, "train", 0, &d) == FN_ERR_IO, "missing batch 3");

    /* CIFAR-100: fine labels. */
    snprintf(dir, sizeof dir, "%s/c100", root);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/train.bin", dir);
    write_cifar(path, 1, 4, 96);
    snprintf(spec, sizeof spec, "cifar100:%s", dir);
    CHECK_OK(fn_dataset_open(spec, "train", 0, &d));
    if (d) {
        CHECK(fn_dataset_classes(d) == 100 && fn_dataset_count(d) == 4, "cifar100 shape");
        CHECK(fn_dataset_label(d, 3) == 99, "fine label");
        CHECK(strcmp(fn_dataset_class_name(d, 99), "worm") == 0 &&
                  strcmp(fn_dataset_class_name(d, 0), "apple") == 0,
              "cifar100 names");
        CHECK(fn_dataset_image(d, 0)[0] == 96, "pixels follow both label bytes");
        fn_dataset_free(d);
    }
    write_cifar(path, 1, 5, 96);
    CHECK(fn_dataset_open(spec, "train", 0, &d) == FN_ERR_FORMAT, "fine label 100");
}

/* (h, w, c) pixels where every value encodes its position. */
static void write_png(const char *path, int w, int h, int c, int seed)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int i = 0; i < w * h * c; i++)
        p[i] = (uint8_t)(i * 13 + seed);
    CHECK(stbi_write_png(path, w, h, c, p, w * c), "write %s", path);
    free(p);
}

static void write_flat_png(const char *path, int w, int h, int c, const uint8_t *color)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int i = 0; i < w * h; i++)
        memcpy(p + i * c, color, c);
    CHECK(stbi_write_png(path, w, h, c, p, w * c), "write %s", path);
    free(p);
}

static void test_folder(const char *root)
{
    char dir[600], path[800], spec[700];
    snprintf(dir, sizeof dir, "%s/photos", root);
    const char *mk[] = {"",      "/train",    "/train/cat",     "/train/dog",
                        "/test", "/test/ant", "/train/.hidden", "/train/emptyclass"};
    for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++) {
        snprintf(path, sizeof path, "%s%s", dir, mk[i]);
        mkdir(path, 0755);
    }
    /* cat: a.png sets the size (8 wide, 6 high, RGB); b is twice as big and
     * flat; c is gray and small. dog: two images. */
    snprintf(path, sizeof path, "%s/train/cat/a.png", dir);
    write_png(path, 8, 6, 3, 1);
    const uint8_t red[3] = {200, 10, 30};
    snprintf(path, sizeof path, "%s/train/cat/b.PNG", dir);
    write_flat_png(path, 16, 12, 3, red);
    const uint8_t gray[1] = {77};
    snprintf(path, sizeof path, "%s/train/cat/c.bmp", dir);
    uint8_t g[4 * 3];
    memset(g, 77, sizeof g);
    CHECK(stbi_write_bmp(path, 4, 3, 1, g), "write bmp");
    snprintf(path, sizeof path, "%s/train/dog/x.jpg", dir);
    CHECK(stbi_write_jpg(path, 8, 6, 3, (uint8_t[8 * 6 * 3]){0}, 95), "write jpg");
    snprintf(path, sizeof path, "%s/train/dog/y.png", dir);
    write_flat_png(path, 8, 6, 1, gray);
    snprintf(path, sizeof path, "%s/train/dog/notes.txt", dir);
    write_bytes(path, "hello", 5);
    snprintf(path, sizeof path, "%s/train/.hidden/z.png", dir);
    write_png(path, 8, 6, 3, 2);
    snprintf(path, sizeof path, "%s/test/ant/q.png", dir);
    write_png(path, 8, 6, 3, 3);

    snprintf(spec, sizeof spec, "folder:%s", dir);
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_open(spec, "train", 0, &d));
    if (d) {
        CHECK(strcmp(fn_dataset_name(d), "photos") == 0, "name is the folder's: %s",
              fn_dataset_name(d));
        CHECK(fn_dataset_count(d) == 5, "5 images, got %d", fn_dataset_count(d));
        CHECK(fn_dataset_channels(d) == 3 && fn_dataset_height(d) == 6 && fn_dataset_width(d) == 8,
              "size of the first image, got %dx%dx%d", fn_dataset_channels(d), fn_dataset_height(d),
              fn_dataset_width(d));
        CHECK(fn_dataset_classes(d) == 4, "classes: ant, cat, dog, emptyclass; got %d",
              fn_dataset_classes(d));
        CHECK(strcmp(fn_dataset_class_name(d, 0), "ant") == 0 &&
                  strcmp(fn_dataset_class_name(d, 1), "cat") == 0 &&
                  strcmp(fn_dataset_class_name(d, 2), "dog") == 0,
              "sorted union of class folders");
        const int want_labels[5] = {1, 1, 1, 2, 2};
        for (int i = 0; i < 5 && i < fn_dataset_count(d); i++)
            CHECK(fn_dataset_label(d, i) == want_labels[i], "label %d", i);
        /* The first image passes unchanged, as (C, H, W). */
        const uint8_t *im = fn_dataset_image(d, 0);
        int same = 1;
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 8; x++)
                    same &= im[(ch * 6 + y) * 8 + x] == (uint8_t)(((y * 8 + x) * 3 + ch) * 13 + 1);
        CHECK(same, "first image unchanged");
        /* A flat image stays flat through resizing; gray becomes RGB. */
        im = fn_dataset_image(d, 1);
        int flat = 1;
        for (int k = 0; k < 48; k++)
            flat &= im[k] == 200 && im[48 + k] == 10 && im[96 + k] == 30;
        CHECK(flat, "a flat image resized stays flat");
        im = fn_dataset_image(d, 2);
        flat = 1;
        for (int k = 0; k < 3 * 48; k++)
            flat &= im[k] == 77;
        CHECK(flat, "gray BMP upsampled and made RGB");
        fn_dataset_free(d);
    }
    /* Test split: only ant, labelled 0 as in the union. */
    CHECK_OK(fn_dataset_open(spec, "test", 0, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 1 && fn_dataset_label(d, 0) == 0, "test split");
        fn_dataset_free(d);
    }
    /* Limit spreads over classes: cat 2, dog 1. */
    CHECK_OK(fn_dataset_open(spec, "train", 3, &d));
    if (d) {
        CHECK(fn_dataset_count(d) == 3 && fn_dataset_label(d, 1) == 1 &&
                  fn_dataset_label(d, 2) == 2,
              "limit 3");
        fn_dataset_free(d);
    }
    /* A size suffix, and a forced size and channel count. */
    snprintf(spec, sizeof spec, "folder:%s@4", dir);
    CHECK_OK(fn_dataset_open(spec, "train", 0, &d));
    if (d) {
        CHECK(fn_dataset_height(d) == 4 && fn_dataset_width(d) == 4, "@4 gives 4x4");
        fn_dataset_free(d);
    }
    snprintf(spec, sizeof spec, "folder:%s", dir);
    CHECK_OK(fn_dataset_open_sized(spec, "train", 0, 1, 5, 7, &d));
    if (d) {
        CHECK(fn_dataset_channels(d) == 1 && fn_dataset_height(d) == 5 && fn_dataset_width(d) == 7,
              "forced 1x5x7");
        CHECK(fn_dataset_image(d, 1)[0] == (299 * 200 + 587 * 10 + 114 * 30 + 500) / 1000,
              "RGB to gray is luma");
        fn_dataset_free(d);
    }
    /* A corrupt image is an error naming it. */
    snprintf(path, sizeof path, "%s/train/dog/z.png", dir);
    write_bytes(path, "\x89PNG\r\n\x1a\nnot really", 18);
    CHECK(fn_dataset_open(spec, "train", 0, &d) == FN_ERR_FORMAT, "corrupt png");
    CHECK(strstr(fn_last_error(), "z.png") != NULL, "names the file: %s", fn_last_error());
    /* Missing split folder. */
    snprintf(spec, sizeof spec, "folder:%s/train", dir);
    CHECK(fn_dataset_open(spec, "train", 0, &d) == FN_ERR_IO, "no train/train");
}

static void test_memory_and_limits(void)
{
    /* Two 1x1x2 images: values 0,255 and 51,102 -> mean and std by hand. */
    const uint8_t img[4] = {0, 255, 51, 102};
    const int32_t lab[2] = {0, 1};
    const char *names[2] = {"zero", "one"};
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_from_memory("tiny", 2, 1, 1, 2, 2, img, lab, names, &d));
    if (d) {
        float m[3], s[3];
        fn_dataset_default_norm(d, m, s);
        double v[4] = {0, 1, 0.2, 0.4}, mean = 0.4, var = 0;
        for (int i = 0; i < 4; i++)
            var += (v[i] - mean) * (v[i] - mean) / 4;
        CHECK(fabsf(m[0] - (float)mean) < 1e-6f && fabsf(s[0] - (float)sqrt(var)) < 1e-6f,
              "computed normalization %g %g", m[0], s[0]);
        CHECK(m[1] == m[0] && s[2] == s[0], "gray repeats channel 0");
        CHECK(strcmp(fn_dataset_class_name(d, 1), "one") == 0, "given class names");
        fn_dataset_free(d);
    }
    const int32_t badlab[2] = {0, 2};
    CHECK(fn_dataset_from_memory("tiny", 2, 1, 1, 2, 2, img, badlab, NULL, &d) == FN_ERR_ARG,
          "label out of range");
    CHECK(fn_dataset_from_memory("tiny", 2, 0, 1, 2, 2, img, lab, NULL, &d) == FN_ERR_ARG,
          "zero channels");

    int per[3] = {5, 1, 3}, q[3];
    fn_limit_quotas(per, 3, 7, q);
    CHECK(q[0] == 3 && q[1] == 1 && q[2] == 3, "quotas 3,1,3 got %d,%d,%d", q[0], q[1], q[2]);
    fn_limit_quotas(per, 3, 2, q);
    CHECK(q[0] == 1 && q[1] == 1 && q[2] == 0, "quotas 1,1,0");
    fn_limit_quotas(per, 3, 100, q);
    CHECK(q[0] == 5 && q[1] == 1 && q[2] == 3, "limit above the total keeps all");
    fn_limit_quotas(per, 3, 0, q);
    CHECK(q[0] == 5 && q[1] == 1 && q[2] == 3, "limit 0 keeps all");
    int many[1000];
    for (int k = 0; k < 1000; k++)
        many[k] = 5000;
    int qm[1000], total = 0;
    fn_limit_quotas(many, 1000, 1234, qm);
    for (int k = 0; k < 1000; k++)
        total += qm[k];
    CHECK(total == 1234 && qm[0] == 2 && qm[999] == 1, "even spread over 1000 classes");
}

int main(void)
{
    for (size_t i = 0; i < sizeof pix; i++)
        pix[i] = (uint8_t)(i * 11 + 3);
    char root[512];
    tmpdir_make(root, sizeof root, "data");
    test_idx_mem();
    test_idx_dir(root);
    test_specs();
    test_cifar(root);
    test_folder(root);
    test_memory_and_limits();
    tmpdir_remove(root);
    return check_summary("dataset");
}
