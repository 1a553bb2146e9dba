/* Pure drawing, shared by the viewer and `focusnet cam` (a static library
 * that needs cairo and focusnet.h, no GTK): each function takes a cairo
 * context, a size and data, nothing else, and draws into the rectangle
 * (0, 0, w, h). Hit tests use the same layout, so a click maps to what was
 * drawn. tests/test_draw.c draws them on image surfaces and checks pixels.
 * The fnv_ prefix is the viewer's, where these were first written. */
#ifndef FNV_DRAW_H
#define FNV_DRAW_H

#include <cairo.h>
#include <stdint.h>

#include "focusnet.h"

/* Colours the tests look for (RGB in [0, 1]). */
#define FNV_BAR_RGB 0.26, 0.48, 0.71      /* a class's probability */
#define FNV_SELECTED_RGB 0.93, 0.49, 0.06 /* the class whose map is shown */
#define FNV_TRUE_RGB 0.13, 0.62, 0.25     /* the true class's marker */
#define FNV_WARM_RGB 0.55, 0.34, 0.76     /* a class in the multi-warm label */

/* The image (C, ih, iw) in [0, 1] with heat (ih, iw) over it through cm at
 * opacity, scaled to fit w x h with square pixels, centred. heat may be NULL. */
void fnv_draw_overlay(cairo_t *cr, double w, double h, const float *pixels, int c, int ih, int iw,
                      const float *heat, float lo, float hi, fn_colormap cm, double opacity);

/* A horizontal colour scale from lo (left) to hi (right) with the two values
 * written under it (the viewer's). */
void fnv_draw_colorbar(cairo_t *cr, double w, double h, fn_colormap cm, float lo, float hi);
/* A vertical one, hi at the top, FNV_COLORBAR_W wide, the two values written
 * to its right where w leaves room (the PNGs of `focusnet cam`). */
#define FNV_COLORBAR_W 14
void fnv_draw_colorbar_vertical(cairo_t *cr, double w, double h, fn_colormap cm, float lo,
                                float hi);

/* s at (x, y), the baseline's left end, in the drawings' font at size; bytes
 * that are not UTF-8 (a class name from a file) are drawn as '?' rather than
 * putting cr into an error state. Uses the current source colour. */
void fnv_draw_text(cairo_t *cr, double x, double y, double size, const char *s);
/* How wide fnv_draw_text draws s at size. */
double fnv_text_width(cairo_t *cr, double size, const char *s);
/* s centred on x, baseline at y, shortened with a '.' to fit max_w. */
void fnv_draw_text_centered(cairo_t *cr, double x, double y, double size, double max_w,
                            const char *s);

/* Predictions as vertical bars, most probable first: the top classes, plus the
 * true class after a gap when it is not among them. The true class is marked
 * with a triangle under its bar, the selected class drawn in its colour. */
typedef struct {
    const float *prob; /* (K) */
    int k;
    const char *const *names; /* (K), may be NULL */
    int top;                  /* how many to show */
    int true_class;           /* -1: unknown */
    int selected;             /* -1: none */
} fnv_bars;
void fnv_draw_bars(cairo_t *cr, double w, double h, const fnv_bars *b);
/* The class whose bar (or its label) is at (x, y), or -1. */
int fnv_bars_hit(double w, double h, const fnv_bars *b, double x, double y);

/* A multi-warm label (K) as a row of cells, warm ones filled in proportion to
 * their weight, names under them, the true class marked, the selected outlined. */
void fnv_draw_label(cairo_t *cr, double w, double h, const float *label, int k,
                    const char *const *names, int true_class, int selected);
int fnv_label_hit(double w, double h, int k, double x, double y);

/* A confusion matrix (K, K), row = true class, column = predicted, shaded by
 * the fraction of the row; counts written when cells are large enough. */
void fnv_draw_confusion(cairo_t *cr, double w, double h, const int64_t *conf, int k,
                        const char *const *names, int sel_row, int sel_col);
/* 1 and the cell when (x, y) is on one (fnv_draw_matrix's cells too). */
int fnv_confusion_hit(double w, double h, int k, double x, double y, int *row, int *col);

/* A K x K matrix of counts as fnv_draw_confusion draws it (its layout, so
 * fnv_confusion_hit applies), each cell shaded from white to rgb by
 * value / denom[row], denom NULL: by the row's sum. The baseline's multi-warm
 * matrix (issue 17.2) is drawn with denom = the images of each class and
 * FNV_WARM_RGB, so a cell is the share of class i's images whose label holds j. */
typedef struct {
    const int64_t *v; /* (K, K) */
    int k;
    const char *const *names; /* (K), may be NULL */
    const int64_t *denom;     /* (K) or NULL */
    double rgb[3];
    int sel_row, sel_col; /* -1: none */
} fnv_matrix;
void fnv_draw_matrix(cairo_t *cr, double w, double h, const fnv_matrix *m);

/* ---- confusing pairs (pair.c, issue 17.1) ---- */
/* Rows of models, three maps each over the same image: class A's, class B's
 * and the contrast "why A, not B", each with its colour scale under it and
 * its caption on top of the column; the row's label at its left. A row
 * without maps (no model) says so. */
typedef struct {
    const char *label;    /* "Baseline" */
    const float *heat[3]; /* (ih, iw) each; heat[0] NULL: no model in this row */
    float lo[3], hi[3];
    const char *note; /* what a row without maps says, NULL: "no model open" */
} fnv_pair_row;
typedef struct {
    const float *pixels; /* (c, ih, iw) in [0, 1] */
    int c, ih, iw;
    const char *heads[3]; /* the columns' captions */
    const fnv_pair_row *rows;
    int n_rows;
    fn_colormap cm;
    double opacity;
} fnv_pair;
#define FNV_PAIR_LEFT 84 /* the row labels' column */
#define FNV_PAIR_HEAD 18 /* the captions' band */
#define FNV_PAIR_BAR 26  /* a colour scale under each map */
void fnv_draw_pair(cairo_t *cr, double w, double h, const fnv_pair *p);
/* The square where row r, column col's map is drawn. */
void fnv_pair_cell(double w, double h, const fnv_pair *p, int r, int col, double *x, double *y,
                   double *size);

/* ---- presentation mode (present.c, issue 17.5) ---- */
/* One image for a classroom: its title in large type, each model's map big
 * side by side with its prediction under it, and the baseline's multi-warm
 * label as a row of chips at the bottom; type scales with h. */
typedef struct {
    const char *title; /* "sandal.png — true class: Sandal" */
    const float *pixels;
    int c, ih, iw;
    int k;
    const char *const *names; /* (K) */
    int true_class;           /* -1: unknown */
    const char *heading[2];   /* "Baseline", "FocusNet" */
    const float *heat[2];     /* NULL: no model there */
    const float *prob[2];     /* (K) */
    int mapped[2];            /* the class each map shows */
    const char *method[2];    /* "CAM", "Grad-CAM" */
    float lo[2], hi[2];
    fn_colormap cm;
    double opacity;
    const float *label;  /* the multi-warm label (K), NULL: no baseline */
    const char *note[2]; /* what a slot without a map says, NULL: "none open" */
} fnv_present;
void fnv_draw_present(cairo_t *cr, double w, double h, const fnv_present *p);
/* Model s's map square, and the font size of the title (the large type). */
void fnv_present_layout(double w, double h, int s, double *x, double *y, double *size,
                        double *title_size);
/* The multi-warm chips' band: its top and height. */
void fnv_present_label_band(double w, double h, double *y, double *band_h);

/* Fills an RGB24 image surface from rgb (h, w, 3) bytes. Cairo keeps pixels
 * as native-endian 32-bit words, 0xffRRGGBB: B, G, R, A in memory on x86. */
cairo_surface_t *fnv_surface_from_rgb(const uint8_t *rgb, int w, int h);

/* ---- training curves (curves.c) ---- */
typedef struct {
    const char *label;         /* the run's name in the legend */
    int n;                     /* epochs logged */
    const int *epoch;          /* (n) 1-based */
    const double *loss, *top1; /* (n) training loss, test top-1 in [0, 1]; NaN: no point */
} fnv_curve;
/* Fills w x h white; a legend, then two panels side by side: training loss
 * and test top-1 (%) per epoch, curve r in fnv_curve_color(r). */
void fnv_draw_curves(cairo_t *cr, double w, double h, const fnv_curve *c, int n);
/* ... with a vertical FNV_EPOCH_MARK_RGB line at epoch mark in both panels
 * (the viewer's epoch slider; 0 or an epoch past the axis: none). */
#define FNV_EPOCH_MARK_RGB 0.80, 0.20, 0.60
void fnv_draw_curves_marked(cairo_t *cr, double w, double h, const fnv_curve *c, int n, int mark);
void fnv_curve_color(int i, double rgb[3]);

/* The surface as PNG bytes in memory (malloc'd into *data, *n), for an
 * atomic write (fn_write_file_atomic); returns the cairo status. */
cairo_status_t fnv_png_encode(cairo_surface_t *s, unsigned char **data, size_t *n);

#endif
