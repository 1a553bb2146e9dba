/* The presentation mode's picture (issue 17.5): see draw.h. Everything is
 * sized from h so that a projector's 1080 rows get type a classroom reads. */
#include <math.h>
#include <stdio.h>

#include "draw.h"

#define WRONG_RGB 0.80, 0.15, 0.15

static double margin(double h)
{
    return fmax(6, h * 0.02);
}

void fnv_present_label_band(double w, double h, double *y, double *band_h)
{
    *band_h = fmax(30, h * 0.12);
    *y = h - *band_h - margin(h);
}

void fnv_present_layout(double w, double h, int s, double *x, double *y, double *size,
                        double *title_size)
{
    double m = margin(h), ts = fmax(14, h / 20), band_y, band_h;
    fnv_present_label_band(w, h, &band_y, &band_h);
    double top = m + ts * 1.6, caption = 2.8 * ts * 0.8;
    double side = fmax(1, fmin((w - 3 * m) / 2, band_y - m - top - caption));
    *size = side;
    *x = (s == 0 ? w / 4 : 3 * w / 4) - side / 2;
    *y = top;
    *title_size = ts;
}

static const char *name_of(const fnv_present *p, int i, char *buf, size_t n)
{
    if (p->names && i >= 0 && i < p->k && p->names[i]) return p->names[i];
    snprintf(buf, n, "%d", i);
    return buf;
}

void fnv_draw_present(cairo_t *cr, double w, double h, const fnv_present *p)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (!p) return;
    double x, y, s, ts, m = margin(h);
    fnv_present_layout(w, h, 0, &x, &y, &s, &ts);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    fnv_draw_text_centered(cr, w / 2, m + ts, ts, w - 2 * m, p->title ? p->title : "");
    double ps = ts * 0.8;
    for (int k = 0; k < 2; k++) {
        fnv_present_layout(w, h, k, &x, &y, &s, &ts);
        double cx = x + s / 2;
        char line[256], nb[16], nb2[16];
        if (!p->heat[k] || !p->prob[k]) {
            cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
            cairo_rectangle(cr, x, y, s, s);
            cairo_fill(cr);
            cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
            snprintf(line, sizeof line, "%s: %s", p->heading[k] ? p->heading[k] : "",
                     p->note[k] ? p->note[k] : "none open");
            fnv_draw_text_centered(cr, cx, y + s / 2, ps, s, line);
            continue;
        }
        cairo_save(cr);
        cairo_translate(cr, x, y);
        fnv_draw_overlay(cr, s, s, p->pixels, p->c, p->ih, p->iw, p->heat[k], p->lo[k], p->hi[k],
                         p->cm, p->opacity);
        cairo_restore(cr);
        int top = 0;
        for (int c = 1; c < p->k; c++)
            if (p->prob[k][c] > p->prob[k][top]) top = c;
        if (p->true_class < 0)
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        else if (top == p->true_class)
            cairo_set_source_rgb(cr, FNV_TRUE_RGB);
        else
            cairo_set_source_rgb(cr, WRONG_RGB);
        snprintf(line, sizeof line, "%s: %s %.0f%%", p->heading[k] ? p->heading[k] : "",
                 name_of(p, top, nb, sizeof nb), 100.0 * p->prob[k][top]);
        fnv_draw_text_centered(cr, cx, y + s + ps * 1.2, ps, w / 2 - m, line);
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        snprintf(line, sizeof line, "%s of %s", p->method[k] ? p->method[k] : "map",
                 name_of(p, p->mapped[k], nb2, sizeof nb2));
        fnv_draw_text_centered(cr, cx, y + s + ps * 2.5, ps * 0.8, w / 2 - m, line);
    }
    /* The multi-warm label: a chip per class it holds. */
    double by, bh;
    fnv_present_label_band(w, h, &by, &bh);
    double fs = bh * 0.36, cy = by + bh * 0.5, cx = m;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    const char *lead = p->label ? "Multi-warm label:" : "No baseline open: no multi-warm label";
    fnv_draw_text(cr, cx, cy + fs * 0.35, fs, lead);
    cx += fnv_text_width(cr, fs, lead) + fs * 0.6;
    for (int j = 0; p->label && j < p->k; j++) {
        if (p->label[j] <= 0) continue;
        char chip[96], nb[16];
        snprintf(chip, sizeof chip, "%s %.2f", name_of(p, j, nb, sizeof nb), p->label[j]);
        double tw = fnv_text_width(cr, fs, chip), cw = tw + fs, ch = fs * 1.8;
        if (cx + cw > w - m) break;
        cairo_set_source_rgb(cr, FNV_WARM_RGB);
        cairo_rectangle(cr, cx, cy - ch / 2, cw, ch);
        cairo_fill(cr);
        if (j == p->true_class) { /* the true class's chip framed in green */
            cairo_set_source_rgb(cr, FNV_TRUE_RGB);
            cairo_set_line_width(cr, fmax(2, fs * 0.15));
            cairo_rectangle(cr, cx, cy - ch / 2, cw, ch);
            cairo_stroke(cr);
        }
        cairo_set_source_rgb(cr, 1, 1, 1);
        fnv_draw_text(cr, cx + fs / 2, cy + fs * 0.35, fs, chip);
        cx += cw + fs * 0.5;
    }
}
