#include <math.h>

#include "cam-view.h"
#include "draw.h"

#define SCALE_H 30

struct _FnvCamView {
    GtkDrawingArea parent;
    float *pixels, *heat;
    int c, h, w;
    float lo, hi;
    fn_colormap cm;
    double opacity;
    char *text;
};

G_DEFINE_FINAL_TYPE(FnvCamView, fnv_cam_view, GTK_TYPE_DRAWING_AREA)

static void draw(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    FnvCamView *self = FNV_CAM_VIEW(area);
    if (!self->pixels) {
        if (!self->text) return;
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 13);
        cairo_text_extents_t e;
        cairo_text_extents(cr, self->text, &e);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_move_to(cr, (width - e.x_advance) / 2, height / 2.0);
        cairo_show_text(cr, self->text);
        return;
    }
    double img_h = height - SCALE_H - 6;
    fnv_draw_overlay(cr, width, img_h, self->pixels, self->c, self->h, self->w, self->heat,
                     self->lo, self->hi, self->cm, self->opacity);
    if (!self->heat) return;
    double bar_w = fmin(width * 0.8, img_h);
    cairo_save(cr);
    cairo_translate(cr, (width - bar_w) / 2, height - SCALE_H);
    fnv_draw_colorbar(cr, bar_w, SCALE_H, self->cm, self->lo, self->hi);
    cairo_restore(cr);
}

static void finalize(GObject *o)
{
    FnvCamView *self = FNV_CAM_VIEW(o);
    g_free(self->pixels);
    g_free(self->heat);
    g_free(self->text);
    G_OBJECT_CLASS(fnv_cam_view_parent_class)->finalize(o);
}

static void fnv_cam_view_class_init(FnvCamViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void fnv_cam_view_init(FnvCamView *self)
{
    self->opacity = 0.5;
    self->lo = 0;
    self->hi = 1;
    gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self), 164);
    /* 164, not 224: at the default window size the confusion matrices below
     * must fit too (issue 17.6). */
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self), 164 + SCALE_H + 6);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), draw, NULL, NULL);
}

void fnv_cam_view_set_image(FnvCamView *self, const float *pixels, int c, int h, int w,
                            const float *heat)
{
    g_clear_pointer(&self->pixels, g_free);
    g_clear_pointer(&self->heat, g_free);
    self->c = c, self->h = h, self->w = w;
    if (pixels) self->pixels = g_memdup2(pixels, sizeof(float) * c * h * w);
    if (heat) self->heat = g_memdup2(heat, sizeof(float) * h * w);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void fnv_cam_view_clear(FnvCamView *self, const char *text)
{
    fnv_cam_view_set_image(self, NULL, 0, 0, 0, NULL);
    g_free(self->text);
    self->text = g_strdup(text);
}

void fnv_cam_view_set_style(FnvCamView *self, float lo, float hi, fn_colormap cm, double opacity)
{
    self->lo = lo, self->hi = hi, self->cm = cm, self->opacity = opacity;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void fnv_cam_view_get_range(FnvCamView *self, float *lo, float *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    if (self->heat) fn_heatmap_range(self->heat, (size_t)self->h * self->w, lo, hi);
}
