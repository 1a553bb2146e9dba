/* The image list and its filter: see image-list.h. Rows are the opened files
 * first, then the dataset images the filter keeps; items maps each row back. */
#include <string.h>

#include "image-list.h"

typedef struct {
    int file;  /* index into files, or -1 */
    int index; /* dataset image when file < 0 */
} Item;

struct _FnvImageList {
    GtkWidget parent;
    GtkListView *list_view;
    GtkSingleSelection *selection;
    GtkStringList *rows;
    GtkEntry *data_entry;
    GtkDropDown *split_dropdown, *filter_dropdown;
    GtkLabel *summary;

    GPtrArray *files;   /* image paths opened */
    GArray *items;      /* Item: what each row shows */
    const FnvJob *data; /* the split's results, borrowed */
    int current;        /* the row shown, -1 */
    FnvFilter filter;
    int cell_slot, cell_row, cell_col;
    const uint8_t *warm; /* (n, K), borrowed: FNV_FILTER_WARM's membership */
    int warm_row, warm_col;
    int updating;  /* set while the list changes its own controls */
    int scroll_to; /* the row to bring into view */
    guint scroll_source;
};

G_DEFINE_FINAL_TYPE(FnvImageList, fnv_image_list, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_FILTER, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { IMAGE_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *slot_name[FNV_SLOTS] = {"Baseline", "FocusNet"};

static gboolean item_matches(FnvImageList *self, int i)
{
    const FnvJob *d = self->data;
    int y = d->labels[i];
    const int *pb = d->pred[FNV_BASELINE], *pf = d->pred[FNV_FOCUSNET];
    switch (self->filter) {
    case FNV_FILTER_FIXED:
        return pb && pf && pb[i] != y && pf[i] == y;
    case FNV_FILTER_BROKEN:
        return pb && pf && pb[i] == y && pf[i] != y;
    case FNV_FILTER_BOTH_WRONG:
        return pb && pf && pb[i] != y && pf[i] != y;
    case FNV_FILTER_CELL:
        return d->pred[self->cell_slot] && y == self->cell_row &&
               d->pred[self->cell_slot][i] == self->cell_col;
    case FNV_FILTER_WARM:
        return self->warm && y == self->warm_row && self->warm[(size_t)i * d->k + self->warm_col];
    default:
        return TRUE;
    }
}

static char *dataset_row(FnvImageList *self, int i)
{
    const FnvJob *d = self->data;
    char **names = d->class_names;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "#%d %s", i, names[d->labels[i]]);
    for (int slot = 0; slot < FNV_SLOTS; slot++)
        if (d->pred[slot])
            g_string_append_printf(s, " · %s %s %s", slot == 0 ? "base" : "focus",
                                   d->pred[slot][i] == d->labels[i] ? "✓" : "✗",
                                   names[d->pred[slot][i]]);
    return g_string_free(s, FALSE);
}

/* "N images listed ... of M. Baseline 91.2%. ..." */
static void update_summary(FnvImageList *self, int shown)
{
    const FnvJob *d = self->data;
    if (!d) {
        gtk_label_set_text(self->summary, "");
        return;
    }
    static const char *what[] = {"",
                                 " where the baseline is wrong and FocusNet right",
                                 " where the baseline is right and FocusNet wrong",
                                 " where both are wrong",
                                 " in the chosen cell",
                                 " in the chosen multi-warm cell"};
    int n = d->n, fixed = 0, broken = 0, right[FNV_SLOTS] = {0, 0};
    for (int i = 0; i < n; i++) {
        int y = d->labels[i];
        for (int s = 0; s < FNV_SLOTS; s++)
            if (d->pred[s]) right[s] += d->pred[s][i] == y;
        if (d->pred[0] && d->pred[1]) {
            fixed += d->pred[0][i] != y && d->pred[1][i] == y;
            broken += d->pred[0][i] == y && d->pred[1][i] != y;
        }
    }
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%d images listed%s of %d. ", shown, what[self->filter], n);
    for (int s = 0; s < FNV_SLOTS; s++)
        if (d->pred[s])
            g_string_append_printf(t, "%s %.1f%%. ", slot_name[s], 100.0 * right[s] / n);
    if (d->pred[0] && d->pred[1])
        g_string_append_printf(t, "FocusNet fixes %d, breaks %d.", fixed, broken);
    gtk_label_set_text(self->summary, t->str);
    g_string_free(t, TRUE);
}

/* Rebuilds the rows: the opened files, then the dataset images the filter keeps. */
static void rebuild(FnvImageList *self)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
    g_array_set_size(self->items, 0);
    for (guint f = 0; f < self->files->len; f++) {
        Item it = {(int)f, -1};
        g_array_append_val(self->items, it);
        g_ptr_array_add(rows, g_path_get_basename(g_ptr_array_index(self->files, f)));
    }
    int shown = 0;
    for (int i = 0; self->data && i < self->data->n; i++) {
        if (!item_matches(self, i)) continue;
        Item it = {-1, i};
        g_array_append_val(self->items, it);
        g_ptr_array_add(rows, dataset_row(self, i));
        shown++;
    }
    g_ptr_array_add(rows, NULL);
    self->updating++;
    guint old = g_list_model_get_n_items(G_LIST_MODEL(self->rows));
    gtk_string_list_splice(self->rows, 0, old, (const char *const *)rows->pdata);
    self->updating--;
    g_ptr_array_free(rows, TRUE);
    update_summary(self, shown);
}

static gboolean scroll_list(gpointer data)
{
    FnvImageList *self = data;
    self->scroll_source = 0;
    if (self->scroll_to >= 0 && self->scroll_to < (int)self->items->len)
        gtk_widget_activate_action(GTK_WIDGET(self->list_view), "list.scroll-to-item", "u",
                                   (guint)self->scroll_to);
    return G_SOURCE_REMOVE;
}

static void select_row(FnvImageList *self, int row)
{
    self->current = row;
    self->updating++;
    gtk_single_selection_set_selected(self->selection,
                                      row >= 0 ? (guint)row : GTK_INVALID_LIST_POSITION);
    self->updating--;
    if (row >= 0) {
        /* Scrolled once the list has its new rows laid out: GTK 4.8's list
         * view leaves rows unbound when told to scroll right after a splice. */
        self->scroll_to = row;
        if (!self->scroll_source) self->scroll_source = g_idle_add(scroll_list, self);
        g_signal_emit(self, signals[IMAGE_CHANGED], 0);
    }
}

static void on_selected(GtkSingleSelection *sel, GParamSpec *p, FnvImageList *self)
{
    if (self->updating) return;
    guint pos = gtk_single_selection_get_selected(sel);
    if (pos == GTK_INVALID_LIST_POSITION) return;
    self->current = (int)pos;
    g_signal_emit(self, signals[IMAGE_CHANGED], 0);
}

void fnv_image_list_set_filter(FnvImageList *self, FnvFilter filter)
{
    self->filter = filter;
    self->updating++;
    gtk_drop_down_set_selected(self->filter_dropdown, (guint)filter);
    self->updating--;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FILTER]);
    rebuild(self);
    /* The first dataset row, else the first file. */
    if (self->items->len > self->files->len)
        select_row(self, (int)self->files->len);
    else if (self->data)
        select_row(self, self->files->len ? 0 : -1);
}

FnvFilter fnv_image_list_get_filter(FnvImageList *self)
{
    return self->filter;
}

static void on_filter_chosen(GtkDropDown *d, GParamSpec *p, FnvImageList *self)
{
    if (self->updating) return;
    FnvFilter f = (FnvFilter)gtk_drop_down_get_selected(d);
    if (f == FNV_FILTER_CELL && self->cell_slot < 0) f = FNV_FILTER_ALL; /* no cell clicked yet */
    if (f == FNV_FILTER_WARM && !self->warm) f = FNV_FILTER_ALL;
    fnv_image_list_set_filter(self, f);
}

void fnv_image_list_set_cell(FnvImageList *self, int slot, int row, int col)
{
    self->cell_slot = slot;
    self->cell_row = row;
    self->cell_col = col;
    fnv_image_list_set_filter(self, FNV_FILTER_CELL);
}

void fnv_image_list_set_warm(FnvImageList *self, const uint8_t *warm)
{
    self->warm = warm;
    if (self->filter == FNV_FILTER_WARM) /* the rule changed: the same cell, other images */
        fnv_image_list_set_filter(self, warm ? FNV_FILTER_WARM : FNV_FILTER_ALL);
}

void fnv_image_list_set_warm_cell(FnvImageList *self, int row, int col)
{
    if (!self->warm || !self->data) return;
    self->warm_row = row;
    self->warm_col = col;
    fnv_image_list_set_filter(self, FNV_FILTER_WARM);
}

void fnv_image_list_get_warm_cell(FnvImageList *self, int *row, int *col)
{
    gboolean on = self->filter == FNV_FILTER_WARM;
    *row = on ? self->warm_row : -1;
    *col = on ? self->warm_col : -1;
}

const char *fnv_image_list_get_summary(FnvImageList *self)
{
    return gtk_label_get_text(self->summary);
}

gboolean fnv_image_list_step(FnvImageList *self, int delta)
{
    int n = (int)self->items->len, to = self->current + delta;
    if (n == 0) return FALSE;
    if (self->current < 0) to = delta > 0 ? 0 : n - 1;
    if (to < 0 || to >= n || to == self->current) return FALSE;
    select_row(self, to);
    return TRUE;
}

void fnv_image_list_get_cell(FnvImageList *self, int slot, int *row, int *col)
{
    gboolean on = self->filter == FNV_FILTER_CELL && slot == self->cell_slot;
    *row = on ? self->cell_row : -1;
    *col = on ? self->cell_col : -1;
}

void fnv_image_list_add_file(FnvImageList *self, const char *path)
{
    g_ptr_array_add(self->files, g_strdup(path));
    rebuild(self);
    select_row(self, (int)self->files->len - 1);
}

int fnv_image_list_count_files(FnvImageList *self)
{
    return (int)self->files->len;
}

void fnv_image_list_select_file(FnvImageList *self, int i)
{
    if (i >= 0 && i < (int)self->files->len) select_row(self, i);
}

void fnv_image_list_set_dataset(FnvImageList *self, const FnvJob *d, int want_index)
{
    self->warm = NULL; /* it belonged to the split before: set again with fnv_image_list_set_warm */
    if (self->filter == FNV_FILTER_WARM) {
        self->filter = FNV_FILTER_ALL;
        self->updating++;
        gtk_drop_down_set_selected(self->filter_dropdown, FNV_FILTER_ALL);
        self->updating--;
    }
    if (!d) {
        if (!self->data) return;
        gboolean was_dataset_row = self->current >= (int)self->files->len;
        self->data = NULL;
        rebuild(self);
        if (was_dataset_row) self->current = -1;
        self->updating++;
        gtk_single_selection_set_selected(
            self->selection, self->current >= 0 ? (guint)self->current : GTK_INVALID_LIST_POSITION);
        self->updating--;
        return;
    }
    int keep_current = self->current >= 0 && self->current < (int)self->files->len;
    self->data = d;
    if (self->filter == FNV_FILTER_CELL) self->filter = FNV_FILTER_ALL;
    fnv_image_list_set_filter(self, self->filter); /* rebuilds and shows its first image */
    if (want_index >= 0) {
        for (guint r = 0; r < self->items->len; r++)
            if (g_array_index(self->items, Item, r).index == want_index) {
                select_row(self, (int)r);
                break;
            }
    } else if (keep_current) {
        select_row(self, 0);
    }
}

gboolean fnv_image_list_get_current(FnvImageList *self, const char **path, int *index)
{
    if (self->current < 0 || self->current >= (int)self->items->len) return FALSE;
    const Item *it = &g_array_index(self->items, Item, self->current);
    *path = it->file >= 0 ? g_ptr_array_index(self->files, it->file) : NULL;
    *index = it->index;
    return TRUE;
}

const char *fnv_image_list_get_spec(FnvImageList *self)
{
    return gtk_editable_get_text(GTK_EDITABLE(self->data_entry));
}

void fnv_image_list_set_spec(FnvImageList *self, const char *spec)
{
    gtk_editable_set_text(GTK_EDITABLE(self->data_entry), spec);
}

const char *fnv_image_list_get_split(FnvImageList *self)
{
    return gtk_drop_down_get_selected(self->split_dropdown) ? "train" : "test";
}

void fnv_image_list_set_split(FnvImageList *self, const char *split)
{
    gtk_drop_down_set_selected(self->split_dropdown, strcmp(split, "train") == 0 ? 1 : 0);
}

static void set_property(GObject *o, guint id, const GValue *v, GParamSpec *p)
{
    if (id == PROP_FILTER)
        fnv_image_list_set_filter(FNV_IMAGE_LIST(o), (FnvFilter)g_value_get_int(v));
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
}

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    if (id == PROP_FILTER)
        g_value_set_int(v, (int)FNV_IMAGE_LIST(o)->filter);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
}

static void fnv_image_list_dispose(GObject *o)
{
    FnvImageList *self = FNV_IMAGE_LIST(o);
    g_clear_handle_id(&self->scroll_source, g_source_remove);
    self->data = NULL;
    gtk_widget_dispose_template(GTK_WIDGET(o), FNV_TYPE_IMAGE_LIST);
    /* The children without an id too: a GtkWidget parent unparents its own. */
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(o))))
        gtk_widget_unparent(child);
    G_OBJECT_CLASS(fnv_image_list_parent_class)->dispose(o);
}

static void fnv_image_list_finalize(GObject *o)
{
    FnvImageList *self = FNV_IMAGE_LIST(o);
    g_ptr_array_free(self->files, TRUE);
    g_array_free(self->items, TRUE);
    G_OBJECT_CLASS(fnv_image_list_parent_class)->finalize(o);
}

static void fnv_image_list_class_init(FnvImageListClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_image_list_dispose;
    oc->finalize = fnv_image_list_finalize;
    oc->set_property = set_property;
    oc->get_property = get_property;
    props[PROP_FILTER] =
        g_param_spec_int("filter", NULL, "Which dataset images are listed (FnvFilter)",
                         FNV_FILTER_ALL, FNV_FILTER_WARM, FNV_FILTER_ALL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);
    signals[IMAGE_CHANGED] = g_signal_new("image-changed", G_TYPE_FROM_CLASS(klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/image-list.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, FnvImageList, name)
    CHILD(list_view);
    CHILD(selection);
    CHILD(rows);
    CHILD(data_entry);
    CHILD(split_dropdown);
    CHILD(filter_dropdown);
    CHILD(summary);
#undef CHILD
    gtk_widget_class_bind_template_callback(wc, on_selected);
    gtk_widget_class_bind_template_callback(wc, on_filter_chosen);
}

static void fnv_image_list_init(FnvImageList *self)
{
    self->files = g_ptr_array_new_with_free_func(g_free);
    self->items = g_array_new(FALSE, FALSE, sizeof(Item));
    self->current = -1;
    self->cell_slot = -1;
    gtk_widget_init_template(GTK_WIDGET(self));
}
