/* The window's views of issue 17 (the confusing pair, the multi-warm matrix,
 * the presentation mode) as the window drives them: their template
 * callbacks, the presentation mode's keys, and --describe. Each view is a
 * widget of its own (pair-view.c, warm-matrix.c, present-view.c). */
#include <string.h>

#include "window-private.h"

/* The multi-warm matrix of the split under the rule chosen, and the image
 * list's membership that goes with it. */
void fnv_window_update_warm(FnvWindow *self)
{
    GError *err = NULL;
    if (!fnv_warm_matrix_set(self->warm_matrix, self->dataset, self->multiwarm_rule, &err)) {
        fnv_window_show_error(self, err->message);
        g_error_free(err);
    }
    fnv_image_list_set_warm(self->image_list, fnv_warm_matrix_get_warm(self->warm_matrix));
    if (self->warm_row >= 0) fnv_window_set_warm_cell(self, self->warm_row, self->warm_col);
}

void fnv_window_select_warm(FnvWindow *self)
{
    int row, col;
    fnv_image_list_get_warm_cell(self->image_list, &row, &col);
    fnv_warm_matrix_select(self->warm_matrix, row, col);
}

static void on_warm_cell(FnvWarmMatrix *m, int row, int col, FnvWindow *self)
{
    fnv_image_list_set_warm_cell(self->image_list, row, col);
}

void fnv_window_set_warm_cell(FnvWindow *self, int row, int col)
{
    self->warm_row = row, self->warm_col = col;
    if (self->dataset && fnv_warm_matrix_get_warm(self->warm_matrix)) {
        fnv_image_list_set_warm_cell(self->image_list, row, col);
        self->warm_row = self->warm_col = -1;
    }
}

/* The presentation mode's keys (issue 17.5): left and right step through the
 * images listed, up and down through the classes ("each model's top class",
 * then each class in turn, wrapping), Escape leaves. Outside the mode every
 * key goes on to the focused widget. */
static gboolean on_present_key(GtkEventControllerKey *c, guint key, guint code,
                               GdkModifierType mods, FnvWindow *self)
{
    if (!self->present || (mods & (GDK_CONTROL_MASK | GDK_ALT_MASK))) return FALSE;
    int rows = (int)g_list_model_get_n_items(G_LIST_MODEL(self->class_model)); /* K + 1 */
    switch (key) {
    case GDK_KEY_Left:
    case GDK_KEY_Page_Up:
        fnv_image_list_step(self->image_list, -1);
        return TRUE;
    case GDK_KEY_Right:
    case GDK_KEY_Page_Down:
    case GDK_KEY_space:
        fnv_image_list_step(self->image_list, 1);
        return TRUE;
    case GDK_KEY_Up:
    case GDK_KEY_Down:
        if (rows > 1) {
            int row = (self->cls + 1 + (key == GDK_KEY_Down ? 1 : rows - 1)) % rows;
            g_object_set(self, "class-index", row - 1, NULL);
        }
        return TRUE;
    case GDK_KEY_Escape:
        g_object_set(self, "present", FALSE, NULL);
        return TRUE;
    default:
        return FALSE;
    }
}

/* A class right-clicked: the confusing pair with it as B (issue 17.1). */
static void on_pair_activated(GtkWidget *w, int cls, FnvWindow *self)
{
    g_object_set(self, "pair-class", cls, NULL);
}

static void on_pair_close(FnvPairView *v, FnvWindow *self)
{
    g_object_set(self, "pair-class", -2, NULL);
}

static void on_pair_toggled(GtkToggleButton *b, FnvWindow *self)
{
    if (self->updating) return;
    gboolean on = gtk_toggle_button_get_active(b);
    if (on != (self->pair_class >= -1)) g_object_set(self, "pair-class", on ? -1 : -2, NULL);
}

void fnv_window_show_views(FnvWindow *self, const FnvJob *j, int k, const char *const *names,
                           const float *label)
{
    const char *path;
    int index;
    char *title = fnv_image_list_get_current(self->image_list, &path, &index)
                      ? fnv_window_image_title(self, path, index, j->true_class)
                      : g_strdup("");
    if (j->epoch) { /* as the window's title says it */
        char *t = g_strdup_printf("%s · epoch %d", title, j->epoch);
        g_free(title);
        title = t;
    }
    fnv_present_view_show(self->present_view, j, k, names, title, label);
    g_free(title);
    if (self->pair_class >= -1) fnv_pair_view_show(self->pair_view, j, k, names);
}

void fnv_window_style_views(FnvWindow *self)
{
    fnv_pair_view_set_style(self->pair_view, self->colormap, self->opacity, self->shared_scale);
    fnv_present_view_set_style(self->present_view, self->colormap, self->opacity,
                               self->shared_scale);
}

void fnv_window_clear_views(FnvWindow *self, const char *why)
{
    fnv_pair_view_clear(self->pair_view, why);
    fnv_present_view_clear(self->present_view);
}

void fnv_window_apply_present(FnvWindow *self)
{
    gtk_stack_set_visible_child_name(self->stack, self->present ? "present" : "browse");
    gtk_widget_set_visible(self->toolbar, !self->present);
}

void fnv_window_apply_pair(FnvWindow *self)
{
    gtk_widget_set_visible(GTK_WIDGET(self->pair_view), self->pair_class >= -1);
    self->updating++;
    gtk_toggle_button_set_active(self->pair_toggle, self->pair_class >= -1);
    self->updating--;
    const char *path;
    int index;
    gboolean coming = (self->info[0].path || self->info[1].path) &&
                      fnv_image_list_get_current(self->image_list, &path, &index);
    if (self->pair_class >= -1)
        fnv_pair_view_clear(self->pair_view,
                            coming ? "Working…" : "Open a run folder and an image to see the pair");
    fnv_window_refresh_image(self);
}

/* "describe: NAME x,y WxH, all shown" for a view, in window coordinates; all
 * shown: inside the scrolled view's visible part as it is scrolled now. */
static void describe_widget(FnvWindow *self, GString *out, const char *name, GtkWidget *w,
                            const graphene_rect_t *port)
{
    graphene_rect_t r;
    if (!gtk_widget_get_visible(w) || !gtk_widget_compute_bounds(w, GTK_WIDGET(self), &r)) {
        g_string_append_printf(out, "describe: %s hidden\n", name);
        return;
    }
    gboolean all = r.origin.x >= port->origin.x - 0.5 && r.origin.y >= port->origin.y - 0.5 &&
                   r.origin.x + r.size.width <= port->origin.x + port->size.width + 0.5 &&
                   r.origin.y + r.size.height <= port->origin.y + port->size.height + 0.5;
    g_string_append_printf(out, "describe: %s %.0f,%.0f %.0fx%.0f, %s\n", name, r.origin.x,
                           r.origin.y, r.size.width, r.size.height, all ? "all shown" : "cut off");
}

char *fnv_window_describe(FnvWindow *self)
{
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "describe: window %dx%d\n", gtk_widget_get_width(GTK_WIDGET(self)),
                           gtk_widget_get_height(GTK_WIDGET(self)));
    g_string_append_printf(out, "describe: image %s\n", gtk_label_get_text(self->image_title));
    FnvModelPanel *panels[2] = {self->panel_base, self->panel_focus};
    for (int s = 0; s < 2; s++)
        g_string_append_printf(out, "describe: panel %s: %s\n", s ? "FocusNet" : "Baseline",
                               fnv_model_panel_get_caption(panels[s]));
    int a, b;
    fnv_pair_view_get_pair(self->pair_view, &a, &b);
    if (gtk_widget_get_visible(GTK_WIDGET(self->pair_view)))
        g_string_append_printf(out, "describe: pair %d %d: %s\n", a, b,
                               fnv_pair_view_get_heading(self->pair_view));
    if (self->present) {
        char *p = fnv_present_view_describe(self->present_view);
        g_string_append(out, p);
        g_free(p);
        graphene_rect_t win = GRAPHENE_RECT_INIT(0, 0, gtk_widget_get_width(GTK_WIDGET(self)),
                                                 gtk_widget_get_height(GTK_WIDGET(self)));
        describe_widget(self, out, "present-view", GTK_WIDGET(self->present_view), &win);
        return g_string_free(out, FALSE);
    }
    GtkWidget *scroller = gtk_widget_get_ancestor(self->view_box, GTK_TYPE_SCROLLED_WINDOW);
    graphene_rect_t port = GRAPHENE_RECT_INIT(0, 0, 0, 0);
    if (scroller && gtk_widget_compute_bounds(scroller, GTK_WIDGET(self), &port))
        g_string_append_printf(out, "describe: view %.0f,%.0f %.0fx%.0f\n", port.origin.x,
                               port.origin.y, port.size.width, port.size.height);
    describe_widget(self, out, "confusion-baseline", GTK_WIDGET(self->conf_base), &port);
    describe_widget(self, out, "confusion-focusnet", GTK_WIDGET(self->conf_focus), &port);
    describe_widget(self, out, "pair-view", GTK_WIDGET(self->pair_view), &port);
    describe_widget(self, out, "warm-matrix", GTK_WIDGET(self->warm_matrix), &port);
    int k;
    const int64_t *counts = fnv_warm_matrix_get_counts(self->warm_matrix, &k);
    for (int i = 0; counts && i < k; i++) {
        g_string_append_printf(out, "describe: warm row %d:", i);
        for (int j = 0; j < k; j++)
            g_string_append_printf(out, " %lld", (long long)counts[(size_t)i * k + j]);
        g_string_append_c(out, '\n');
    }
    g_string_append_printf(out, "describe: list %s\n",
                           fnv_image_list_get_summary(self->image_list));
    return g_string_free(out, FALSE);
}

void fnv_window_init_views(FnvWindow *self)
{
    self->pair_class = -2;
    self->warm_row = self->warm_col = -1;
}

void fnv_window_class_bind_views(GtkWidgetClass *wc)
{
    g_type_ensure(FNV_TYPE_PAIR_VIEW);
    g_type_ensure(FNV_TYPE_WARM_MATRIX);
    g_type_ensure(FNV_TYPE_PRESENT_VIEW);
#define CHILD(name) gtk_widget_class_bind_template_child(wc, FnvWindow, name)
    CHILD(pair_view);
    CHILD(pair_toggle);
    CHILD(warm_matrix);
    CHILD(present_view);
    CHILD(present_toggle);
    CHILD(stack);
    CHILD(toolbar);
    CHILD(present_keys);
#undef CHILD
    /* win.present toggles the presentation mode (F5, application.c). */
    gtk_widget_class_install_property_action(wc, "win.present", "present");
    gtk_widget_class_bind_template_callback(wc, on_pair_activated);
    gtk_widget_class_bind_template_callback(wc, on_pair_close);
    gtk_widget_class_bind_template_callback(wc, on_pair_toggled);
    gtk_widget_class_bind_template_callback(wc, on_warm_cell);
    gtk_widget_class_bind_template_callback(wc, on_present_key);
}
