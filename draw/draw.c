/* Pure drawing functions: see draw.h. Text uses cairo's toy font API so that
 * these need nothing but cairo. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"

#define FONT "sans-serif"

static void set_font(cairo_t *cr, double size)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Copies s into buf (size > 4) as valid UTF-8: a byte that does not start a
 * well-formed sequence becomes '?', since cairo puts a context into an error
 * state, and stops drawing, on invalid text. */
static void utf8_clean(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 5 < size) {
        int len = *p < 0x80         ? 1
                  : (*p >> 5) == 6  ? 2
                  : (*p >> 4) == 14 ? 3
                  : (*p >> 3) == 30 ? 4
                                    : 0;
        int ok = len > 0;
        for (int i = 1; ok && i < len; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (!ok) {
            buf[o++] = '?';
            p++;
            continue;
        }
        memcpy(buf + o, p, (size_t)len);
        o += (size_t)len;
        p += len;
    }
    buf[o] = 0;
}

/* Text centred on x, baseline at y, shortened with a '.' to fit max_w. */
static void text_centered(cairo_t *cr, const char *s, double x, double y, double max_w)
{
    char buf[128];
    utf8_clean(s, buf, sizeof buf);
    cairo_text_extents_t e;
    cairo_text_extents(cr, buf, &e);
    size_t n = strlen(buf);
    while (e.x_advance > max_w && n > 1) {
        do /* back to the start of the previous character */
            n--;
        while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80);
        if (n == 0) break;
        buf[n] = '.';
        buf[n + 1] = 0;
        cairo_text_extents(cr, buf, &e);
    }
    cairo_move_to(cr, x - e.x_advance / 2, y);
    cairo_show_text(cr, buf);
}

void fnv_draw_text_centered(cairo_t *cr, double x, double y, double size, double max_w,
                            const char *s)
{
    set_font(cr, size);
    text_centered(cr, s, x, y, max_w);
}

double fnv_text_width(cairo_t *cr, double size, const char *s)
{
    char buf[512];
    utf8_clean(s, buf, sizeof buf);
    set_font(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, buf, &e);
    return e.x_advance;
}

void fnv_draw_text(cairo_t *cr, double x, double y, double size, const char *s)
{
    char buf[512];
    utf8_clean(s, buf, sizeof buf);
    set_font(cr, size);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, buf);
}

static const char *class_name(const char *const *names, int i, char *buf, size_t size)
{
    if (names && names[i]) return names[i];
    snprintf(buf, size, "%d", i);
    return buf;
}

cairo_surface_t *fnv_surface_from_rgb(const uint8_t *rgb, int w, int h)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return s;
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            row[x] = 0xff000000u | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

void fnv_draw_overlay(cairo_t *cr, double w, double h, const float *pixels, int c, int ih, int iw,
                      const float *heat, float lo, float hi, fn_colormap cm, double opacity)
{
    if (!pixels || ih < 1 || iw < 1 || w <= 0 || h <= 0) return;
    uint8_t *rgb = malloc((size_t)ih * iw * 3);
    if (!rgb) return;
    fn_cam_overlay(pixels, c, ih, iw, heat, lo, hi, cm, (float)opacity, rgb);
    cairo_surface_t *s = fnv_surface_from_rgb(rgb, iw, ih);
    free(rgb);
    double scale = fmin(w / iw, h / ih);
    cairo_save(cr);
    cairo_translate(cr, (w - iw * scale) / 2, (h - ih * scale) / 2);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, s, 0, 0);
    /* Nearest: every input pixel the network saw stays a visible square. */
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
}

void fnv_draw_colorbar_vertical(cairo_t *cr, double w, double h, fn_colormap cm, float lo, float hi)
{
    double bar_w = fmin(FNV_COLORBAR_W, w);
    int n = (int)ceil(h);
    for (int i = 0; i < n; i++) {
        uint8_t c[3];
        fn_colormap_rgb(cm, n > 1 ? 1.0f - (float)i / (float)(n - 1) : 0.0f, c);
        cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
        cairo_rectangle(cr, 0, i, bar_w, 1);
        cairo_fill(cr);
    }
    if (w <= bar_w + 4 || !isfinite(lo) || !isfinite(hi)) return;
    char s[32];
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    snprintf(s, sizeof s, "%.3g", hi);
    fnv_draw_text(cr, bar_w + 4, 10, 11, s);
    snprintf(s, sizeof s, "%.3g", lo);
    fnv_draw_text(cr, bar_w + 4, h, 11, s);
}

void fnv_draw_colorbar(cairo_t *cr, double w, double h, fn_colormap cm, float lo, float hi)
{
    double bar_h = h > 20 ? h - 14 : h;
    int n = (int)ceil(w);
    for (int i = 0; i < n; i++) {
        uint8_t c[3];
        fn_colormap_rgb(cm, n > 1 ? (float)i / (float)(n - 1) : 0.0f, c);
        cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
        cairo_rectangle(cr, i, 0, 1, bar_h);
        cairo_fill(cr);
    }
    if (bar_h == h || !isfinite(lo) || !isfinite(hi)) return;
    char s[32];
    set_font(cr, 10);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_text_extents_t e;
    snprintf(s, sizeof s, "%.3g", lo);
    cairo_move_to(cr, 0, h - 2);
    cairo_show_text(cr, s);
    snprintf(s, sizeof s, "%.3g", hi);
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, w - e.x_advance, h - 2);
    cairo_show_text(cr, s);
}

/* ---- bars ---- */
enum { BARS_MAX = 64 };
#define BARS_TOP 16.0    /* room for the percentage */
#define BARS_BOTTOM 34.0 /* room for the marker and the name */

/* The classes drawn, in order; returns how many. A true class outside the
 * top ones comes last, after a gap. */
static int bars_order(const fnv_bars *b, int *order, int *gap_before)
{
    int top = b->top < b->k ? b->top : b->k;
    if (top > BARS_MAX - 1) top = BARS_MAX - 1;
    int n = 0;
    *gap_before = -1;
    for (int r = 0; r < top; r++) {
        int best = -1;
        for (int j = 0; j < b->k; j++) {
            int used = 0;
            for (int q = 0; q < n; q++)
                used |= order[q] == j;
            if (!used && (best < 0 || b->prob[j] > b->prob[best])) best = j;
        }
        order[n++] = best;
    }
    if (b->true_class >= 0 && b->true_class < b->k) {
        int shown = 0;
        for (int q = 0; q < n; q++)
            shown |= order[q] == b->true_class;
        if (!shown) {
            *gap_before = n;
            order[n++] = b->true_class;
        }
    }
    return n;
}

/* Slot i's left edge and width; a gap of half a slot before the extra bar. */
static void bars_slot(double w, int n, int gap_before, int i, double *x, double *sw)
{
    double units = n + (gap_before >= 0 ? 0.5 : 0);
    *sw = (w - 8) / units;
    *x = 4 + *sw * (i + (gap_before >= 0 && i >= gap_before ? 0.5 : 0));
}

void fnv_draw_bars(cairo_t *cr, double w, double h, const fnv_bars *b)
{
    if (!b || !b->prob || b->k < 1) return;
    int order[BARS_MAX], gap;
    int n = bars_order(b, order, &gap);
    double plot_h = h - BARS_TOP - BARS_BOTTOM, base = h - BARS_BOTTOM;
    if (plot_h <= 0) return;
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_rectangle(cr, 4, base, w - 8, 1);
    cairo_fill(cr);
    set_font(cr, 11);
    for (int i = 0; i < n; i++) {
        int cls = order[i];
        double x, sw;
        bars_slot(w, n, gap, i, &x, &sw);
        double bw = sw * 0.7, bx = x + (sw - bw) / 2;
        double p = fmin(1.0, fmax(0.0, b->prob[cls]));
        double bh = p * plot_h;
        if (cls == b->selected)
            cairo_set_source_rgb(cr, FNV_SELECTED_RGB);
        else
            cairo_set_source_rgb(cr, FNV_BAR_RGB);
        cairo_rectangle(cr, bx, base - bh, bw, bh);
        cairo_fill(cr);
        char s[32], nb[16];
        snprintf(s, sizeof s, "%.1f%%", 100 * p);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        text_centered(cr, s, x + sw / 2, base - bh - 3, sw);
        if (cls == b->true_class) { /* a triangle pointing up at the bar */
            double cx = x + sw / 2;
            cairo_set_source_rgb(cr, FNV_TRUE_RGB);
            cairo_move_to(cr, cx, base + 3);
            cairo_line_to(cr, cx + 6, base + 13);
            cairo_line_to(cr, cx - 6, base + 13);
            cairo_close_path(cr);
            cairo_fill(cr);
        } else {
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        }
        text_centered(cr, class_name(b->names, cls, nb, sizeof nb), x + sw / 2, h - 4, sw - 2);
    }
}

int fnv_bars_hit(double w, double h, const fnv_bars *b, double x, double y)
{
    if (!b || b->k < 1 || y < 0 || y > h) return -1;
    int order[BARS_MAX], gap;
    int n = bars_order(b, order, &gap);
    for (int i = 0; i < n; i++) {
        double sx, sw;
        bars_slot(w, n, gap, i, &sx, &sw);
        if (x >= sx && x < sx + sw) return order[i];
    }
    return -1;
}

/* ---- multi-warm label ---- */
#define LABEL_BOTTOM 30.0

static double label_cell(double w, int k)
{
    return (w - 8) / k;
}

void fnv_draw_label(cairo_t *cr, double w, double h, const float *label, int k,
                    const char *const *names, int true_class, int selected)
{
    if (!label || k < 1) return;
    double cw = label_cell(w, k), ch = h - LABEL_BOTTOM;
    if (ch <= 4) return;
    float mx = 0;
    for (int j = 0; j < k; j++)
        mx = fmaxf(mx, label[j]);
    set_font(cr, cw < 40 ? 9 : 11);
    for (int j = 0; j < k; j++) {
        double x = 4 + j * cw;
        cairo_set_source_rgb(cr, 0.96, 0.96, 0.96);
        cairo_rectangle(cr, x + 1, 0, cw - 2, ch);
        cairo_fill(cr);
        if (label[j] > 0 && mx > 0) { /* the weight as the cell's fill, bottom up */
            double fh = ch * label[j] / mx;
            cairo_set_source_rgb(cr, FNV_WARM_RGB);
            cairo_rectangle(cr, x + 1, ch - fh, cw - 2, fh);
            cairo_fill(cr);
            char s[16];
            snprintf(s, sizeof s, "%.2f", label[j]);
            cairo_set_source_rgb(cr, 1, 1, 1);
            text_centered(cr, s, x + cw / 2, ch / 2 + 4, cw - 2);
        }
        if (j == selected) {
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_line_width(cr, 2);
            cairo_rectangle(cr, x + 2, 1, cw - 4, ch - 2);
            cairo_stroke(cr);
        }
        char nb[16];
        if (j == true_class) {
            cairo_set_source_rgb(cr, FNV_TRUE_RGB);
            double cx = x + cw / 2;
            cairo_move_to(cr, cx, ch + 2);
            cairo_line_to(cr, cx + 5, ch + 10);
            cairo_line_to(cr, cx - 5, ch + 10);
            cairo_close_path(cr);
            cairo_fill(cr);
        } else {
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        }
        text_centered(cr, class_name(names, j, nb, sizeof nb), x + cw / 2, h - 4, cw - 2);
    }
}

int fnv_label_hit(double w, double h, int k, double x, double y)
{
    if (k < 1 || y < 0 || y > h || x < 4) return -1;
    int j = (int)((x - 4) / label_cell(w, k));
    return j < k ? j : -1;
}

/* ---- confusion matrix ---- */
/* The grid's origin and cell size: names on the left, indices on top. */
static void confusion_layout(double w, double h, int k, double *x0, double *y0, double *cell)
{
    double left = k <= 20 ? 84 : 24, top = 18;
    *cell = fmax(1.0, fmin((w - left - 2) / k, (h - top - 2) / k));
    *x0 = left;
    *y0 = top;
}

void fnv_draw_matrix(cairo_t *cr, double w, double h, const fnv_matrix *m)
{
    int k = m->k;
    const int64_t *conf = m->v;
    if (!conf || k < 1) return;
    double x0, y0, cell;
    const double *rgb = m->rgb;
    confusion_layout(w, h, k, &x0, &y0, &cell);
    set_font(cr, cell < 28 ? 8 : 10);
    for (int r = 0; r < k; r++) {
        int64_t row = 0;
        for (int c = 0; c < k; c++)
            row += conf[(size_t)r * k + c];
        if (m->denom) row = m->denom[r];
        for (int c = 0; c < k; c++) {
            int64_t v = conf[(size_t)r * k + c];
            double f = row ? (double)v / row : 0; /* white to rgb */
            if (f > 1) f = 1;
            cairo_set_source_rgb(cr, 1 - f * (1 - rgb[0]), 1 - f * (1 - rgb[1]),
                                 1 - f * (1 - rgb[2]));
            if (f == 0) cairo_set_source_rgb(cr, 0.98, 0.98, 0.98);
            cairo_rectangle(cr, x0 + c * cell + 0.5, y0 + r * cell + 0.5, cell - 1, cell - 1);
            cairo_fill(cr);
            if (cell >= 16 && v) {
                char s[24];
                snprintf(s, sizeof s, "%lld", (long long)v);
                cairo_set_source_rgb(cr, f > 0.5 ? 1 : 0.15, f > 0.5 ? 1 : 0.15,
                                     f > 0.5 ? 1 : 0.15);
                text_centered(cr, s, x0 + (c + 0.5) * cell, y0 + (r + 0.5) * cell + 3, cell);
            }
        }
    }
    int sel_row = m->sel_row, sel_col = m->sel_col;
    if (sel_row >= 0 && sel_col >= 0 && sel_row < k && sel_col < k) {
        cairo_set_source_rgb(cr, FNV_SELECTED_RGB);
        cairo_set_line_width(cr, 2);
        cairo_rectangle(cr, x0 + sel_col * cell + 1, y0 + sel_row * cell + 1, cell - 2, cell - 2);
        cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    for (int i = 0; i < k && cell >= 8; i++) {
        char nb[16];
        snprintf(nb, sizeof nb, "%d", i);
        text_centered(cr, nb, x0 + (i + 0.5) * cell, y0 - 5, cell);
        if (x0 > 30) {
            char lab[40];
            const char *name = class_name(m->names, i, lab, sizeof lab);
            if (strcmp(name, nb) != 0) { /* "3 Dress", but "3" alone for class "3" */
                snprintf(lab, sizeof lab, "%d %s", i, name);
                name = lab;
            }
            text_centered(cr, name, x0 / 2, y0 + (i + 0.5) * cell + 3, x0 - 4);
        } else {
            text_centered(cr, nb, x0 / 2, y0 + (i + 0.5) * cell + 3, x0 - 2);
        }
    }
}

void fnv_draw_confusion(cairo_t *cr, double w, double h, const int64_t *conf, int k,
                        const char *const *names, int sel_row, int sel_col)
{
    fnv_matrix m = {conf, k, names, NULL, {FNV_BAR_RGB}, sel_row, sel_col};
    fnv_draw_matrix(cr, w, h, &m);
}

int fnv_confusion_hit(double w, double h, int k, double x, double y, int *row, int *col)
{
    if (k < 1) return 0;
    double x0, y0, cell;
    confusion_layout(w, h, k, &x0, &y0, &cell);
    int c = (int)floor((x - x0) / cell), r = (int)floor((y - y0) / cell);
    if (x < x0 || y < y0 || r >= k || c >= k) return 0;
    *row = r;
    *col = c;
    return 1;
}

typedef struct {
    unsigned char *data;
    size_t n, cap;
} png_buf;

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int len)
{
    png_buf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *nd = realloc(b->data, cap);
        if (!nd) return CAIRO_STATUS_NO_MEMORY;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

cairo_status_t fnv_png_encode(cairo_surface_t *s, unsigned char **data, size_t *n)
{
    png_buf b = {0};
    cairo_status_t cs = cairo_surface_write_to_png_stream(s, png_append, &b);
    if (cs != CAIRO_STATUS_SUCCESS) {
        free(b.data);
        b.data = NULL, b.n = 0;
    }
    *data = b.data;
    *n = b.n;
    return cs;
}
