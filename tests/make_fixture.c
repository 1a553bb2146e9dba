/* Helpers for tests/test_viewer.sh and tests/test_cam_cli.sh, so that they
 * need nothing but the build:
 *   make_fixture mnist DIR        a tiny 10-class MNIST-like dataset (IDX files)
 *                                 whose classes are bright squares in different places
 *   make_fixture folder DIR       a tiny 2-class folder dataset of 16x16 RGB PNGs
 *   make_fixture colors FILE.png  prints "WIDTH HEIGHT DISTINCT_COLOURS"
 *   make_fixture count FILE.png RRGGBB  prints how many pixels are within 3
 *                                 of that colour in each channel */
#include <cairo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

static int write_idx(const char *path, uint32_t magic, int n, int dims, const uint8_t *data,
                     size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    uint32_t head[4] = {magic, (uint32_t)n, 28, 28};
    for (int i = 0; i < 1 + dims; i++) {
        uint8_t be[4] = {head[i] >> 24, head[i] >> 16 & 0xff, head[i] >> 8 & 0xff, head[i] & 0xff};
        fwrite(be, 1, 4, f);
    }
    fwrite(data, 1, size, f);
    return fclose(f) == 0;
}

static int mnist_split(const char *dir, const char *prefix, int n, unsigned seed)
{
    uint8_t *img = calloc((size_t)n, 28 * 28), *lab = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        int c = i % 10, y0 = 2 + (c / 4) * 8, x0 = 2 + (c % 4) * 6;
        lab[i] = (uint8_t)c;
        uint8_t *p = img + (size_t)i * 784;
        for (int k = 0; k < 784; k++) { /* faint noise so that no two images are alike */
            seed = seed * 1103515245u + 12345u;
            p[k] = (uint8_t)(seed >> 27);
        }
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
                p[(y0 + y) * 28 + x0 + x] = 230;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    int ok = write_idx(path, 0x803, n, 3, img, (size_t)n * 784);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    ok = ok && write_idx(path, 0x801, n, 1, lab, (size_t)n);
    free(img);
    free(lab);
    return ok;
}

static int folder(const char *dir)
{
    static const char *splits[] = {"train", "test"}, *classes[] = {"red", "blue"};
    char path[1024];
    mkdir(dir, 0755);
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, splits[s]);
        mkdir(path, 0755);
        for (int c = 0; c < 2; c++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, splits[s], classes[c]);
            mkdir(path, 0755);
            for (int i = 0; i < 4; i++) {
                uint8_t px[16 * 16 * 3];
                for (int k = 0; k < 16 * 16; k++) {
                    px[k * 3 + 0] = (uint8_t)(c ? 20 + i : 220 - i);
                    px[k * 3 + 1] = (uint8_t)(k % 16 * 8);
                    px[k * 3 + 2] = (uint8_t)(c ? 220 - i : 20 + i);
                }
                snprintf(path, sizeof path, "%s/%s/%s/%d.png", dir, splits[s], classes[c], i);
                if (!stbi_write_png(path, 16, 16, 3, px, 16 * 3)) return 0;
            }
        }
    }
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int colors(const char *path)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "cannot read %s: %s\n", path,
                cairo_status_to_string(cairo_surface_status(s)));
        return 0;
    }
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    uint32_t *px = malloc((size_t)w * h * sizeof *px);
    for (int y = 0; y < h; y++)
        memcpy(px + (size_t)y * w, d + (size_t)y * stride, (size_t)w * 4);
    qsort(px, (size_t)w * h, sizeof *px, cmp_u32);
    size_t distinct = w > 0 && h > 0;
    for (size_t i = 1; i < (size_t)w * h; i++)
        distinct += px[i] != px[i - 1];
    printf("%d %d %zu\n", w, h, distinct);
    free(px);
    cairo_surface_destroy(s);
    return 1;
}

/* Prints how many pixels of the rectangle (x, y, w, h) are within 3 of the
 * colour r g b: where a picture drew a colour (test_cam_cli.sh). */
static int count_in(char **a)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(a[0]);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "cannot read %s\n", a[0]);
        return 0;
    }
    int x0 = atoi(a[1]), y0 = atoi(a[2]), w = atoi(a[3]), h = atoi(a[4]);
    int want[3] = {atoi(a[5]), atoi(a[6]), atoi(a[7])}, n = 0;
    int sw = cairo_image_surface_get_width(s), sh = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    for (int y = y0; y < y0 + h && y < sh; y++)
        for (int x = x0; x < x0 + w && x < sw; x++) {
            uint32_t v;
            memcpy(&v, d + (size_t)y * stride + (size_t)x * 4, 4);
            int c[3] = {(int)(v >> 16 & 0xff), (int)(v >> 8 & 0xff), (int)(v & 0xff)};
            n += abs(c[0] - want[0]) <= 3 && abs(c[1] - want[1]) <= 3 && abs(c[2] - want[2]) <= 3;
        }
    printf("%d\n", n);
    cairo_surface_destroy(s);
    return 1;
}

static int count(const char *path, const char *hex)
{
    unsigned rgb;
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS || sscanf(hex, "%6x", &rgb) != 1) {
        fprintf(stderr, "cannot read %s or colour %s\n", path, hex);
        cairo_surface_destroy(s);
        return 0;
    }
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    long n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t p; /* native-endian 0xAARRGGBB */
            memcpy(&p, d + (size_t)y * stride + (size_t)x * 4, 4);
            int ok = 1;
            for (int c = 0; c < 3; c++) {
                int a = (int)(p >> (16 - 8 * c) & 0xff), b = (int)(rgb >> (16 - 8 * c) & 0xff);
                ok &= abs(a - b) <= 3;
            }
            n += ok;
        }
    printf("%ld\n", n);
    cairo_surface_destroy(s);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 10 && strcmp(argv[1], "count-in") == 0) return count_in(argv + 2) ? 0 : 1;
    if (argc == 4 && strcmp(argv[1], "count") == 0) return count(argv[2], argv[3]) ? 0 : 1;
    if (argc != 3) {
        fprintf(stderr, "usage: make_fixture mnist|folder|colors PATH | count FILE.png RRGGBB\n"
                        "       make_fixture count-in FILE.png X Y W H R G B\n");
        return 2;
    }
    int ok = 0;
    if (strcmp(argv[1], "mnist") == 0) {
        mkdir(argv[2], 0755);
        ok = mnist_split(argv[2], "train", 400, 1) && mnist_split(argv[2], "t10k", 100, 2);
    } else if (strcmp(argv[1], "folder") == 0) {
        ok = folder(argv[2]);
    } else if (strcmp(argv[1], "colors") == 0) {
        ok = colors(argv[2]);
    }
    return ok ? 0 : 1;
}
