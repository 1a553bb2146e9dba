#include "class-plot.h"
#include "draw.h"

static guint bar_signal, label_signal, cell_signal, bar_pair_signal, label_pair_signal;

/* The plots keep their own copy of the class names: the window replaces its
 * models (and their names) while a plot may still be drawn. */
static char **copy_names(const char *const *names, int k)
{
    if (!names) return NULL;
    char **c = g_new0(char *, k + 1);
    for (int i = 0; i < k; i++)
        c[i] = g_strdup(names[i]);
    return c;
}

/* ---- bar chart ---- */
struct _FnvBarChart {
    GtkDrawingArea parent;
    float *prob;
    char **names;
    fnv_bars bars;
};
G_DEFINE_FINAL_TYPE(FnvBarChart, fnv_bar_chart, GTK_TYPE_DRAWING_AREA)

static void bar_draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
    FnvBarChart *self = FNV_BAR_CHART(area);
    if (self->prob) fnv_draw_bars(cr, w, h, &self->bars);
}

static void bar_pressed(GtkGestureClick *g, int n, double x, double y, FnvBarChart *self)
{
    GtkWidget *w = GTK_WIDGET(self);
    int cls = self->prob ? fnv_bars_hit(gtk_widget_get_width(w), gtk_widget_get_height(w),
                                        &self->bars, x, y)
                         : -1;
    /* The secondary button pairs the class with the true one (issue 17.1). */
    gboolean pair = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g)) == 3;
    if (cls >= 0) g_signal_emit(self, pair ? bar_pair_signal : bar_signal, 0, cls);
}

static void bar_finalize(GObject *o)
{
    g_free(FNV_BAR_CHART(o)->prob);
    g_strfreev(FNV_BAR_CHART(o)->names);
    G_OBJECT_CLASS(fnv_bar_chart_parent_class)->finalize(o);
}

static void fnv_bar_chart_class_init(FnvBarChartClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = bar_finalize;
    bar_signal = g_signal_new("class-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                              NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
    bar_pair_signal = g_signal_new("pair-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void fnv_bar_chart_init(FnvBarChart *self)
{
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self), 104);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), bar_draw, NULL, NULL);
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(bar_pressed), self);
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), 0); /* primary and secondary */
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "pointer");
}

void fnv_bar_chart_set(FnvBarChart *self, const float *prob, int k, const char *const *names,
                       int top, int true_class, int selected)
{
    g_clear_pointer(&self->prob, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    if (prob) {
        self->prob = g_memdup2(prob, sizeof(float) * k);
        self->names = copy_names(names, k);
    }
    self->bars =
        (fnv_bars){self->prob, k, (const char *const *)self->names, top, true_class, selected};
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* ---- multi-warm label ---- */
struct _FnvLabelView {
    GtkDrawingArea parent;
    float *label;
    int k, true_class, selected;
    char **names;
};
G_DEFINE_FINAL_TYPE(FnvLabelView, fnv_label_view, GTK_TYPE_DRAWING_AREA)

static void label_draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
    FnvLabelView *self = FNV_LABEL_VIEW(area);
    if (self->label)
        fnv_draw_label(cr, w, h, self->label, self->k, (const char *const *)self->names,
                       self->true_class, self->selected);
}

static void label_pressed(GtkGestureClick *g, int n, double x, double y, FnvLabelView *self)
{
    GtkWidget *w = GTK_WIDGET(self);
    int cls = self->label
                  ? fnv_label_hit(gtk_widget_get_width(w), gtk_widget_get_height(w), self->k, x, y)
                  : -1;
    gboolean pair = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g)) == 3;
    if (cls >= 0) g_signal_emit(self, pair ? label_pair_signal : label_signal, 0, cls);
}

static void label_finalize(GObject *o)
{
    g_free(FNV_LABEL_VIEW(o)->label);
    g_strfreev(FNV_LABEL_VIEW(o)->names);
    G_OBJECT_CLASS(fnv_label_view_parent_class)->finalize(o);
}

static void fnv_label_view_class_init(FnvLabelViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = label_finalize;
    label_signal = g_signal_new("class-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
    label_pair_signal = g_signal_new("pair-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void fnv_label_view_init(FnvLabelView *self)
{
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self), 64);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), label_draw, NULL, NULL);
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(label_pressed), self);
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), 0); /* primary and secondary */
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "pointer");
}

void fnv_label_view_set(FnvLabelView *self, const float *label, int k, const char *const *names,
                        int true_class, int selected)
{
    g_clear_pointer(&self->label, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    if (label) {
        self->label = g_memdup2(label, sizeof(float) * k);
        self->names = copy_names(names, k);
    }
    self->k = k, self->true_class = true_class, self->selected = selected;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* ---- confusion matrix ---- */
struct _FnvConfusionView {
    GtkDrawingArea parent;
    int64_t *conf, *denom;
    double rgb[3];
    int k, sel_row, sel_col;
    char **names;
};
G_DEFINE_FINAL_TYPE(FnvConfusionView, fnv_confusion_view, GTK_TYPE_DRAWING_AREA)

static void conf_draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
    FnvConfusionView *self = FNV_CONFUSION_VIEW(area);
    fnv_matrix m = {self->conf,
                    self->k,
                    (const char *const *)self->names,
                    self->denom,
                    {self->rgb[0], self->rgb[1], self->rgb[2]},
                    self->sel_row,
                    self->sel_col};
    if (self->conf) fnv_draw_matrix(cr, w, h, &m);
}

static void conf_pressed(GtkGestureClick *g, int n, double x, double y, FnvConfusionView *self)
{
    GtkWidget *w = GTK_WIDGET(self);
    int r, c;
    if (self->conf &&
        fnv_confusion_hit(gtk_widget_get_width(w), gtk_widget_get_height(w), self->k, x, y, &r, &c))
        g_signal_emit(self, cell_signal, 0, r, c);
}

static void conf_finalize(GObject *o)
{
    g_free(FNV_CONFUSION_VIEW(o)->conf);
    g_free(FNV_CONFUSION_VIEW(o)->denom);
    g_strfreev(FNV_CONFUSION_VIEW(o)->names);
    G_OBJECT_CLASS(fnv_confusion_view_parent_class)->finalize(o);
}

static void fnv_confusion_view_class_init(FnvConfusionViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = conf_finalize;
    cell_signal = g_signal_new("cell-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                               NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
}

static void fnv_confusion_view_init(FnvConfusionView *self)
{
    self->sel_row = self->sel_col = -1;
    fnv_confusion_view_set_shading(self, NULL, (const double[3]){FNV_BAR_RGB});
    gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self), 196);
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self), 196);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), conf_draw, NULL, NULL);
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(conf_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "pointer");
}

void fnv_confusion_view_set_shading(FnvConfusionView *self, const int64_t *denom,
                                    const double rgb[3])
{
    g_clear_pointer(&self->denom, g_free);
    if (denom && self->k > 0) self->denom = g_memdup2(denom, sizeof(int64_t) * self->k);
    for (int i = 0; i < 3; i++)
        self->rgb[i] = rgb[i];
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void fnv_confusion_view_set(FnvConfusionView *self, const int64_t *conf, int k,
                            const char *const *names, int sel_row, int sel_col)
{
    g_clear_pointer(&self->conf, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    if (conf) {
        self->conf = g_memdup2(conf, sizeof(int64_t) * k * k);
        self->names = copy_names(names, k);
    }
    self->k = k, self->sel_row = sel_row, self->sel_col = sel_col;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}
