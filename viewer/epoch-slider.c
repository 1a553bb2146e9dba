/* The epoch slider: see epoch-slider.h. */
#include <math.h>

#include "epoch-slider.h"
#include "epochs.h"

struct _FnvEpochSlider {
    GtkWidget parent;
    GtkScale *scale;
    GtkAdjustment *adjustment;
    GtkLabel *status;
    char *dir[FNV_SLOTS];
    int *kept[FNV_SLOTS], nkept[FNV_SLOTS];
    int *all, nall; /* the epochs either run kept, ascending: the scale's positions */
    int epoch;      /* shown; 0: as opened */
    int want;       /* asked for (by the scale or the property); kept over rescans */
    int updating;   /* set while the slider moves its own scale */
};

G_DEFINE_FINAL_TYPE(FnvEpochSlider, fnv_epoch_slider, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_EPOCH, N_PROPS };
static GParamSpec *props[N_PROPS];

static const char *run_name[FNV_SLOTS] = {"baseline", "FocusNet"};

static int has(const int *e, int n, int epoch)
{
    for (int i = 0; i < n; i++)
        if (e[i] == epoch) return 1;
    return 0;
}

/* "none", "5", "2 to 20 every 2", "1 to 10", or the list "1, 2, 5". */
static char *summarize(const int *e, int n)
{
    if (n == 0) return g_strdup("none");
    if (n == 1) return g_strdup_printf("%d", e[0]);
    int step = e[1] - e[0], even = 1;
    for (int i = 2; i < n; i++)
        even &= e[i] - e[i - 1] == step;
    if (even && n > 2)
        return step == 1 ? g_strdup_printf("%d to %d", e[0], e[n - 1])
                         : g_strdup_printf("%d to %d every %d", e[0], e[n - 1], step);
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n; i++)
        g_string_append_printf(s, "%s%d", i ? ", " : "", e[i]);
    return g_string_free(s, FALSE);
}

static void update_status(FnvEpochSlider *self)
{
    char *text;
    if (self->nall == 0) {
        text = g_strdup("");
    } else if (self->epoch == 0) {
        char *k[FNV_SLOTS];
        for (int s = 0; s < FNV_SLOTS; s++)
            k[s] = summarize(self->kept[s], self->nkept[s]);
        if (self->dir[0] && self->dir[1])
            text = g_strdup_printf("the checkpoints as opened · kept: baseline %s, FocusNet %s",
                                   k[0], k[1]);
        else
            text = g_strdup_printf("the checkpoint as opened · kept: %s", k[self->dir[0] ? 0 : 1]);
        for (int s = 0; s < FNV_SLOTS; s++)
            g_free(k[s]);
    } else {
        int both = 1, only = -1;
        for (int s = 0; s < FNV_SLOTS; s++) {
            if (!self->dir[s]) continue;
            if (has(self->kept[s], self->nkept[s], self->epoch))
                only = only < 0 ? s : only;
            else
                both = 0;
        }
        int last = self->all[self->nall - 1];
        if (both || !self->dir[0] || !self->dir[1]) {
            text = g_strdup_printf("epoch %d of %d%s", self->epoch, last,
                                   self->dir[0] && self->dir[1] ? ": both runs" : "");
        } else {
            char *k = summarize(self->kept[1 - only], self->nkept[1 - only]);
            text = g_strdup_printf("epoch %d of %d: the %s only (the %s run kept %s)", self->epoch,
                                   last, run_name[only], run_name[1 - only], k);
            g_free(k);
        }
    }
    gtk_label_set_text(self->status, text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->status), text);
    g_free(text);
}

static int position_of(FnvEpochSlider *self, int epoch)
{
    for (int i = 0; i < self->nall; i++)
        if (self->all[i] == epoch) return i;
    return self->nall; /* as opened */
}

/* Shows epoch (0 or one of all), moving the scale there. */
static void show_epoch(FnvEpochSlider *self, int epoch)
{
    self->updating++;
    gtk_adjustment_set_value(self->adjustment, position_of(self, epoch));
    self->updating--;
    gboolean changed = epoch != self->epoch;
    self->epoch = epoch;
    update_status(self);
    if (changed) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_EPOCH]);
}

static void on_value_changed(GtkRange *range, FnvEpochSlider *self)
{
    if (self->updating) return;
    int pos = (int)lround(gtk_range_get_value(range));
    pos = pos < 0 ? 0 : pos > self->nall ? self->nall : pos;
    self->want = pos < self->nall ? self->all[pos] : 0;
    show_epoch(self, self->want);
}

void fnv_epoch_slider_set_runs(FnvEpochSlider *self, const char *const run_dir[FNV_SLOTS])
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(int));
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_clear_pointer(&self->dir[s], g_free);
        g_clear_pointer(&self->kept[s], g_free);
        self->dir[s] = g_strdup(run_dir[s]);
        self->kept[s] = fnv_kept_epochs(run_dir[s], &self->nkept[s]);
        for (int i = 0; i < self->nkept[s]; i++)
            g_array_append_val(all, self->kept[s][i]);
    }
    /* The union, ascending, each epoch once. */
    g_free(self->all);
    self->all = NULL;
    self->nall = 0;
    int *e = (int *)all->data;
    for (guint i = 0; i < all->len; i++) /* insertion: sorted, each once */
        if (!has(self->all, self->nall, e[i])) {
            self->all = g_renew(int, self->all, self->nall + 1);
            int j = self->nall++;
            while (j > 0 && self->all[j - 1] > e[i]) {
                self->all[j] = self->all[j - 1];
                j--;
            }
            self->all[j] = e[i];
        }
    g_array_free(all, TRUE);

    self->updating++;
    gtk_scale_clear_marks(self->scale);
    gtk_adjustment_set_upper(self->adjustment, self->nall);
    /* Numbered marks while they fit; past 16 epochs every few. */
    int every = self->nall <= 16 ? 1 : (self->nall + 15) / 16;
    for (int i = 0; i < self->nall; i++) {
        char n[16];
        g_snprintf(n, sizeof n, "%d", self->all[i]);
        gtk_scale_add_mark(self->scale, i, GTK_POS_BOTTOM,
                           i % every == 0 || i == self->nall - 1 ? n : NULL);
    }
    if (self->nall) gtk_scale_add_mark(self->scale, self->nall, GTK_POS_BOTTOM, "opened");
    self->updating--;
    gtk_widget_set_visible(GTK_WIDGET(self), self->nall > 0);
    show_epoch(self, has(self->all, self->nall, self->want) ? self->want : 0);
}

int fnv_epoch_slider_get_epoch(FnvEpochSlider *self)
{
    return self->epoch;
}

char *fnv_epoch_slider_checkpoint(FnvEpochSlider *self, int slot, gboolean *kept)
{
    *kept = TRUE;
    if (self->epoch == 0 || !self->dir[slot]) return NULL;
    if (!has(self->kept[slot], self->nkept[slot], self->epoch)) {
        *kept = FALSE;
        return NULL;
    }
    return fnv_epoch_checkpoint(self->dir[slot], self->epoch);
}

char *fnv_epoch_slider_missing(FnvEpochSlider *self, int slot)
{
    char *k = summarize(self->kept[slot], self->nkept[slot]);
    char *t = g_strdup_printf("The %s run kept no checkpoint of epoch %d (it kept %s)",
                              run_name[slot], self->epoch, k);
    g_free(k);
    return t;
}

const int *fnv_epoch_slider_kept(FnvEpochSlider *self, int slot, int *n)
{
    *n = self->nkept[slot];
    return self->kept[slot];
}

static void set_property(GObject *o, guint id, const GValue *v, GParamSpec *p)
{
    FnvEpochSlider *self = FNV_EPOCH_SLIDER(o);
    if (id != PROP_EPOCH) {
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
        return;
    }
    self->want = g_value_get_int(v);
    show_epoch(self, has(self->all, self->nall, self->want) ? self->want : 0);
}

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    if (id == PROP_EPOCH)
        g_value_set_int(v, FNV_EPOCH_SLIDER(o)->epoch);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
}

static void fnv_epoch_slider_dispose(GObject *o)
{
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_EPOCH_SLIDER);
    GtkWidget *child; /* the label without an id too */
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_epoch_slider_parent_class)->dispose(o);
}

static void fnv_epoch_slider_finalize(GObject *o)
{
    FnvEpochSlider *self = FNV_EPOCH_SLIDER(o);
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_free(self->dir[s]);
        g_free(self->kept[s]);
    }
    g_free(self->all);
    G_OBJECT_CLASS(fnv_epoch_slider_parent_class)->finalize(o);
}

static void fnv_epoch_slider_class_init(FnvEpochSliderClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_epoch_slider_dispose;
    oc->finalize = fnv_epoch_slider_finalize;
    oc->set_property = set_property;
    oc->get_property = get_property;
    props[PROP_EPOCH] = g_param_spec_int(
        "epoch", NULL, "The epoch shown, 0: the checkpoints as opened", 0, G_MAXINT, 0,
        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/epoch-slider.ui");
    gtk_widget_class_bind_template_child(wc, FnvEpochSlider, scale);
    gtk_widget_class_bind_template_child(wc, FnvEpochSlider, adjustment);
    gtk_widget_class_bind_template_child(wc, FnvEpochSlider, status);
    gtk_widget_class_bind_template_callback(wc, on_value_changed);
}

static void fnv_epoch_slider_init(FnvEpochSlider *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
