/* Training curves: each run's training loss (left) and test top-1 (right)
 * per epoch, one colour per run, as `focusnet plot` draws them. Pure cairo,
 * tested on image surfaces by tests/test_draw.c. */
#include <math.h>
#include <stdio.h>

#include "draw.h"

static const double palette[][3] = {
    {0.26, 0.48, 0.71}, {0.93, 0.49, 0.06}, {0.13, 0.62, 0.25},
    {0.55, 0.34, 0.76}, {0.80, 0.15, 0.15}, {0.40, 0.40, 0.40},
};

void fnv_curve_color(int i, double rgb[3])
{
    const double *p = palette[i % (int)(sizeof palette / sizeof palette[0])];
    rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];
}

/* One panel: axes, its title, the curves of field 0 (loss) or 1 (top-1). */
static void panel(cairo_t *cr, double x, double y, double w, double h, const fnv_curve *c, int n,
                  int field, const char *title, int mark)
{
    int epochs = 1;
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < n; r++)
        for (int e = 0; e < c[r].n; e++) {
            double v = field ? 100 * c[r].top1[e] : c[r].loss[e];
            if (!isfinite(v)) continue; /* a diverged epoch has no point */
            lo = fmin(lo, v), hi = fmax(hi, v);
            if (c[r].epoch[e] > epochs) epochs = c[r].epoch[e];
        }
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (field) lo = fmax(0, floor(lo / 10) * 10), hi = fmin(100, ceil(hi / 10) * 10);
    if (hi - lo < 1e-9) hi = lo + 1;
    const double left = 44, bottom = 22, top = 22;
    double px = x + left, pw = w - left - 8, py = y + top, ph = h - top - bottom;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    fnv_draw_text(cr, px, y + 14, 12, title);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_rectangle(cr, px + 0.5, py + 0.5, pw, ph);
    cairo_stroke(cr);
    char s[32];
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    snprintf(s, sizeof s, "%.3g", hi);
    fnv_draw_text(cr, x + 2, py + 8, 10, s);
    snprintf(s, sizeof s, "%.3g", lo);
    fnv_draw_text(cr, x + 2, py + ph, 10, s);
    fnv_draw_text(cr, px, py + ph + 15, 10, "1");
    snprintf(s, sizeof s, "epoch %d", epochs);
    fnv_draw_text(cr, px + pw - 48, py + ph + 15, 10, s);
    double sx = epochs > 1 ? pw / (epochs - 1) : 0;
    if (mark >= 1 && mark <= epochs) { /* under the curves, so that they stay whole */
        double mx = epochs > 1 ? px + (mark - 1) * sx : px + pw / 2;
        cairo_set_source_rgb(cr, FNV_EPOCH_MARK_RGB);
        cairo_rectangle(cr, round(mx) - 1, py + 1, 2, ph - 1);
        cairo_fill(cr);
    }
    for (int r = 0; r < n; r++) {
        double rgb[3];
        fnv_curve_color(r, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2);
        int drawn = 0;
        for (int e = 0; e < c[r].n; e++) {
            double v = field ? 100 * c[r].top1[e] : c[r].loss[e];
            if (!isfinite(v)) {
                drawn = 0; /* a gap, not a line through the missing epoch */
                continue;
            }
            double cx = epochs > 1 ? px + (c[r].epoch[e] - 1) * sx : px + pw / 2;
            double cy = py + ph - (v - lo) / (hi - lo) * ph;
            if (drawn)
                cairo_line_to(cr, cx, cy);
            else
                cairo_move_to(cr, cx, cy);
            drawn = 1;
        }
        cairo_stroke(cr);
        for (int e = 0; e < c[r].n; e++) { /* a dot per epoch: one epoch is a point */
            double v = field ? 100 * c[r].top1[e] : c[r].loss[e];
            if (!isfinite(v)) continue;
            double cx = epochs > 1 ? px + (c[r].epoch[e] - 1) * sx : px + pw / 2;
            cairo_arc(cr, cx, py + ph - (v - lo) / (hi - lo) * ph, 3, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
}

void fnv_draw_curves(cairo_t *cr, double w, double h, const fnv_curve *c, int n)
{
    fnv_draw_curves_marked(cr, w, h, c, n, 0);
}

void fnv_draw_curves_marked(cairo_t *cr, double w, double h, const fnv_curve *c, int n, int mark)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, w, h);
    cairo_fill(cr);
    const double legend = 24;
    double x = 8;
    for (int r = 0; r < n; r++) { /* the legend: a swatch and the run's name */
        double rgb[3];
        fnv_curve_color(r, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, x, 8, 12, 12);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fnv_draw_text(cr, x + 16, 18, 12, c[r].label ? c[r].label : "");
        cairo_text_extents_t e;
        cairo_text_extents(cr, c[r].label ? c[r].label : "", &e);
        x += 16 + e.x_advance + 18;
    }
    double pw = w / 2;
    panel(cr, 0, legend, pw, h - legend, c, n, 0, "training loss", mark);
    panel(cr, pw, legend, pw, h - legend, c, n, 1, "test top-1 (%)", mark);
    cairo_restore(cr);
}
