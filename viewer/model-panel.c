/* One model's panel: see model-panel.h. */
#include "model-panel.h"

#include "class-plot.h"

#define TOP_K 5

struct _FnvModelPanel {
    GtkWidget parent;
    GtkLabel *title, *caption;
    FnvCamView *cam;
    FnvBarChart *bars;
    char *heading;     /* "Baseline" */
    char *placeholder; /* what the image area says with no model */
};

G_DEFINE_FINAL_TYPE(FnvModelPanel, fnv_model_panel, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_HEADING, PROP_PLACEHOLDER, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { CLASS_ACTIVATED, PAIR_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

void fnv_model_panel_set_model(FnvModelPanel *self, const FnvModelInfo *in)
{
    const char *heading = self->heading ? self->heading : "";
    if (!in || !in->path) {
        char *t = g_strdup_printf("%s: none open", heading);
        gtk_label_set_text(self->title, t);
        gtk_widget_set_tooltip_text(GTK_WIDGET(self->title), NULL);
        g_free(t);
        return;
    }
    /* "baseline/best.safetensors" in the title, all of it in the tooltip */
    char *dir = g_path_get_dirname(in->path), *parent = g_path_get_basename(dir);
    char *file = g_path_get_basename(in->path);
    char *t = g_strdup_printf("%s: %s (%s loss) · %s/%s", heading, in->arch,
                              in->loss && *in->loss ? in->loss : "unknown", parent, file);
    gtk_label_set_text(self->title, t);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->title), in->path);
    g_free(t);
    g_free(dir);
    g_free(parent);
    g_free(file);
}

void fnv_model_panel_clear(FnvModelPanel *self, const char *text)
{
    fnv_cam_view_clear(self->cam, text);
    fnv_bar_chart_set(self->bars, NULL, 0, NULL, 0, -1, -1);
    gtk_label_set_text(self->caption, "");
}

void fnv_model_panel_clear_placeholder(FnvModelPanel *self)
{
    fnv_model_panel_clear(self, self->placeholder);
}

void fnv_model_panel_show(FnvModelPanel *self, const FnvJob *j, int s, int k,
                          const char *const *names)
{
    if (!j->pixels[s]) {
        fnv_model_panel_clear_placeholder(self);
        return;
    }
    fnv_cam_view_set_image(self->cam, j->pixels[s], j->c[s], j->h[s], j->w[s], j->heat[s]);
    float *prob = g_new(float, k);
    fn_softmax(j->logits[s], k, prob);
    fnv_bar_chart_set(self->bars, prob, k, names, TOP_K, j->true_class, j->mapped_class[s]);
    int top = 0;
    for (int c = 1; c < k; c++)
        if (prob[c] > prob[top]) top = c;
    char *text =
        g_strdup_printf("predicts %s (%.1f%%) · %s of %s", names[top], 100.0 * prob[top],
                        j->used_grad_cam[s] ? "Grad-CAM" : "CAM", names[j->mapped_class[s]]);
    gtk_label_set_text(self->caption, text);
    g_free(text);
    g_free(prob);
}

const char *fnv_model_panel_get_caption(FnvModelPanel *self)
{
    return gtk_label_get_text(self->caption);
}

FnvCamView *fnv_model_panel_get_cam_view(FnvModelPanel *self)
{
    return self->cam;
}

static void on_bar_activated(FnvBarChart *bars, int cls, FnvModelPanel *self)
{
    g_signal_emit(self, signals[CLASS_ACTIVATED], 0, cls);
}

static void on_bar_pair(FnvBarChart *bars, int cls, FnvModelPanel *self)
{
    g_signal_emit(self, signals[PAIR_ACTIVATED], 0, cls);
}

static void set_property(GObject *o, guint id, const GValue *v, GParamSpec *p)
{
    FnvModelPanel *self = FNV_MODEL_PANEL(o);
    switch (id) {
    case PROP_HEADING:
        g_free(self->heading);
        self->heading = g_value_dup_string(v);
        fnv_model_panel_set_model(self, NULL);
        break;
    case PROP_PLACEHOLDER:
        g_free(self->placeholder);
        self->placeholder = g_value_dup_string(v);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
    }
}

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    FnvModelPanel *self = FNV_MODEL_PANEL(o);
    switch (id) {
    case PROP_HEADING:
        g_value_set_string(v, self->heading);
        break;
    case PROP_PLACEHOLDER:
        g_value_set_string(v, self->placeholder);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
    }
}

static void fnv_model_panel_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_MODEL_PANEL);
    /* The children without an id too: a GtkWidget parent unparents its own. */
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_model_panel_parent_class)->dispose(o);
}

static void fnv_model_panel_finalize(GObject *o)
{
    FnvModelPanel *self = FNV_MODEL_PANEL(o);
    g_free(self->heading);
    g_free(self->placeholder);
    G_OBJECT_CLASS(fnv_model_panel_parent_class)->finalize(o);
}

static void fnv_model_panel_class_init(FnvModelPanelClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_model_panel_dispose;
    oc->finalize = fnv_model_panel_finalize;
    oc->set_property = set_property;
    oc->get_property = get_property;
    props[PROP_HEADING] = g_param_spec_string("heading", NULL, "The model's role: Baseline, ...",
                                              NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    props[PROP_PLACEHOLDER] =
        g_param_spec_string("placeholder", NULL, "What the image area says with no model", NULL,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);
    signals[CLASS_ACTIVATED] =
        g_signal_new("class-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT);
    signals[PAIR_ACTIVATED] =
        g_signal_new("pair-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT);
    g_type_ensure(FNV_TYPE_CAM_VIEW);
    g_type_ensure(FNV_TYPE_BAR_CHART);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/model-panel.ui");
    gtk_widget_class_bind_template_child(wc, FnvModelPanel, title);
    gtk_widget_class_bind_template_child(wc, FnvModelPanel, caption);
    gtk_widget_class_bind_template_child(wc, FnvModelPanel, cam);
    gtk_widget_class_bind_template_child(wc, FnvModelPanel, bars);
    gtk_widget_class_bind_template_callback(wc, on_bar_activated);
    gtk_widget_class_bind_template_callback(wc, on_bar_pair);
}

static void fnv_model_panel_init(FnvModelPanel *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
