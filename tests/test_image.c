/* Single image files and turning them into network inputs. */
#include <stb_image_write.h>

#include "check.h"
#include "data/internal.h"
#include "tmpdir.h"

static uint8_t *pattern(int w, int h, int c)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int i = 0; i < w * h * c; i++)
        p[i] = (uint8_t)(i * 29 + 5);
    return p;
}

static void expect_bad(const char *name, const void *data, size_t n, const char *needle)
{
    fn_image img;
    fn_status st = fn_image_load_mem(name, data, n, &img);
    CHECK(st == FN_ERR_FORMAT, "%s: expected a format error, got %s", name, fn_status_name(st));
    CHECK(img.pixels == NULL, "%s: no pixels on failure", name);
    CHECK(strstr(fn_last_error(), name) != NULL, "%s: message names the file: %s", name,
          fn_last_error());
    CHECK(!needle || strstr(fn_last_error(), needle), "%s: \"%s\" lacks \"%s\"", name,
          fn_last_error(), needle);
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void test_load(const char *dir)
{
    char path[600];
    static const int cs[4] = {1, 2, 3, 4};
    for (int k = 0; k < 4; k++) {
        int c = cs[k];
        uint8_t *p = pattern(7, 5, c);
        snprintf(path, sizeof path, "%s/p%d.png", dir, c);
        CHECK(stbi_write_png(path, 7, 5, c, p, 7 * c), "write png");
        fn_image img;
        CHECK_OK(fn_image_load(path, &img));
        CHECK(img.w == 7 && img.h == 5 && img.c == c, "png %d channels: got %dx%dx%d", c, img.w,
              img.h, img.c);
        CHECK(img.pixels && memcmp(img.pixels, p, (size_t)35 * c) == 0, "png %d pixels", c);
        fn_image_free(&img);
        fn_image_free(&img); /* harmless twice */
        free(p);
    }
    uint8_t *p = pattern(6, 4, 3);
    snprintf(path, sizeof path, "%s/p.bmp", dir);
    CHECK(stbi_write_bmp(path, 6, 4, 3, p), "write bmp");
    fn_image img;
    CHECK_OK(fn_image_load(path, &img));
    CHECK(img.w == 6 && img.h == 4 && img.c == 3 && memcmp(img.pixels, p, 72) == 0, "bmp");
    fn_image_free(&img);
    uint8_t flat[16 * 16 * 3];
    for (int i = 0; i < 16 * 16; i++) {
        flat[3 * i] = 120;
        flat[3 * i + 1] = 60;
        flat[3 * i + 2] = 200;
    }
    snprintf(path, sizeof path, "%s/p.jpg", dir);
    CHECK(stbi_write_jpg(path, 16, 16, 3, flat, 95), "write jpg");
    CHECK_OK(fn_image_load(path, &img));
    int close = img.w == 16 && img.h == 16 && img.c == 3;
    for (int i = 0; close && i < 16 * 16 * 3; i++)
        close = abs((int)img.pixels[i] - flat[i]) <= 3;
    CHECK(close, "jpeg decodes close to what was written");
    fn_image_free(&img);
    free(p);

    /* Failures name the file. */
    CHECK(fn_image_load("/nonexistent/cat.png", &img) == FN_ERR_IO, "missing file");
    CHECK(strstr(fn_last_error(), "/nonexistent/cat.png") != NULL, "names it: %s", fn_last_error());
    CHECK(fn_image_load(dir, &img) == FN_ERR_IO, "a folder is not an image");
    expect_bad("notes.txt", "hello there", 11, "not a PNG, JPEG or BMP");
    expect_bad("empty.png", "", 0, "not a PNG");
    expect_bad("gif.gif", "GIF89a\x01\x00\x01\x00", 10, "not a PNG");
    expect_bad("junk.png", "\x89PNG\r\n\x1a\n0123456789abcdef", 24, "corrupt");
    expect_bad("junk.jpg", "\xff\xd8\xff\xe0garbage", 11, "corrupt");
    expect_bad("junk.bmp", "BMxxxxxxxxxxxxxxxxxxxxxxxx", 26, "corrupt");

    /* Every prefix of a real PNG fails cleanly. */
    snprintf(path, sizeof path, "%s/p3.png", dir);
    uint8_t *data = NULL;
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        data = malloc(4096);
        n = fread(data, 1, 4096, f);
        fclose(f);
    }
    CHECK(n > 40, "read the png back");
    for (size_t k = 0; k + 1 < n; k++) {
        fn_image im;
        fn_status st = fn_image_load_mem("prefix.png", data, k, &im);
        /* stb tolerates a missing IEND; anything cut earlier must fail. */
        if (st == FN_OK) fn_image_free(&im);
        CHECK(st == FN_ERR_FORMAT || k >= n - 12, "prefix of %zu bytes -> %s", k,
              fn_status_name(st));
    }
    /* Headers announcing more pixels than the file could hold are refused
     * before decoding: 16000x16000 is over the absolute cap, 3000x3000 over
     * what a few hundred bytes can compress to. */
    static const uint32_t sides[2] = {16000, 3000};
    for (int s = 0; s < 2 && n > 33; s++) {
        uint8_t big[4096];
        char name[64], needle[64];
        memcpy(big, data, n);
        for (int k = 0; k < 2; k++)
            for (int b = 0; b < 4; b++)
                big[16 + 4 * k + b] = (uint8_t)(sides[s] >> (24 - 8 * b));
        uint32_t crc = crc32_png(big + 12, 17);
        for (int b = 0; b < 4; b++)
            big[29 + b] = (uint8_t)(crc >> (24 - 8 * b));
        snprintf(name, sizeof name, "bomb%u.png", sides[s]);
        snprintf(needle, sizeof needle, "%ux%u", sides[s], sides[s]);
        expect_bad(name, big, n, needle);
    }
    free(data);
}

static void test_resample(void)
{
    const uint8_t two[2] = {0, 100};
    float out[4];
    CHECK_OK(fn_resample(two, 1, 2, 1, 1, 4, 0, 0, 1, 4, out));
    const float up[4] = {0, 25, 75, 100};
    check_close("upsample like bilinear", out, up, 4, 1e-4f, 0);
    /* Halving averages with the widened triangle: a ramp keeps its line. */
    uint8_t ramp[64];
    for (int x = 0; x < 64; x++)
        ramp[x] = (uint8_t)(4 * x);
    float half[32], want[32];
    CHECK_OK(fn_resample(ramp, 1, 64, 1, 1, 32, 0, 0, 1, 32, half));
    for (int j = 0; j < 32; j++)
        want[j] = 8.0f * j + 2;
    check_close("halved ramp (interior)", half + 1, want + 1, 30, 1e-3f, 0);
    /* Identity, and a window of it. */
    uint8_t img[5 * 4 * 2];
    for (int i = 0; i < 40; i++)
        img[i] = (uint8_t)(i * 6);
    float id[40], idw[2 * 2 * 2], wantf[40];
    for (int i = 0; i < 40; i++)
        wantf[i] = img[i];
    CHECK_OK(fn_resample(img, 5, 4, 2, 5, 4, 0, 0, 5, 4, id));
    check_close("identity", id, wantf, 40, 1e-4f, 0);
    CHECK_OK(fn_resample(img, 5, 4, 2, 5, 4, 2, 1, 2, 2, idw));
    const float wantw[8] = {img[(2 * 4 + 1) * 2], img[(2 * 4 + 1) * 2 + 1],
                            img[(2 * 4 + 2) * 2], img[(2 * 4 + 2) * 2 + 1],
                            img[(3 * 4 + 1) * 2], img[(3 * 4 + 1) * 2 + 1],
                            img[(3 * 4 + 2) * 2], img[(3 * 4 + 2) * 2 + 1]};
    check_close("identity window", idw, wantw, 8, 1e-4f, 0);
    CHECK(fn_resample(img, 5, 4, 2, 5, 4, 4, 0, 2, 2, idw) == FN_ERR_ARG, "window outside");
    int rh, rw, y0, x0;
    fn_cover_size(300, 400, 224, 224, 8, 7, &rh, &rw, &y0, &x0);
    CHECK(rh == 256 && rw == 341 && y0 == 16 && x0 == 58,
          "Resize(256)+CenterCrop(224): %d %d %d %d", rh, rw, y0, x0);
}

static void test_to_input(void)
{
    /* Same size: values pass through, normalized, (H, W, C) -> (C, H, W). */
    fn_image img = {.w = 4, .h = 3, .c = 3, .pixels = pattern(4, 3, 3)};
    const float mean[3] = {0.5f, 0.4f, 0.3f}, std[3] = {0.2f, 0.3f, 0.4f};
    float out[3 * 12], want[3 * 12];
    CHECK_OK(fn_image_to_input(&img, 3, 3, 4, mean, std, out));
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 12; i++)
            want[c * 12 + i] = (img.pixels[i * 3 + c] / 255.0f - mean[c]) / std[c];
    check_close("same size", out, want, 36, 1e-5f, 1e-5f);
    /* To gray: ITU-R 601 luma; mean/std NULL means plain /255. */
    CHECK_OK(fn_image_to_input(&img, 1, 3, 4, NULL, NULL, out));
    for (int i = 0; i < 12; i++) {
        const uint8_t *p = img.pixels + 3 * i;
        want[i] = (float)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000) / 255.0f;
    }
    check_close("to gray", out, want, 12, 1e-5f, 0);
    free(img.pixels);

    /* Gray with alpha to RGB: the value repeats, alpha is dropped. */
    img = (fn_image){.w = 2, .h = 2, .c = 2, .pixels = (uint8_t[8]){10, 0, 20, 255, 30, 9, 40, 1}};
    CHECK_OK(fn_image_to_input(&img, 3, 2, 2, NULL, NULL, out));
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
            want[c * 4 + i] = (10.0f * (i + 1)) / 255.0f;
    check_close("gray+alpha to RGB", out, want, 12, 1e-6f, 0);

    /* A large image: scaled to cover 8/7 of the target, then centre-cropped. */
    uint8_t *ramp = malloc(64 * 64);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            ramp[y * 64 + x] = (uint8_t)(4 * x);
    img = (fn_image){.w = 64, .h = 64, .c = 1, .pixels = ramp};
    float big[28 * 28], row[28];
    CHECK_OK(fn_image_to_input(&img, 1, 28, 28, NULL, NULL, big));
    /* 64 -> 32 (28 * 8 / 7), crop offset 2: column x is resized column x + 2. */
    for (int x = 0; x < 28; x++)
        row[x] = (8.0f * (x + 2) + 2) / 255.0f;
    check_close("large image: resize 8/7 + centre crop", big + 14 * 28, row, 28, 1e-4f, 0);
    /* A small image is scaled just to cover: 20x20 -> 28x28 keeps a flat image flat. */
    memset(ramp, 99, 20 * 20);
    img = (fn_image){.w = 20, .h = 20, .c = 1, .pixels = ramp};
    CHECK_OK(fn_image_to_input(&img, 1, 28, 28, NULL, NULL, big));
    for (int i = 0; i < 28 * 28; i++)
        want[i % 36] = 99 / 255.0f;
    int flat = 1;
    for (int i = 0; i < 28 * 28; i++)
        flat &= fabsf(big[i] - 99 / 255.0f) < 1e-5f;
    CHECK(flat, "small flat image stays flat");
    /* Not large both ways: cover without the 8/7 margin; a 10x20 image to 10x10
     * is its middle ten columns. */
    for (int i = 0; i < 200; i++)
        ramp[i] = (uint8_t)i;
    img = (fn_image){.w = 20, .h = 10, .c = 1, .pixels = ramp};
    float mid[100], wantm[100];
    CHECK_OK(fn_image_to_input(&img, 1, 10, 10, NULL, NULL, mid));
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++)
            wantm[y * 10 + x] = ramp[y * 20 + x + 5] / 255.0f;
    check_close("centre crop of a wide image", mid, wantm, 100, 1e-5f, 0);
    free(ramp);

    CHECK(fn_image_to_input(&img, 2, 10, 10, NULL, NULL, mid) == FN_ERR_ARG, "2 channels");
    CHECK(fn_image_to_input(&img, 1, 0, 10, NULL, NULL, mid) == FN_ERR_ARG, "height 0");
    const float zero[3] = {0, 0, 0};
    CHECK(fn_image_to_input(&img, 1, 10, 10, NULL, zero, mid) == FN_ERR_ARG, "std 0");
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "img");
    test_load(dir);
    test_resample();
    test_to_input();
    tmpdir_remove(dir);
    return check_summary("image");
}
