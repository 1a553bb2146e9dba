/* The multi-warm matrix: see warm-matrix.h. */
#include "warm-matrix.h"

#include "class-plot.h"
#include "draw.h"

struct _FnvWarmMatrix {
    GtkWidget parent;
    GtkLabel *title;
    FnvConfusionView *view;
    uint8_t *warm;   /* (n, K) */
    int64_t *counts; /* (K, K) */
    char **names;    /* (K) */
    int k;
};

G_DEFINE_FINAL_TYPE(FnvWarmMatrix, fnv_warm_matrix, GTK_TYPE_WIDGET)

enum { CELL_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void empty(FnvWarmMatrix *self)
{
    g_clear_pointer(&self->warm, g_free);
    g_clear_pointer(&self->counts, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    self->k = 0;
    fnv_confusion_view_set(self->view, NULL, 0, NULL, -1, -1);
    gtk_label_set_text(self->title, "");
}

gboolean fnv_warm_matrix_set(FnvWarmMatrix *self, const FnvJob *d, int rule, GError **error)
{
    empty(self);
    if (!d || !d->zs[FNV_BASELINE] || d->n < 1) return TRUE;
    int k = d->k;
    self->warm = g_new(uint8_t, (size_t)d->n * k);
    self->counts = g_new(int64_t, (size_t)k * k);
    if (fn_multiwarm_counts(d->zs[FNV_BASELINE], d->labels, d->n, k,
                            rule ? FN_MULTIWARM_SOFTMAX : FN_MULTIWARM_LOGIT, 2.0f, self->counts,
                            self->warm) != FN_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", fn_last_error());
        empty(self);
        return FALSE;
    }
    self->k = k;
    self->names = g_new0(char *, k + 1);
    for (int i = 0; i < k; i++)
        self->names[i] = g_strdup(d->class_names[i]);
    /* A cell's share is of the row's images: the diagonal holds them all. */
    int64_t *images = g_new(int64_t, k);
    double extra = 0;
    for (int i = 0; i < k; i++) {
        images[i] = self->counts[(size_t)i * k + i];
        for (int j = 0; j < k; j++)
            if (j != i) extra += (double)self->counts[(size_t)i * k + j];
    }
    fnv_confusion_view_set(self->view, self->counts, k, (const char *const *)d->class_names, -1,
                           -1);
    fnv_confusion_view_set_shading(self->view, images, (const double[3]){FNV_WARM_RGB});
    g_free(images);
    char *t =
        g_strdup_printf("Baseline's multi-warm labels: +%.2f classes per image", extra / d->n);
    gtk_label_set_text(self->title, t);
    g_free(t);
    return TRUE;
}

void fnv_warm_matrix_select(FnvWarmMatrix *self, int row, int col)
{
    if (!self->counts) return;
    /* fnv_confusion_view_set keeps the shading it has. */
    fnv_confusion_view_set(self->view, self->counts, self->k, (const char *const *)self->names, row,
                           col);
}

const uint8_t *fnv_warm_matrix_get_warm(FnvWarmMatrix *self)
{
    return self->warm;
}

const int64_t *fnv_warm_matrix_get_counts(FnvWarmMatrix *self, int *k)
{
    *k = self->k;
    return self->counts;
}

static void on_cell(FnvConfusionView *v, int row, int col, FnvWarmMatrix *self)
{
    g_signal_emit(self, signals[CELL_ACTIVATED], 0, row, col);
}

static void fnv_warm_matrix_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_WARM_MATRIX);
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_warm_matrix_parent_class)->dispose(o);
}

static void fnv_warm_matrix_finalize(GObject *o)
{
    FnvWarmMatrix *self = FNV_WARM_MATRIX(o);
    g_free(self->warm);
    g_free(self->counts);
    g_strfreev(self->names);
    G_OBJECT_CLASS(fnv_warm_matrix_parent_class)->finalize(o);
}

static void fnv_warm_matrix_class_init(FnvWarmMatrixClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_warm_matrix_dispose;
    oc->finalize = fnv_warm_matrix_finalize;
    signals[CELL_ACTIVATED] =
        g_signal_new("cell-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
    g_type_ensure(FNV_TYPE_CONFUSION_VIEW);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/warm-matrix.ui");
    gtk_widget_class_bind_template_child(wc, FnvWarmMatrix, title);
    gtk_widget_class_bind_template_child(wc, FnvWarmMatrix, view);
    gtk_widget_class_bind_template_callback(wc, on_cell);
}

static void fnv_warm_matrix_init(FnvWarmMatrix *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
