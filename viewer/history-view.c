/* The runs' training history: see history-view.h. */
#include "history-view.h"

#include "draw.h"

struct _FnvHistoryView {
    GtkWidget parent;
    GtkDrawingArea *plot;
    GtkLabel *note;
    fn_run_history hist[FNV_SLOTS];
    char *label[FNV_SLOTS]; /* NULL: no model in the slot */
    int mark;
};

G_DEFINE_FINAL_TYPE(FnvHistoryView, fnv_history_view, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_MARK_EPOCH, N_PROPS };
static GParamSpec *props[N_PROPS];

static const char *run_name[FNV_SLOTS] = {"baseline", "FocusNet"};

static void draw(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
    FnvHistoryView *self = data;
    fnv_curve c[FNV_SLOTS];
    int n = 0;
    /* Both slots while the FocusNet has a model, so that each keeps its colour. */
    int slots = self->label[FNV_FOCUSNET] ? FNV_SLOTS : 1;
    for (int s = 0; s < slots; s++)
        c[n++] =
            (fnv_curve){self->label[s] ? self->label[s] : "baseline: none open", self->hist[s].n,
                        self->hist[s].epoch, self->hist[s].train_loss, self->hist[s].test_top1};
    fnv_draw_curves_marked(cr, w, h, c, n, self->mark);
}

int fnv_history_view_set_runs(FnvHistoryView *self, const char *const run_dir[FNV_SLOTS])
{
    int shown = 0;
    GString *note = g_string_new(NULL);
    for (int s = 0; s < FNV_SLOTS; s++) {
        fn_run_history_free(&self->hist[s]);
        g_clear_pointer(&self->label[s], g_free);
        if (!run_dir[s]) continue;
        if (fn_run_history_read(run_dir[s], &self->hist[s]) == FN_OK) {
            self->label[s] = g_strdup(run_name[s]);
            shown++;
        } else {
            self->label[s] = g_strdup_printf("%s (no history)", run_name[s]);
            g_string_append_printf(note, "%s%s: %s", note->len ? "\n" : "", run_name[s],
                                   fn_last_error());
        }
    }
    gtk_label_set_text(self->note, note->str);
    gtk_widget_set_visible(GTK_WIDGET(self->note), note->len > 0);
    g_string_free(note, TRUE);
    gtk_widget_set_visible(GTK_WIDGET(self), shown > 0);
    gtk_widget_queue_draw(GTK_WIDGET(self->plot));
    return shown;
}

int fnv_history_view_epochs(FnvHistoryView *self, int slot)
{
    return self->hist[slot].n;
}

static void set_property(GObject *o, guint id, const GValue *v, GParamSpec *p)
{
    FnvHistoryView *self = FNV_HISTORY_VIEW(o);
    if (id != PROP_MARK_EPOCH) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
        return;
    }
    int mark = g_value_get_int(v);
    if (mark == self->mark) return;
    self->mark = mark;
    gtk_widget_queue_draw(GTK_WIDGET(self->plot));
    g_object_notify_by_pspec(o, p);
}

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    if (id == PROP_MARK_EPOCH)
        g_value_set_int(v, FNV_HISTORY_VIEW(o)->mark);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
}

static void fnv_history_view_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_HISTORY_VIEW);
    GtkWidget *child; /* the heading without an id too */
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_history_view_parent_class)->dispose(o);
}

static void fnv_history_view_finalize(GObject *o)
{
    FnvHistoryView *self = FNV_HISTORY_VIEW(o);
    for (int s = 0; s < FNV_SLOTS; s++) {
        fn_run_history_free(&self->hist[s]);
        g_free(self->label[s]);
    }
    G_OBJECT_CLASS(fnv_history_view_parent_class)->finalize(o);
}

static void fnv_history_view_class_init(FnvHistoryViewClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_history_view_dispose;
    oc->finalize = fnv_history_view_finalize;
    oc->set_property = set_property;
    oc->get_property = get_property;
    props[PROP_MARK_EPOCH] =
        g_param_spec_int("mark-epoch", NULL, "The epoch marked, 0: none", 0, G_MAXINT, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/history-view.ui");
    gtk_widget_class_bind_template_child(wc, FnvHistoryView, plot);
    gtk_widget_class_bind_template_child(wc, FnvHistoryView, note);
}

static void fnv_history_view_init(FnvHistoryView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_drawing_area_set_draw_func(self->plot, draw, self, NULL);
}
