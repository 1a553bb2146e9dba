/* The presentation mode's view: see present-view.h. It keeps copies of what
 * it draws, as the other views do. */
#include <math.h>

#include "draw.h"
#include "present-view.h"

struct _FnvPresentView {
    GtkWidget parent;
    GtkDrawingArea *area;
    char *title;
    float *pixels;
    int c, h, w, k, true_class;
    char **names;
    float *heat[FNV_SLOTS], *prob[FNV_SLOTS], *label;
    int mapped[FNV_SLOTS], grad_cam[FNV_SLOTS];
    char *note[FNV_SLOTS];
    fn_colormap cm;
    double opacity;
    gboolean shared;
};

G_DEFINE_FINAL_TYPE(FnvPresentView, fnv_present_view, GTK_TYPE_WIDGET)

static void draw(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    FnvPresentView *self = data;
    if (!self->pixels) {
        fnv_draw_present(cr, width, height, NULL);
        cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
        fnv_draw_text_centered(cr, width / 2.0, height / 2.0, fmax(14, height / 30.0), width,
                               "Open a run folder and an image (or a dataset split) to present");
        return;
    }
    size_t n = (size_t)self->h * self->w;
    float lo[FNV_SLOTS] = {0, 0}, hi[FNV_SLOTS] = {1, 1}, slo = INFINITY, shi = -INFINITY;
    for (int s = 0; s < FNV_SLOTS; s++) {
        if (!self->heat[s]) continue;
        fn_heatmap_range(self->heat[s], n, &lo[s], &hi[s]);
        slo = fminf(slo, lo[s]), shi = fmaxf(shi, hi[s]);
    }
    static const char *heading[FNV_SLOTS] = {"Baseline", "FocusNet"};
    fnv_present p = {
        self->title,
        self->pixels,
        self->c,
        self->h,
        self->w,
        self->k,
        (const char *const *)self->names,
        self->true_class,
        {heading[0], heading[1]},
        {self->heat[0], self->heat[1]},
        {self->prob[0], self->prob[1]},
        {self->mapped[0], self->mapped[1]},
        {self->grad_cam[0] ? "Grad-CAM" : "CAM", self->grad_cam[1] ? "Grad-CAM" : "CAM"},
        {self->shared ? slo : lo[0], self->shared ? slo : lo[1]},
        {self->shared ? shi : hi[0], self->shared ? shi : hi[1]},
        self->cm,
        self->opacity,
        self->label,
        {self->note[0], self->note[1]}};
    fnv_draw_present(cr, width, height, &p);
}

void fnv_present_view_clear(FnvPresentView *self)
{
    g_clear_pointer(&self->title, g_free);
    g_clear_pointer(&self->pixels, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    g_clear_pointer(&self->label, g_free);
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_clear_pointer(&self->heat[s], g_free);
        g_clear_pointer(&self->prob[s], g_free);
        g_clear_pointer(&self->note[s], g_free);
    }
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

void fnv_present_view_show(FnvPresentView *self, const FnvJob *j, int k, const char *const *names,
                           const char *title, const float *label)
{
    fnv_present_view_clear(self);
    int ref = j->pixels[FNV_BASELINE] ? FNV_BASELINE : FNV_FOCUSNET;
    if (!j->pixels[ref]) return;
    self->c = j->c[ref], self->h = j->h[ref], self->w = j->w[ref], self->k = k;
    size_t n = (size_t)self->h * self->w;
    self->pixels = g_memdup2(j->pixels[ref], sizeof(float) * self->c * n);
    self->title = g_strdup(title);
    self->true_class = j->true_class;
    self->names = g_new0(char *, k + 1);
    for (int i = 0; i < k; i++)
        self->names[i] = g_strdup(names[i]);
    if (label) self->label = g_memdup2(label, sizeof(float) * k);
    for (int s = 0; s < FNV_SLOTS; s++) {
        if (j->skip[s]) self->note[s] = g_strdup_printf("no checkpoint of epoch %d", j->epoch);
        if (!j->pixels[s]) continue;
        self->heat[s] = g_memdup2(j->heat[s], sizeof(float) * n);
        self->prob[s] = g_new(float, k);
        fn_softmax(j->logits[s], k, self->prob[s]);
        self->mapped[s] = j->mapped_class[s];
        self->grad_cam[s] = j->used_grad_cam[s];
    }
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

void fnv_present_view_set_style(FnvPresentView *self, fn_colormap cm, double opacity,
                                gboolean shared)
{
    self->cm = cm, self->opacity = opacity, self->shared = shared;
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

char *fnv_present_view_describe(FnvPresentView *self)
{
    GString *out = g_string_new(NULL);
    if (!self->pixels) return g_string_free(out, FALSE);
    g_string_append_printf(out, "describe: present %s\n", self->title ? self->title : "");
    for (int s = 0; s < FNV_SLOTS; s++) {
        if (!self->prob[s]) continue;
        int top = 0;
        for (int c = 1; c < self->k; c++)
            if (self->prob[s][c] > self->prob[s][top]) top = c;
        g_string_append_printf(out, "describe: present %s: %s %.0f%% · %s of %s\n",
                               s ? "FocusNet" : "Baseline", self->names[top],
                               100.0 * self->prob[s][top], self->grad_cam[s] ? "Grad-CAM" : "CAM",
                               self->names[self->mapped[s]]);
    }
    if (self->label) {
        g_string_append(out, "describe: present multi-warm:");
        for (int c = 0; c < self->k; c++)
            if (self->label[c] > 0)
                g_string_append_printf(out, " %s %.2f", self->names[c], self->label[c]);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

static void fnv_present_view_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_PRESENT_VIEW);
    G_OBJECT_CLASS(fnv_present_view_parent_class)->dispose(o);
}

static void fnv_present_view_finalize(GObject *o)
{
    FnvPresentView *self = FNV_PRESENT_VIEW(o);
    g_free(self->title);
    g_free(self->pixels);
    g_strfreev(self->names);
    g_free(self->label);
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_free(self->heat[s]);
        g_free(self->prob[s]);
        g_free(self->note[s]);
    }
    G_OBJECT_CLASS(fnv_present_view_parent_class)->finalize(o);
}

static void fnv_present_view_class_init(FnvPresentViewClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_present_view_dispose;
    oc->finalize = fnv_present_view_finalize;
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/present-view.ui");
    gtk_widget_class_bind_template_child(wc, FnvPresentView, area);
}

static void fnv_present_view_init(FnvPresentView *self)
{
    self->opacity = 0.5;
    self->shared = TRUE;
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_drawing_area_set_draw_func(self->area, draw, self, NULL);
}
