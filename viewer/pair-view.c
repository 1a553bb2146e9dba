/* The confusing pair's view: see pair-view.h. It keeps copies of what it
 * draws: the window replaces its image job while this may still be drawn. */
#include <math.h>

#include "draw.h"
#include "pair-view.h"

struct _FnvPairView {
    GtkWidget parent;
    GtkLabel *heading;
    GtkDrawingArea *area;
    float *pixels;
    int c, h, w;
    float *heat[FNV_SLOTS][3];
    int a, b;
    char *heads[3];
    char *note[FNV_SLOTS]; /* a row without maps: why */
    fn_colormap cm;
    double opacity;
    gboolean shared;
    char *text; /* shown instead of the maps */
};

G_DEFINE_FINAL_TYPE(FnvPairView, fnv_pair_view, GTK_TYPE_WIDGET)

enum { CLOSE_REQUESTED, N_SIGNALS };
static guint signals[N_SIGNALS];
static const char *row_label[FNV_SLOTS] = {"Baseline", "FocusNet"};

static void range(const float *x, size_t n, float *lo, float *hi)
{
    if (x) fn_heatmap_range(x, n, lo, hi);
}

static void draw(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    FnvPairView *self = data;
    if (!self->pixels) {
        if (!self->text) return;
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        fnv_draw_text_centered(cr, width / 2.0, height / 2.0, 13, width, self->text);
        return;
    }
    size_t n = (size_t)self->h * self->w;
    /* Per model: [lo, hi] over A's and B's maps, and |contrast|'s maximum. */
    float lo[FNV_SLOTS], hi[FNV_SLOTS], cmax[FNV_SLOTS], cmin[FNV_SLOTS];
    float all_lo = INFINITY, all_hi = -INFINITY, all_c = 0, all_cmin = 0;
    for (int s = 0; s < FNV_SLOTS; s++) {
        lo[s] = INFINITY, hi[s] = -INFINITY, cmin[s] = INFINITY, cmax[s] = -INFINITY;
        range(self->heat[s][0], n, &lo[s], &hi[s]);
        float l2 = INFINITY, h2 = -INFINITY;
        range(self->heat[s][1], n, &l2, &h2);
        lo[s] = fminf(lo[s], l2), hi[s] = fmaxf(hi[s], h2);
        range(self->heat[s][2], n, &cmin[s], &cmax[s]);
        float m = fmaxf(fabsf(cmin[s]), fabsf(cmax[s]));
        cmax[s] = isfinite(m) ? m : 0;
        cmin[s] = cmin[s] < 0 ? -cmax[s] : 0; /* signed (CAM): centred on 0 */
        if (!self->heat[s][0]) continue;
        all_lo = fminf(all_lo, lo[s]), all_hi = fmaxf(all_hi, hi[s]);
        all_c = fmaxf(all_c, cmax[s]);
        all_cmin = fminf(all_cmin, cmin[s]);
    }
    fnv_pair_row rows[FNV_SLOTS];
    for (int s = 0; s < FNV_SLOTS; s++) {
        rows[s] = (fnv_pair_row){row_label[s],
                                 {self->heat[s][0], self->heat[s][1], self->heat[s][2]},
                                 {0, 0, 0},
                                 {1, 1, 1},
                                 self->note[s]};
        float l = self->shared ? all_lo : lo[s], h = self->shared ? all_hi : hi[s];
        float cl = self->shared ? all_cmin : cmin[s], ch = self->shared ? all_c : cmax[s];
        rows[s].lo[0] = rows[s].lo[1] = l, rows[s].hi[0] = rows[s].hi[1] = h;
        rows[s].lo[2] = cl < 0 ? -ch : 0, rows[s].hi[2] = ch;
    }
    fnv_pair p = {self->pixels,
                  self->c,
                  self->h,
                  self->w,
                  {self->heads[0], self->heads[1], self->heads[2]},
                  rows,
                  FNV_SLOTS,
                  self->cm,
                  self->opacity};
    fnv_draw_pair(cr, width, height, &p);
}

static void drop(FnvPairView *self)
{
    g_clear_pointer(&self->pixels, g_free);
    for (int s = 0; s < FNV_SLOTS; s++)
        for (int m = 0; m < 3; m++)
            g_clear_pointer(&self->heat[s][m], g_free);
    for (int m = 0; m < 3; m++)
        g_clear_pointer(&self->heads[m], g_free);
    for (int s = 0; s < FNV_SLOTS; s++)
        g_clear_pointer(&self->note[s], g_free);
    self->a = self->b = -1;
}

void fnv_pair_view_clear(FnvPairView *self, const char *text)
{
    drop(self);
    g_free(self->text);
    self->text = g_strdup(text);
    gtk_label_set_text(self->heading, "The confusing pair");
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

void fnv_pair_view_show(FnvPairView *self, const FnvJob *j, int k, const char *const *names)
{
    if (!j || j->pair_a < 0 || j->pair_b < 0 || j->pair_a >= k || j->pair_b >= k) {
        fnv_pair_view_clear(self, "No pair: the models know one class");
        return;
    }
    drop(self);
    g_clear_pointer(&self->text, g_free);
    int ref = j->pixels[FNV_BASELINE] ? FNV_BASELINE : FNV_FOCUSNET;
    self->c = j->c[ref], self->h = j->h[ref], self->w = j->w[ref];
    size_t n = (size_t)self->h * self->w;
    self->pixels = g_memdup2(j->pixels[ref], sizeof(float) * self->c * n);
    for (int s = 0; s < FNV_SLOTS; s++)
        for (int m = 0; m < 3; m++)
            if (j->pair_heat[s][m])
                self->heat[s][m] = g_memdup2(j->pair_heat[s][m], sizeof(float) * n);
    self->a = j->pair_a, self->b = j->pair_b;
    for (int s = 0; s < FNV_SLOTS; s++) /* the epoch slider left this run out */
        if (j->skip[s]) self->note[s] = g_strdup_printf("no checkpoint of epoch %d", j->epoch);
    const char *na = names[self->a], *nb = names[self->b];
    gboolean truth = j->true_class == self->a;
    self->heads[0] = g_strdup_printf("%s%s", na, truth ? " (true class)" : " (top class)");
    self->heads[1] = g_strdup_printf("%s", nb);
    self->heads[2] = g_strdup_printf("why %s, not %s", na, nb);
    char *t = g_strdup_printf("Why %s, not %s? %s, %s and the contrast, in both models "
                              "(right-click a class to pair it)",
                              na, nb, truth ? "The true class" : "The baseline's top class",
                              j->pair >= 0 ? "the class picked"
                                           : "the class the baseline finds next most probable");
    gtk_label_set_text(self->heading, t);
    g_free(t);
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

void fnv_pair_view_set_style(FnvPairView *self, fn_colormap cm, double opacity, gboolean shared)
{
    self->cm = cm, self->opacity = opacity, self->shared = shared;
    gtk_widget_queue_draw(GTK_WIDGET(self->area));
}

void fnv_pair_view_get_pair(FnvPairView *self, int *a, int *b)
{
    *a = self->a;
    *b = self->b;
}

const char *fnv_pair_view_get_heading(FnvPairView *self)
{
    return gtk_label_get_text(self->heading);
}

static void on_close(GtkButton *b, FnvPairView *self)
{
    g_signal_emit(self, signals[CLOSE_REQUESTED], 0);
}

static void fnv_pair_view_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_PAIR_VIEW);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_pair_view_parent_class)->dispose(o);
}

static void fnv_pair_view_finalize(GObject *o)
{
    FnvPairView *self = FNV_PAIR_VIEW(o);
    drop(self);
    g_free(self->text);
    G_OBJECT_CLASS(fnv_pair_view_parent_class)->finalize(o);
}

static void fnv_pair_view_class_init(FnvPairViewClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_pair_view_dispose;
    oc->finalize = fnv_pair_view_finalize;
    signals[CLOSE_REQUESTED] = g_signal_new("close-requested", G_TYPE_FROM_CLASS(klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/pair-view.ui");
    gtk_widget_class_bind_template_child(wc, FnvPairView, heading);
    gtk_widget_class_bind_template_child(wc, FnvPairView, area);
    gtk_widget_class_bind_template_callback(wc, on_close);
}

static void fnv_pair_view_init(FnvPairView *self)
{
    self->a = self->b = -1;
    self->opacity = 0.5;
    self->shared = TRUE;
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_drawing_area_set_draw_func(self->area, draw, self, NULL);
    fnv_pair_view_clear(self, "Working…");
}
