/* The viewer's pure drawing functions, drawn on image surfaces and checked
 * pixel by pixel: colormap endpoints, the overlay, bar heights, the true-class
 * marker, the multi-warm label, the confusion matrix and the hit tests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"

#include "check_count.h"

typedef struct {
    cairo_surface_t *s;
    cairo_t *cr;
    int w, h;
} canvas;

static canvas canvas_new(int w, int h)
{
    canvas c = {cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h), NULL, w, h};
    c.cr = cairo_create(c.s);
    cairo_set_source_rgb(c.cr, 1, 1, 1);
    cairo_paint(c.cr);
    return c;
}

static void canvas_free(canvas *c)
{
    cairo_destroy(c->cr);
    cairo_surface_destroy(c->s);
}

/* The pixel at (x, y) as straight RGB bytes. ARGB32 is a native-endian 32-bit
 * word with premultiplied colour: undo both deliberately. */
static void pixel(canvas *c, int x, int y, int rgb[3])
{
    cairo_surface_flush(c->s);
    const unsigned char *d = cairo_image_surface_get_data(c->s);
    uint32_t v =
        *(const uint32_t *)(const void *)(d + (size_t)y * cairo_image_surface_get_stride(c->s) +
                                          (size_t)x * 4);
    int a = v >> 24 & 0xff;
    int ch[3] = {(int)(v >> 16 & 0xff), (int)(v >> 8 & 0xff), (int)(v & 0xff)};
    for (int k = 0; k < 3; k++)
        rgb[k] = a ? (ch[k] * 255 + a / 2) / a : 0;
}

static int near(const int rgb[3], int r, int g, int b, int tol)
{
    return abs(rgb[0] - r) <= tol && abs(rgb[1] - g) <= tol && abs(rgb[2] - b) <= tol;
}

static int byte(double v)
{
    return (int)lround(v * 255);
}

/* Pixels in column x from the row y0 upwards that have the colour. */
static int run_up(canvas *c, int x, int y0, int r, int g, int b)
{
    int n = 0, rgb[3];
    for (int y = y0; y >= 0; y--) {
        pixel(c, x, y, rgb);
        if (near(rgb, r, g, b, 3)) n++;
    }
    return n;
}

static int count_color(canvas *c, int x0, int y0, int x1, int y1, int r, int g, int b)
{
    int n = 0, rgb[3];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            pixel(c, x, y, rgb);
            n += near(rgb, r, g, b, 3);
        }
    return n;
}

/* Pixels darker than mid grey: antialiased text has few of exactly its colour. */
static int count_dark(canvas *c, int x0, int y0, int x1, int y1)
{
    int n = 0, rgb[3];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            pixel(c, x, y, rgb);
            n += rgb[0] + rgb[1] + rgb[2] < 3 * 128;
        }
    return n;
}

/* Pixels that are not white: text of any colour. */
static int count_ink(canvas *c, int x0, int y0, int x1, int y1)
{
    int n = 0, rgb[3];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            pixel(c, x, y, rgb);
            n += rgb[0] + rgb[1] + rgb[2] < 3 * 240;
        }
    return n;
}

static void test_byte_order(void)
{
    /* Pure red, green, blue pixels must come out where they went in. */
    const uint8_t rgb[3 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    cairo_surface_t *s = fnv_surface_from_rgb(rgb, 3, 1);
    canvas c = canvas_new(3, 1);
    cairo_set_source_surface(c.cr, s, 0, 0);
    cairo_paint(c.cr);
    int p[3];
    pixel(&c, 0, 0, p);
    CHECK(near(p, 255, 0, 0, 0), "red stays red: %d %d %d", p[0], p[1], p[2]);
    pixel(&c, 2, 0, p);
    CHECK(near(p, 0, 0, 255, 0), "blue stays blue: %d %d %d", p[0], p[1], p[2]);
    cairo_surface_destroy(s);
    canvas_free(&c);
}

static void test_overlay(void)
{
    /* A 4x4 RGB image drawn at 10x: opacity 0 leaves the image exactly. */
    enum { N = 4, S = 10 };
    float px[3 * N * N], heat[N * N];
    for (int i = 0; i < 3 * N * N; i++)
        px[i] = (float)((i * 37) % 256) / 255.0f;
    for (int i = 0; i < N * N; i++)
        heat[i] = (float)i;
    canvas c = canvas_new(N * S, N * S);
    fnv_draw_overlay(c.cr, N * S, N * S, px, 3, N, N, heat, 0, N * N - 1, FN_COLORMAP_VIRIDIS, 0);
    int same = 1, p[3];
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            pixel(&c, x * S + S / 2, y * S + S / 2, p);
            for (int k = 0; k < 3; k++)
                same &= p[k] == byte(px[k * N * N + y * N + x]);
        }
    CHECK(same, "overlay at opacity 0 equals the image");
    canvas_free(&c);

    /* Opacity 1: the heatmap alone; its lowest value is viridis(0), its highest viridis(1). */
    c = canvas_new(N * S, N * S);
    fnv_draw_overlay(c.cr, N * S, N * S, px, 3, N, N, heat, 0, N * N - 1, FN_COLORMAP_VIRIDIS, 1);
    pixel(&c, S / 2, S / 2, p);
    CHECK(near(p, 68, 1, 84, 1), "viridis(0) = #440154, got %d %d %d", p[0], p[1], p[2]);
    pixel(&c, N * S - S / 2, N * S - S / 2, p);
    CHECK(near(p, 253, 231, 37, 1), "viridis(1) = #fde725, got %d %d %d", p[0], p[1], p[2]);
    canvas_free(&c);

    /* Half opacity on a grey image: halfway between the two. */
    float grey[N * N];
    for (int i = 0; i < N * N; i++)
        grey[i] = 1.0f;
    c = canvas_new(N * S, N * S);
    fnv_draw_overlay(c.cr, N * S, N * S, grey, 1, N, N, heat, 0, N * N - 1, FN_COLORMAP_INFERNO,
                     0.5);
    pixel(&c, S / 2, S / 2, p); /* inferno(0) = 0, 0, 4 */
    CHECK(near(p, 128, 128, 130, 1), "half of white and inferno(0), got %d %d %d", p[0], p[1],
          p[2]);
    canvas_free(&c);

    /* A wide area: the image keeps square pixels, centred, background untouched. */
    c = canvas_new(8 * S, N * S);
    fnv_draw_overlay(c.cr, 8 * S, N * S, grey, 1, N, N, NULL, 0, 1, FN_COLORMAP_VIRIDIS, 0.5);
    pixel(&c, 1, 1, p);
    CHECK(near(p, 255, 255, 255, 0), "left margin untouched");
    pixel(&c, 2 * S + 1, 1, p);
    CHECK(near(p, 255, 255, 255, 0), "image starts at the centre");
    canvas_free(&c);
}

static void test_colorbar(void)
{
    canvas c = canvas_new(200, 30);
    fnv_draw_colorbar(c.cr, 200, 30, FN_COLORMAP_VIRIDIS, 0, 1);
    int p[3];
    pixel(&c, 0, 5, p);
    CHECK(near(p, 68, 1, 84, 1), "colorbar starts at viridis(0): %d %d %d", p[0], p[1], p[2]);
    pixel(&c, 199, 5, p);
    CHECK(near(p, 253, 231, 37, 1), "colorbar ends at viridis(1): %d %d %d", p[0], p[1], p[2]);
    canvas_free(&c);
    c = canvas_new(100, 30);
    fnv_draw_colorbar(c.cr, 100, 30, FN_COLORMAP_JET, 0, 1);
    pixel(&c, 0, 5, p);
    CHECK(near(p, 0, 0, 128, 1), "jet starts dark blue: %d %d %d", p[0], p[1], p[2]);
    canvas_free(&c);
}

/* The vertical scale of `focusnet cam`: hi at the top, lo at the bottom, and
 * its values written right of the bar (dark pixels there). */
static void test_colorbar_vertical(void)
{
    canvas c = canvas_new(80, 100);
    cairo_set_source_rgb(c.cr, 0.1, 0.1, 0.1);
    fnv_draw_colorbar_vertical(c.cr, 80, 100, FN_COLORMAP_VIRIDIS, 0, 1);
    int p[3];
    pixel(&c, 5, 0, p);
    CHECK(near(p, 253, 231, 37, 1), "vertical bar starts at viridis(1): %d %d %d", p[0], p[1],
          p[2]);
    pixel(&c, 5, 99, p);
    CHECK(near(p, 68, 1, 84, 1), "vertical bar ends at viridis(0): %d %d %d", p[0], p[1], p[2]);
    pixel(&c, FNV_COLORBAR_W + 1, 50, p);
    CHECK(near(p, 255, 255, 255, 0), "nothing right of the bar but its values");
    CHECK(count_dark(&c, FNV_COLORBAR_W + 2, 0, 80, 14) > 5, "hi written at the top");
    CHECK(count_dark(&c, FNV_COLORBAR_W + 2, 86, 80, 100) > 5, "lo written at the bottom");
    CHECK(count_dark(&c, FNV_COLORBAR_W + 2, 20, 80, 80) == 0, "nothing written in between");
    canvas_free(&c);
}

/* A caption with bytes that are not UTF-8 (a class name read from a file) is
 * still drawn, and cr stays usable. */
static void test_text(void)
{
    canvas c = canvas_new(120, 30);
    cairo_set_source_rgb(c.cr, 0, 0, 0);
    fnv_draw_text(c.cr, 2, 20, 14, "bad \xff\xfe name");
    CHECK(cairo_status(c.cr) == CAIRO_STATUS_SUCCESS, "cairo context still fine: %s",
          cairo_status_to_string(cairo_status(c.cr)));
    CHECK(count_dark(&c, 0, 0, 120, 30) > 10, "the caption is drawn");
    canvas_free(&c);
}

static void test_bars(void)
{
    enum { W = 400, H = 250 };
    const float prob[5] = {0.1f, 0.6f, 0.05f, 0.25f, 0.0f};
    const char *names[5] = {"zero", "one", "two", "three", "four"};
    fnv_bars b = {prob, 5, names, 3, 3, -1};
    canvas c = canvas_new(W, H);
    fnv_draw_bars(c.cr, W, H, &b);
    /* Order: 1 (0.6), 3 (0.25), 0 (0.1): three slots. Measure at slot centres. */
    int base = H - 34 - 1, heights[3];
    for (int i = 0; i < 3; i++) {
        int x = 4 + (int)((W - 8) / 3.0 * (i + 0.5));
        heights[i] = run_up(&c, x, base, byte(0.26), byte(0.48), byte(0.71));
    }
    double plot = H - 16 - 34;
    CHECK(abs(heights[0] - (int)lround(0.6 * plot)) <= 2, "bar of 0.6: %d px of %g", heights[0],
          plot);
    CHECK(abs(heights[1] - (int)lround(0.25 * plot)) <= 2, "bar of 0.25: %d px", heights[1]);
    CHECK(abs(heights[2] - (int)lround(0.1 * plot)) <= 2, "bar of 0.1: %d px", heights[2]);
    CHECK(heights[0] * 25 > heights[1] * 55 && heights[0] * 25 < heights[1] * 65,
          "heights proportional: %d / %d", heights[0], heights[1]);
    /* The true class (3, second slot) has the green marker under its bar, and only it. */
    int slot = (W - 8) / 3;
    int green2 =
        count_color(&c, 4 + slot, H - 34, 4 + 2 * slot, H - 18, byte(0.13), byte(0.62), byte(0.25));
    int green1 = count_color(&c, 4, H - 34, 4 + slot, H - 18, byte(0.13), byte(0.62), byte(0.25));
    CHECK(green2 > 20 && green1 == 0, "true-class marker under its bar (%d px), not others (%d)",
          green2, green1);
    CHECK(fnv_bars_hit(W, H, &b, 4 + slot * 1.5, H / 2.0) == 3, "click on the second bar: class 3");
    CHECK(fnv_bars_hit(W, H, &b, 4 + slot * 0.5, H - 5) == 1, "click on the first label: class 1");
    canvas_free(&c);

    /* Selected class drawn in the selection colour; no marker when the class is unknown. */
    b.selected = 1;
    b.true_class = -1;
    c = canvas_new(W, H);
    fnv_draw_bars(c.cr, W, H, &b);
    int x0 = 4 + slot / 2;
    CHECK(run_up(&c, x0, base, byte(0.93), byte(0.49), byte(0.06)) > 50, "selected bar coloured");
    CHECK(count_color(&c, 0, 0, W, H, byte(0.13), byte(0.62), byte(0.25)) == 0,
          "no true-class marker when it is unknown");
    canvas_free(&c);

    /* A true class outside the top: shown after a gap, as a fourth bar. */
    b.selected = -1;
    b.true_class = 4;
    b.top = 2;
    c = canvas_new(W, H);
    fnv_draw_bars(c.cr, W, H, &b);
    CHECK(fnv_bars_hit(W, H, &b, W - 10, H / 2.0) == 4, "the extra bar is the true class");
    CHECK(count_color(&c, W / 2, H - 34, W, H - 18, byte(0.13), byte(0.62), byte(0.25)) > 20,
          "marker under the extra bar");
    canvas_free(&c);
}

static void test_label(void)
{
    enum { W = 408, H = 80, K = 4 };
    const float label[K] = {0.5f, 0, 0.5f, 0};
    canvas c = canvas_new(W, H);
    fnv_draw_label(c.cr, W, H, label, K, NULL, 2, 0);
    int cw = (W - 8) / K, p[3];
    pixel(&c, 4 + cw + cw / 2, 10, p);
    CHECK(near(p, 245, 245, 245, 1), "a cold class stays pale: %d %d %d", p[0], p[1], p[2]);
    pixel(&c, 4 + 2 * cw + 6, 10, p);
    CHECK(near(p, byte(0.55), byte(0.34), byte(0.76), 2), "a warm class is filled: %d %d %d", p[0],
          p[1], p[2]);
    CHECK(count_color(&c, 4 + 2 * cw, H - 30, 4 + 3 * cw, H - 18, byte(0.13), byte(0.62),
                      byte(0.25)) > 10,
          "true class marked");
    CHECK(fnv_label_hit(W, H, K, 4 + 3 * cw + 2, 5) == 3, "label hit");
    CHECK(fnv_label_hit(W, H, K, 1, 5) == -1, "label miss");
    canvas_free(&c);
}

static void test_confusion(void)
{
    enum { W = 300, H = 300, K = 3 };
    const int64_t conf[K * K] = {8, 2, 0, 0, 10, 0, 5, 0, 5};
    canvas c = canvas_new(W, H);
    fnv_draw_confusion(c.cr, W, H, conf, K, NULL, 2, 0);
    int r = -1, col = -1;
    /* The grid starts at (84, 18) with cells of min((300-86)/3, (300-20)/3). */
    double cell = fmin((W - 84 - 2) / 3.0, (H - 18 - 2) / 3.0);
    CHECK(fnv_confusion_hit(W, H, K, 84 + cell * 1.5, 18 + cell * 0.5, &r, &col) && r == 0 &&
              col == 1,
          "hit (0, 1): got (%d, %d)", r, col);
    CHECK(!fnv_confusion_hit(W, H, K, 10, 10, &r, &col), "miss outside the grid");
    int p8[3], p2[3], p10[3];
    pixel(&c, 84 + (int)(cell * 0.5), 18 + 4, p8);
    pixel(&c, 84 + (int)(cell * 1.5), 18 + 4, p2);
    pixel(&c, 84 + (int)(cell * 1.5), 18 + (int)cell + 4, p10);
    CHECK(p8[0] < p2[0] && p10[0] <= p8[0], "darker for a larger share of the row: %d %d %d",
          p10[0], p8[0], p2[0]);
    CHECK(count_color(&c, 84, 18 + (int)(2 * cell), 84 + (int)cell, 18 + (int)(3 * cell),
                      byte(0.93), byte(0.49), byte(0.06)) > 20,
          "the selected cell is outlined");
    canvas_free(&c);
}

/* The multi-warm matrix (issue 17.2): shaded by value / denom, not by the
 * row's sum, in the colour given. */
static void test_matrix(void)
{
    enum { W = 300, H = 300, K = 3 };
    /* Row 0: 10 images, 10 hold class 0, 5 hold class 1, 10 class 2: the row
     * sums to 25, so by the row's sum cell (0, 0) would be 40%, by denom 100%. */
    const int64_t v[K * K] = {10, 5, 10, 0, 4, 0, 0, 0, 6};
    const int64_t denom[K] = {10, 4, 6};
    fnv_matrix m = {v, K, NULL, denom, {FNV_WARM_RGB}, 0, 1};
    canvas c = canvas_new(W, H);
    fnv_draw_matrix(c.cr, W, H, &m);
    double cell = fmin((W - 84 - 2) / 3.0, (H - 18 - 2) / 3.0);
    int p[3];
    pixel(&c, 84 + (int)(cell * 0.5), 18 + 4, p);
    CHECK(near(p, byte(0.55), byte(0.34), byte(0.76), 2),
          "a cell of 10 of 10 images is the full warm colour: %d %d %d", p[0], p[1], p[2]);
    pixel(&c, 84 + (int)(cell * 2.5), 18 + 4, p);
    CHECK(near(p, byte(0.55), byte(0.34), byte(0.76), 2), "so is 10 of 10 in column 2");
    /* 5 of 10: halfway from white, (1 + 0.55) / 2 of red. */
    pixel(&c, 84 + (int)(cell * 1.5), 18 + (int)(cell * 0.5) + 12, p);
    CHECK(near(p, byte(0.775), byte(0.67), byte(0.88), 3), "5 of 10 is half the colour: %d %d %d",
          p[0], p[1], p[2]);
    pixel(&c, 84 + (int)(cell * 0.5), 18 + (int)(cell * 1.5), p);
    CHECK(near(p, byte(0.98), byte(0.98), byte(0.98), 1), "an empty cell stays pale");
    CHECK(count_color(&c, 84 + (int)cell, 18, 84 + (int)(2 * cell), 18 + (int)cell, byte(0.93),
                      byte(0.49), byte(0.06)) > 20,
          "the selected cell (0, 1) is outlined");
    int r = -1, col = -1;
    CHECK(fnv_confusion_hit(W, H, K, 84 + cell * 2.5, 18 + cell * 1.5, &r, &col) && r == 1 &&
              col == 2,
          "its cells hit as the confusion matrix's: (%d, %d)", r, col);
    canvas_free(&c);
    /* fnv_draw_confusion is fnv_draw_matrix by the row's sum in the bar blue. */
    canvas a = canvas_new(W, H), b = canvas_new(W, H);
    fnv_draw_confusion(a.cr, W, H, v, K, NULL, -1, -1);
    fnv_matrix mb = {v, K, NULL, NULL, {FNV_BAR_RGB}, -1, -1};
    fnv_draw_matrix(b.cr, W, H, &mb);
    cairo_surface_flush(a.s);
    cairo_surface_flush(b.s);
    CHECK(memcmp(cairo_image_surface_get_data(a.s), cairo_image_surface_get_data(b.s),
                 (size_t)cairo_image_surface_get_stride(a.s) * H) == 0,
          "confusion == matrix by row sums");
    canvas_free(&a);
    canvas_free(&b);
}

/* The confusing pair (issue 17.1): each map in its cell with its own range,
 * a scale under it, a row without a model left without maps. */
static void test_pair(void)
{
    enum { W = 480, H = 300, N = 4 };
    float px[N * N], hi_heat[N * N], lo_heat[N * N], signed_heat[N * N];
    for (int i = 0; i < N * N; i++) {
        px[i] = 0.5f;
        hi_heat[i] = 2;
        lo_heat[i] = -1;
        signed_heat[i] = i < N * N / 2 ? -3.0f : 3.0f; /* top half negative */
    }
    fnv_pair_row rows[2] = {
        {"Baseline", {hi_heat, lo_heat, signed_heat}, {-1, -1, -3}, {2, 2, 3}, NULL},
        {"FocusNet", {NULL, NULL, NULL}, {0, 0, 0}, {1, 1, 1}, NULL},
    };
    fnv_pair p = {px,
                  1,
                  N,
                  N,
                  {"Shirt (true)", "T-shirt", "why Shirt, not T-shirt"},
                  rows,
                  2,
                  FN_COLORMAP_VIRIDIS,
                  1.0};
    canvas c = canvas_new(W, H);
    fnv_draw_pair(c.cr, W, H, &p);
    double x, y, s;
    int q[3];
    fnv_pair_cell(W, H, &p, 0, 0, &x, &y, &s);
    CHECK(s > 40 && x >= FNV_PAIR_LEFT && y >= FNV_PAIR_HEAD, "cell (0, 0) at %g,%g size %g", x, y,
          s);
    pixel(&c, (int)(x + s / 2), (int)(y + s / 2), q);
    CHECK(near(q, 253, 231, 37, 2), "class A's map at its maximum: viridis(1), got %d %d %d", q[0],
          q[1], q[2]);
    fnv_pair_cell(W, H, &p, 0, 1, &x, &y, &s);
    pixel(&c, (int)(x + s / 2), (int)(y + s / 2), q);
    CHECK(near(q, 68, 1, 84, 1), "class B's map at its minimum: viridis(0), got %d %d %d", q[0],
          q[1], q[2]);
    fnv_pair_cell(W, H, &p, 0, 2, &x, &y, &s);
    int top[3], bottom[3];
    pixel(&c, (int)(x + s / 2), (int)(y + s / 4), top);
    pixel(&c, (int)(x + s / 2), (int)(y + 3 * s / 4), bottom);
    CHECK(near(top, 68, 1, 84, 1) && near(bottom, 253, 231, 37, 2),
          "the contrast: negative half low, positive half high");
    /* Its scale under it: viridis from left to right. */
    pixel(&c, (int)x, (int)(y + s + 6), q);
    CHECK(near(q, 68, 1, 84, 2), "the scale starts at viridis(0): %d %d %d", q[0], q[1], q[2]);
    CHECK(count_dark(&c, FNV_PAIR_LEFT, 0, W, FNV_PAIR_HEAD) > 30, "the captions are written");
    CHECK(count_dark(&c, 0, (int)y, FNV_PAIR_LEFT, (int)(y + s)) > 20,
          "the row's label is written");
    /* The row without a model: no colour, only its text. */
    fnv_pair_cell(W, H, &p, 1, 0, &x, &y, &s);
    CHECK(count_color(&c, FNV_PAIR_LEFT, (int)y, W, (int)(y + s), 68, 1, 84) == 0 &&
              count_color(&c, FNV_PAIR_LEFT, (int)y, W, (int)(y + s), 253, 231, 37) == 0,
          "no maps in the row without a model");
    CHECK(count_ink(&c, FNV_PAIR_LEFT, (int)y, W, (int)(y + s)) > 0, "... it says so");
    /* ... or says what it is given (the epoch slider: a run without the epoch). */
    int plain = count_ink(&c, FNV_PAIR_LEFT, (int)y, W, (int)(y + s));
    canvas_free(&c);
    rows[1].note = "no checkpoint of epoch 3 in this run";
    c = canvas_new(W, H);
    fnv_draw_pair(c.cr, W, H, &p);
    int noted = count_ink(&c, FNV_PAIR_LEFT, (int)y, W, (int)(y + s));
    CHECK(noted > plain, "the row's note is written (%d dark pixels, %d without)", noted, plain);
}

/* Presentation mode (issue 17.5): the maps big, the type large, the label's
 * chips, the prediction coloured right or wrong. */
static void test_present(void)
{
    enum { W = 1280, H = 720, N = 4, K = 3 };
    float px[N * N], heat[N * N], prob0[K] = {0.7f, 0.2f, 0.1f}, prob1[K] = {0.1f, 0.8f, 0.1f};
    for (int i = 0; i < N * N; i++)
        px[i] = 0.5f, heat[i] = 1;
    const float label[K] = {0.5f, 0.5f, 0};
    const char *names[K] = {"Shirt", "T-shirt", "Coat"};
    fnv_present p = {"shirt.png — true class: T-shirt",
                     px,
                     1,
                     N,
                     N,
                     K,
                     names,
                     1,
                     {"Baseline", "FocusNet"},
                     {heat, heat},
                     {prob0, prob1},
                     {0, 1},
                     {"CAM", "Grad-CAM"},
                     {0, 0},
                     {1, 1},
                     FN_COLORMAP_VIRIDIS,
                     1.0,
                     label,
                     {NULL, NULL}};
    canvas c = canvas_new(W, H);
    fnv_draw_present(c.cr, W, H, &p);
    double x, y, s, ts, x1, y1, s1;
    fnv_present_layout(W, H, 0, &x, &y, &s, &ts);
    fnv_present_layout(W, H, 1, &x1, &y1, &s1, &ts);
    CHECK(s >= H * 0.45 && ts >= 30, "the maps big (%g of %d rows) and the type large (%g)", s, H,
          ts);
    CHECK(x + s <= x1 && x >= 0 && x1 + s1 <= W, "the two maps side by side");
    int q[3];
    pixel(&c, (int)(x + s / 2), (int)(y + s / 2), q);
    CHECK(near(q, 253, 231, 37, 2), "the baseline's map drawn: %d %d %d", q[0], q[1], q[2]);
    pixel(&c, (int)(x1 + s1 / 2), (int)(y1 + s1 / 2), q);
    CHECK(near(q, 253, 231, 37, 2), "the FocusNet's map drawn");
    /* The title's glyphs span many rows: large type. */
    int rows = 0;
    for (int yy = 0; yy < (int)y; yy++)
        rows += count_dark(&c, 0, yy, W, yy + 1) > 0;
    CHECK(rows >= 20, "the title is large: %d rows of ink", rows);
    /* Under the maps: the baseline wrong (Shirt, red), FocusNet right (T-shirt, green). */
    int red = count_color(&c, 0, (int)(y + s), W / 2, (int)(y + s + 2 * ts), 204, 38, 38);
    int green = count_color(&c, W / 2, (int)(y + s), W, (int)(y + s + 2 * ts), 33, 158, 64);
    CHECK(red > 50 && green > 50, "wrong prediction in red (%d), right in green (%d)", red, green);
    double by, bh;
    fnv_present_label_band(W, H, &by, &bh);
    int chips = count_color(&c, 0, (int)by, W, (int)(by + bh), 140, 87, 194);
    CHECK(chips > 500, "the label's two chips in the warm colour: %d pixels", chips);
    CHECK(count_color(&c, 0, (int)by, W, (int)(by + bh), 33, 158, 64) > 20,
          "the true class's chip framed in green");
    canvas_free(&c);
    /* Without a baseline: no chips; without a model in a slot: no map there. */
    p.label = NULL;
    p.heat[0] = NULL;
    c = canvas_new(W, H);
    fnv_draw_present(c.cr, W, H, &p);
    CHECK(count_color(&c, 0, (int)by, W, (int)(by + bh), 140, 87, 194) == 0, "no chips");
    CHECK(count_color(&c, (int)x, (int)y, (int)(x + s), (int)(y + s), 253, 231, 37) == 0,
          "no map where no model is open");
    canvas_free(&c);
}

static void test_bad_text(void)
{
    /* Invalid UTF-8 in a class name must not stop the drawing. */
    const float prob[2] = {0.7f, 0.3f};
    const char *names[2] = {"ok", "bad\xff\xfe name that is far too long for its slot"};
    fnv_bars b = {prob, 2, names, 2, -1, -1};
    canvas c = canvas_new(120, 120);
    fnv_draw_bars(c.cr, 120, 120, &b);
    CHECK(cairo_status(c.cr) == CAIRO_STATUS_SUCCESS, "cairo still fine: %s",
          cairo_status_to_string(cairo_status(c.cr)));
    canvas_free(&c);
}

/* Mean row of the pixels of one colour in columns [x0, x1), -1 if none. */
static double mean_row(canvas *c, int x0, int x1, int y0, int y1, int r, int g, int b)
{
    double sum = 0;
    int n = 0, rgb[3];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            pixel(c, x, y, rgb);
            if (near(rgb, r, g, b, 3)) sum += y, n++;
        }
    return n ? sum / n : -1;
}

/* Training curves (issue 17.4): run A's falling loss in the left panel, its
 * rising top-1 in the right one, run B in its own colour, and a NaN loss a
 * gap, not a line through it. */
static void test_curves(void)
{
    const int W = 400, H = 220, epoch[3] = {1, 2, 3};
    const double loss_a[3] = {2, 1, 0.5}, top_a[3] = {0.5, 0.7, 0.9};
    const double loss_b[3] = {3, NAN, 1}, top_b[3] = {0.4, 0.6, 0.8};
    fnv_curve cv[2] = {{"baseline", 3, epoch, loss_a, top_a},
                       {"FocusNet", 3, epoch, loss_b, top_b}};
    double a[3], b[3];
    fnv_curve_color(0, a);
    fnv_curve_color(1, b);
    int ar = byte(a[0]), ag = byte(a[1]), ab = byte(a[2]);
    int br = byte(b[0]), bg = byte(b[1]), bb = byte(b[2]);
    CHECK(!near((int[]){ar, ag, ab}, br, bg, bb, 20), "two runs, two colours");
    canvas c = canvas_new(W, H);
    fnv_draw_curves(c.cr, W, H, cv, 2);
    const int top = 24 + 22; /* below the legend and the panel titles */
    CHECK(count_color(&c, 44, top, 196, H - 22, ar, ag, ab) > 50, "run A's loss curve");
    CHECK(count_color(&c, 244, top, 396, H - 22, ar, ag, ab) > 50, "run A's top-1 curve");
    CHECK(count_color(&c, 244, top, 396, H - 22, br, bg, bb) > 50, "run B's top-1 curve");
    double l0 = mean_row(&c, 44, 60, top, H - 22, ar, ag, ab);
    double l1 = mean_row(&c, 176, 192, top, H - 22, ar, ag, ab);
    CHECK(l0 >= 0 && l1 > l0 + 20, "the loss falls: row %g at epoch 1, %g at epoch 3", l0, l1);
    double t0 = mean_row(&c, 244, 260, top, H - 22, ar, ag, ab);
    double t1 = mean_row(&c, 376, 392, top, H - 22, ar, ag, ab);
    CHECK(t1 >= 0 && t0 > t1 + 20, "top-1 rises: row %g at epoch 1, %g at epoch 3", t0, t1);
    CHECK(count_color(&c, 100, top, 136, H - 22, br, bg, bb) == 0,
          "no line through run B's missing epoch");
    CHECK(count_color(&c, 300, top, 336, H - 22, br, bg, bb) > 0, "run B's top-1 has its middle");
    CHECK(count_color(&c, 8, 8, 20, 20, ar, ag, ab) > 100 &&
              count_color(&c, 0, 0, W, 24, br, bg, bb) > 100,
          "a legend swatch per run");
    int mr = byte(0.80), mg = byte(0.20), mb = byte(0.60);
    CHECK(count_color(&c, 0, 0, W, H, mr, mg, mb) == 0, "no epoch mark unless asked for");
    canvas_free(&c);
    c = canvas_new(W, H);
    fnv_draw_curves(c.cr, W, H, cv, 0);
    CHECK(count_color(&c, 0, 0, W, H, ar, ag, ab) == 0, "no runs, no curves");
    canvas_free(&c);

    /* The viewer's epoch slider: a line at epoch 2 of 3 in both panels, in
     * the middle of each (x = 44 + 148 / 2 and 244 + 148 / 2), nowhere else. */
    c = canvas_new(W, H);
    fnv_draw_curves_marked(c.cr, W, H, cv, 2, 2);
    int left = count_color(&c, 114, top, 122, H - 22, mr, mg, mb);
    int right = count_color(&c, 314, top, 322, H - 22, mr, mg, mb);
    CHECK(left > 150 && right > 150, "epoch 2 marked in both panels: %d and %d pixels", left,
          right);
    CHECK(count_color(&c, 0, 0, 112, H, mr, mg, mb) + count_color(&c, 124, 0, 312, H, mr, mg, mb) +
                  count_color(&c, 324, 0, W, H, mr, mg, mb) ==
              0,
          "the mark only at epoch 2");
    CHECK(count_color(&c, 244, top, 396, H - 22, br, bg, bb) > 50,
          "the curves drawn over the mark");
    canvas_free(&c);
    c = canvas_new(W, H);
    fnv_draw_curves_marked(c.cr, W, H, cv, 2, 9);
    CHECK(count_color(&c, 0, 0, W, H, mr, mg, mb) == 0, "an epoch past the axis: no mark");
    canvas_free(&c);
}

int main(void)
{
    test_byte_order();
    test_overlay();
    test_colorbar();
    test_colorbar_vertical();
    test_text();
    test_bars();
    test_label();
    test_confusion();
    test_matrix();
    test_pair();
    test_present();
    test_bad_text();
    test_curves();
    return check_summary("draw");
}
