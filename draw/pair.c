/* The confusing pair's maps (issue 17.1): see draw.h. */
#include <math.h>

#include "draw.h"

void fnv_pair_cell(double w, double h, const fnv_pair *p, int r, int col, double *x, double *y,
                   double *size)
{
    int n = p->n_rows > 0 ? p->n_rows : 1;
    double cw = (w - FNV_PAIR_LEFT) / 3, rh = (h - FNV_PAIR_HEAD) / n;
    /* Whole pixels: the colour scale's one-pixel stripes stay crisp. */
    double s = floor(fmax(1, fmin(cw - 8, rh - FNV_PAIR_BAR - 6)));
    *size = s;
    *x = floor(FNV_PAIR_LEFT + col * cw + (cw - s) / 2);
    *y = floor(FNV_PAIR_HEAD + r * rh + 2);
}

void fnv_draw_pair(cairo_t *cr, double w, double h, const fnv_pair *p)
{
    if (!p || p->n_rows < 1 || w <= FNV_PAIR_LEFT || h <= FNV_PAIR_HEAD) return;
    double cw = (w - FNV_PAIR_LEFT) / 3;
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    for (int col = 0; col < 3; col++)
        if (p->heads[col])
            fnv_draw_text_centered(cr, FNV_PAIR_LEFT + (col + 0.5) * cw, FNV_PAIR_HEAD - 5, 12,
                                   cw - 4, p->heads[col]);
    for (int r = 0; r < p->n_rows; r++) {
        const fnv_pair_row *row = &p->rows[r];
        double x, y, s;
        fnv_pair_cell(w, h, p, r, 0, &x, &y, &s);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        fnv_draw_text_centered(cr, FNV_PAIR_LEFT / 2.0, y + s / 2 + 4, 12, FNV_PAIR_LEFT - 4,
                               row->label ? row->label : "");
        if (!row->heat[0]) {
            cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
            fnv_draw_text_centered(cr, FNV_PAIR_LEFT + 1.5 * cw, y + s / 2 + 4, 12, 3 * cw,
                                   row->note ? row->note : "no model open");
            continue;
        }
        for (int col = 0; col < 3; col++) {
            fnv_pair_cell(w, h, p, r, col, &x, &y, &s);
            cairo_save(cr);
            cairo_translate(cr, x, y);
            fnv_draw_overlay(cr, s, s, p->pixels, p->c, p->ih, p->iw, row->heat[col], row->lo[col],
                             row->hi[col], p->cm, p->opacity);
            cairo_restore(cr);
            if (!row->heat[col]) continue;
            cairo_save(cr);
            cairo_translate(cr, x, y + s + 2);
            fnv_draw_colorbar(cr, s, FNV_PAIR_BAR, p->cm, row->lo[col], row->hi[col]);
            cairo_restore(cr);
        }
    }
}
