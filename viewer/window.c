/* The viewer's window: see window.h. State that the worker computes arrives
 * as finished jobs (worker.h); the window keeps the last image's and the
 * dataset's results and redraws from them when only the look changes
 * (colormap, opacity, scale), and asks the worker again when the class, the
 * method or the image changes. */
#include <math.h>
#include <string.h>

#include "cam-view.h"
#include "class-plot.h"
#include "export.h"
#include "window.h"
#include "worker.h"

#define TOP_K 5

enum { FILTER_ALL, FILTER_FIXED, FILTER_BROKEN, FILTER_BOTH_WRONG, FILTER_CELL };

typedef struct {
    int file;  /* index into files, or -1 */
    int index; /* dataset image when file < 0 */
} Item;

struct _FnvWindow {
    GtkApplicationWindow parent;
    /* template children */
    GtkRevealer *error_revealer;
    GtkLabel *error_label, *status_label, *dataset_label, *image_title, *label_caption;
    GtkLabel *title_base, *title_focus, *caption_base, *caption_focus;
    GtkLabel *conf_title_base, *conf_title_focus;
    GtkDropDown *class_dropdown, *method_dropdown, *colormap_dropdown, *split_dropdown;
    GtkDropDown *filter_dropdown, *rule_dropdown;
    GtkScale *opacity_scale;
    GtkCheckButton *shared_scale_check;
    GtkSpinner *spinner;
    GtkListView *image_list;
    GtkEntry *data_entry;
    GtkWidget *view_box, *confusion_box;
    FnvCamView *cam_base, *cam_focus;
    FnvBarChart *bars_base, *bars_focus;
    FnvLabelView *label_view;
    FnvConfusionView *conf_base, *conf_focus;

    FnvWorker *worker;
    gboolean disposed;
    int pending; /* jobs submitted and not yet handed back */
    FnvModelInfo info[FNV_SLOTS];
    GtkStringList *class_model, *list_model;
    GtkSingleSelection *selection;
    GPtrArray *files; /* image paths opened */
    GArray *items;    /* Item: what each row of the list shows */
    int current;      /* the row shown, -1 */
    int image_gen;    /* the newest image job */
    FnvJob *shown;    /* the last image's results */
    FnvJob *dataset;  /* the dataset split's results */
    int cls;          /* the class to map, -1 for the top class */
    int filter, cell_slot, cell_row, cell_col;
    int pending_index; /* dataset image to show once the split is in */
    int updating;      /* set while the window changes its own controls */
    int scroll_to;     /* the row to bring into view */
    guint scroll_source;
    char *screenshot, *export_path; /* written once everything asked for is shown */
    gboolean quit_after, shot_scheduled;
    int shot_frames;
};

G_DEFINE_FINAL_TYPE(FnvWindow, fnv_window, GTK_TYPE_APPLICATION_WINDOW)

static const char *slot_name[FNV_SLOTS] = {"Baseline", "FocusNet"};

static FnvCamView *cam_view(FnvWindow *self, int s)
{
    return s == FNV_BASELINE ? self->cam_base : self->cam_focus;
}

static FnvBarChart *bar_chart(FnvWindow *self, int s)
{
    return s == FNV_BASELINE ? self->bars_base : self->bars_focus;
}

static FnvConfusionView *confusion_view(FnvWindow *self, int s)
{
    return s == FNV_BASELINE ? self->conf_base : self->conf_focus;
}

/* The model whose class names and top class the window uses. */
static const FnvModelInfo *ref_info(FnvWindow *self)
{
    if (self->info[FNV_FOCUSNET].path) return &self->info[FNV_FOCUSNET];
    if (self->info[FNV_BASELINE].path) return &self->info[FNV_BASELINE];
    return NULL;
}

/* ---- errors and the busy state ---- */
static void show_error(FnvWindow *self, const char *msg)
{
    g_printerr("focusnet-viewer: %s\n", msg);
    gtk_label_set_text(self->error_label, msg);
    gtk_revealer_set_reveal_child(self->error_revealer, TRUE);
}

static void update_busy(FnvWindow *self)
{
    gtk_spinner_set_spinning(self->spinner, self->pending > 0);
    gtk_label_set_text(self->status_label, self->pending > 0 ? "Working…" : "");
}

static void maybe_screenshot(FnvWindow *self);

static void submit(FnvWindow *self, FnvJob *job)
{
    self->pending++;
    update_busy(self);
    fnv_worker_submit(self->worker, job);
}

/* Every done callback starts here; returns whether the window is still alive. */
static gboolean job_finished(FnvWindow *self)
{
    if (self->disposed) return FALSE;
    self->pending--;
    return TRUE;
}

/* ... and ends here, after submitting whatever the result leads to, so that
 * "nothing pending" means everything asked for is shown. */
static void job_settled(FnvWindow *self)
{
    if (self->disposed) return;
    update_busy(self);
    maybe_screenshot(self);
}

/* ---- the look: colormap, opacity, one scale or two ---- */
static void update_style(FnvWindow *self)
{
    fn_colormap cm = (fn_colormap)gtk_drop_down_get_selected(self->colormap_dropdown);
    double opacity = gtk_range_get_value(GTK_RANGE(self->opacity_scale));
    gboolean shared = gtk_check_button_get_active(self->shared_scale_check);
    float lo[FNV_SLOTS], hi[FNV_SLOTS], slo = INFINITY, shi = -INFINITY;
    for (int s = 0; s < FNV_SLOTS; s++) {
        fnv_cam_view_get_range(cam_view(self, s), &lo[s], &hi[s]);
        slo = fminf(slo, lo[s]);
        shi = fmaxf(shi, hi[s]);
    }
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_cam_view_set_style(cam_view(self, s), shared ? slo : lo[s], shared ? shi : hi[s], cm,
                               opacity);
}

/* ---- showing an image's results ---- */
static int argmax(const float *x, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

static void clear_views(FnvWindow *self, const char *why)
{
    for (int s = 0; s < FNV_SLOTS; s++) {
        fnv_cam_view_clear(cam_view(self, s), self->info[s].path ? why : NULL);
        fnv_bar_chart_set(bar_chart(self, s), NULL, 0, NULL, 0, -1, -1);
        gtk_label_set_text(s == 0 ? self->caption_base : self->caption_focus, "");
    }
    fnv_label_view_set(self->label_view, NULL, 0, NULL, -1, -1);
    gtk_label_set_text(self->label_caption, "");
}

static void display_image(FnvWindow *self)
{
    const FnvJob *j = self->shown;
    const FnvModelInfo *ref = ref_info(self);
    if (!j || !ref || j->k != ref->k) return; /* computed by models since replaced */
    int k = ref->k;
    const char *const *names = (const char *const *)ref->names;
    float *prob = g_new(float, k);
    for (int s = 0; s < FNV_SLOTS; s++) {
        GtkLabel *caption = s == 0 ? self->caption_base : self->caption_focus;
        if (!j->pixels[s]) {
            fnv_cam_view_clear(cam_view(self, s), s == FNV_BASELINE ? "Open a baseline checkpoint"
                                                                    : "Open a FocusNet checkpoint");
            fnv_bar_chart_set(bar_chart(self, s), NULL, 0, NULL, 0, -1, -1);
            gtk_label_set_text(caption, "");
            continue;
        }
        fnv_cam_view_set_image(cam_view(self, s), j->pixels[s], j->c[s], j->h[s], j->w[s],
                               j->heat[s]);
        fn_softmax(j->logits[s], k, prob);
        fnv_bar_chart_set(bar_chart(self, s), prob, k, names, TOP_K, j->true_class, j->shown_class);
        int top = argmax(prob, k);
        char *text =
            g_strdup_printf("predicts %s (%.1f%%) · %s of %s", names[top], 100.0 * prob[top],
                            j->used_grad_cam[s] ? "Grad-CAM" : "CAM", names[j->shown_class]);
        gtk_label_set_text(caption, text);
        g_free(text);
    }
    g_free(prob);
    if (j->logits[FNV_BASELINE]) {
        float *label = g_new(float, k);
        int rule = (int)gtk_drop_down_get_selected(self->rule_dropdown);
        int n = fn_multiwarm_label(j->logits[FNV_BASELINE], k, j->true_class,
                                   rule ? FN_MULTIWARM_SOFTMAX : FN_MULTIWARM_LOGIT, 2.0f, label);
        fnv_label_view_set(self->label_view, label, k, names, j->true_class, j->shown_class);
        char *text = g_strdup_printf(
            "Multi-warm label the baseline gives this image: %d class%s (%s and the ones it "
            "finds confusing)",
            n, n == 1 ? "" : "es", j->true_class >= 0 ? "the true class" : "true class unknown");
        gtk_label_set_text(self->label_caption, text);
        g_free(text);
        g_free(label);
    } else {
        fnv_label_view_set(self->label_view, NULL, 0, NULL, -1, -1);
        gtk_label_set_text(self->label_caption, "Open a baseline to see its multi-warm label");
    }
    update_style(self);
}

static char *item_title(FnvWindow *self, const Item *it, int true_class)
{
    const FnvModelInfo *ref = ref_info(self);
    const char *truth =
        true_class >= 0 && ref && true_class < ref->k ? ref->names[true_class] : "unknown";
    if (it->file >= 0) {
        char *base = g_path_get_basename(g_ptr_array_index(self->files, it->file));
        char *t = g_strdup_printf("%s — true class: %s", base, truth);
        g_free(base);
        return t;
    }
    return g_strdup_printf("%s image #%d — true class: %s",
                           self->dataset ? self->dataset->split : "", it->index, truth);
}

static gboolean image_done(FnvJob *j, gpointer user);

/* Asks the worker for the current row's image with the chosen class and method. */
static void refresh_image(FnvWindow *self)
{
    if (self->current < 0 || self->current >= (int)self->items->len) return;
    if (!self->info[0].path && !self->info[1].path) return;
    const Item *it = &g_array_index(self->items, Item, self->current);
    FnvJob *j = fnv_job_new(FNV_JOB_IMAGE, NULL, NULL);
    j->done = image_done;
    j->user = g_object_ref(self);
    if (it->file >= 0) j->path = g_strdup(g_ptr_array_index(self->files, it->file));
    j->index = it->index;
    j->cls = self->cls;
    j->grad_cam = gtk_drop_down_get_selected(self->method_dropdown) == 1;
    submit(self, j);
    self->image_gen = j->generation;
}

static gboolean image_done(FnvJob *j, gpointer user)
{
    FnvWindow *self = user;
    gboolean keep = FALSE;
    if (job_finished(self) && j->status != FNV_JOB_SKIPPED && j->generation == self->image_gen) {
        const Item *it = self->current >= 0 && self->current < (int)self->items->len
                             ? &g_array_index(self->items, Item, self->current)
                             : NULL;
        if (j->status == FN_OK) {
            g_clear_pointer(&self->shown, fnv_job_free);
            self->shown = j;
            keep = TRUE;
            display_image(self);
        } else {
            show_error(self, j->error ? j->error : "cannot show this image");
            g_clear_pointer(&self->shown, fnv_job_free);
            clear_views(self, "This image cannot be shown");
        }
        if (it) {
            char *t = item_title(self, it, j->status == FN_OK ? j->true_class : -1);
            gtk_label_set_text(self->image_title, t);
            g_free(t);
        }
    }
    job_settled(self);
    g_object_unref(self);
    return keep;
}

/* ---- the image list ---- */
static gboolean item_matches(FnvWindow *self, int i)
{
    const FnvJob *d = self->dataset;
    int y = d->labels[i];
    const int *pb = d->pred[FNV_BASELINE], *pf = d->pred[FNV_FOCUSNET];
    switch (self->filter) {
    case FILTER_FIXED:
        return pb && pf && pb[i] != y && pf[i] == y;
    case FILTER_BROKEN:
        return pb && pf && pb[i] == y && pf[i] != y;
    case FILTER_BOTH_WRONG:
        return pb && pf && pb[i] != y && pf[i] != y;
    case FILTER_CELL:
        return d->pred[self->cell_slot] && y == self->cell_row &&
               d->pred[self->cell_slot][i] == self->cell_col;
    default:
        return TRUE;
    }
}

static char *dataset_row(FnvWindow *self, int i)
{
    const FnvJob *d = self->dataset;
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

static gboolean scroll_list(gpointer data)
{
    FnvWindow *self = data;
    self->scroll_source = 0;
    if (self->scroll_to >= 0 && self->scroll_to < (int)self->items->len)
        gtk_widget_activate_action(GTK_WIDGET(self->image_list), "list.scroll-to-item", "u",
                                   (guint)self->scroll_to);
    return G_SOURCE_REMOVE;
}

static void select_row(FnvWindow *self, int row)
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
        refresh_image(self);
    }
}

/* Rebuilds the rows: the opened files, then the dataset images the filter keeps. */
static void rebuild_list(FnvWindow *self)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
    g_array_set_size(self->items, 0);
    for (guint f = 0; f < self->files->len; f++) {
        Item it = {(int)f, -1};
        g_array_append_val(self->items, it);
        g_ptr_array_add(rows, g_path_get_basename(g_ptr_array_index(self->files, f)));
    }
    int shown = 0;
    if (self->dataset)
        for (int i = 0; i < self->dataset->n; i++) {
            if (!item_matches(self, i)) continue;
            Item it = {-1, i};
            g_array_append_val(self->items, it);
            g_ptr_array_add(rows, dataset_row(self, i));
            shown++;
        }
    g_ptr_array_add(rows, NULL);
    self->updating++;
    guint old = g_list_model_get_n_items(G_LIST_MODEL(self->list_model));
    gtk_string_list_splice(self->list_model, 0, old, (const char *const *)rows->pdata);
    self->updating--;
    g_ptr_array_free(rows, TRUE);
    if (self->dataset) {
        static const char *what[] = {"", " where the baseline is wrong and FocusNet right",
                                     " where the baseline is right and FocusNet wrong",
                                     " where both are wrong", " in the chosen cell"};
        int n = self->dataset->n, fixed = 0, broken = 0, right[FNV_SLOTS] = {0, 0};
        for (int i = 0; i < n; i++) {
            int y = self->dataset->labels[i];
            for (int s = 0; s < FNV_SLOTS; s++)
                if (self->dataset->pred[s]) right[s] += self->dataset->pred[s][i] == y;
            if (self->dataset->pred[0] && self->dataset->pred[1]) {
                fixed += self->dataset->pred[0][i] != y && self->dataset->pred[1][i] == y;
                broken += self->dataset->pred[0][i] == y && self->dataset->pred[1][i] != y;
            }
        }
        GString *t = g_string_new(NULL);
        g_string_append_printf(t, "%d images listed%s of %d. ", shown, what[self->filter], n);
        for (int s = 0; s < FNV_SLOTS; s++)
            if (self->dataset->pred[s])
                g_string_append_printf(t, "%s %.1f%%. ", slot_name[s], 100.0 * right[s] / n);
        if (self->dataset->pred[0] && self->dataset->pred[1])
            g_string_append_printf(t, "FocusNet fixes %d, breaks %d.", fixed, broken);
        gtk_label_set_text(self->dataset_label, t->str);
        g_string_free(t, TRUE);
    }
}

static void on_selected(GtkSingleSelection *sel, GParamSpec *p, FnvWindow *self)
{
    if (self->updating) return;
    guint pos = gtk_single_selection_get_selected(sel);
    if (pos == GTK_INVALID_LIST_POSITION) return;
    self->current = (int)pos;
    refresh_image(self);
}

/* The first dataset row, or -1. */
static int first_dataset_row(FnvWindow *self)
{
    return self->items->len > self->files->len ? (int)self->files->len : -1;
}

static void set_filter(FnvWindow *self, int filter)
{
    self->filter = filter;
    self->updating++;
    gtk_drop_down_set_selected(self->filter_dropdown, (guint)filter);
    self->updating--;
    for (int s = 0; s < FNV_SLOTS && self->dataset; s++)
        if (self->dataset->conf[s])
            fnv_confusion_view_set(
                confusion_view(self, s), self->dataset->conf[s], self->dataset->k,
                (const char *const *)self->dataset->class_names,
                filter == FILTER_CELL && s == self->cell_slot ? self->cell_row : -1,
                filter == FILTER_CELL && s == self->cell_slot ? self->cell_col : -1);
    rebuild_list(self);
    int row = first_dataset_row(self);
    if (row >= 0)
        select_row(self, row);
    else if (self->dataset)
        select_row(self, self->files->len ? 0 : -1);
}

static void on_filter(GtkDropDown *d, GParamSpec *p, FnvWindow *self)
{
    if (self->updating) return;
    int f = (int)gtk_drop_down_get_selected(d);
    if (f == FILTER_CELL && self->cell_slot < 0) f = FILTER_ALL; /* no cell clicked yet */
    set_filter(self, f);
}

static void on_cell(FnvConfusionView *v, int row, int col, FnvWindow *self)
{
    self->cell_slot = v == self->conf_base ? FNV_BASELINE : FNV_FOCUSNET;
    self->cell_row = row;
    self->cell_col = col;
    set_filter(self, FILTER_CELL);
}

/* ---- models ---- */
static void update_titles(FnvWindow *self)
{
    for (int s = 0; s < FNV_SLOTS; s++) {
        const FnvModelInfo *in = &self->info[s];
        char *t = g_strdup_printf("%s: none open", slot_name[s]), *tip = NULL;
        if (in->path) { /* "baseline/best.safetensors" in the title, all of it in the tooltip */
            char *dir = g_path_get_dirname(in->path), *parent = g_path_get_basename(dir);
            char *file = g_path_get_basename(in->path);
            g_free(t);
            t = g_strdup_printf("%s: %s (%s loss) · %s/%s", slot_name[s], in->arch,
                                in->loss && *in->loss ? in->loss : "unknown", parent, file);
            tip = g_strdup(in->path);
            g_free(dir);
            g_free(parent);
            g_free(file);
        }
        gtk_label_set_text(s == 0 ? self->title_base : self->title_focus, t);
        gtk_widget_set_tooltip_text(GTK_WIDGET(s == 0 ? self->title_base : self->title_focus), tip);
        g_free(t);
        g_free(tip);
        if (!in->path && !self->shown)
            fnv_cam_view_clear(cam_view(self, s), s == FNV_BASELINE ? "Open a baseline checkpoint"
                                                                    : "Open a FocusNet checkpoint");
    }
}

static void rebuild_class_model(FnvWindow *self)
{
    const FnvModelInfo *ref = ref_info(self);
    GPtrArray *rows = g_ptr_array_new();
    g_ptr_array_add(rows, "Top class");
    for (int i = 0; ref && i < ref->k; i++)
        g_ptr_array_add(rows, ref->names[i]);
    g_ptr_array_add(rows, NULL);
    self->updating++;
    guint old = g_list_model_get_n_items(G_LIST_MODEL(self->class_model));
    gtk_string_list_splice(self->class_model, 0, old, (const char *const *)rows->pdata);
    if (self->cls >= 0 && ref && self->cls >= ref->k) self->cls = -1;
    gtk_drop_down_set_selected(self->class_dropdown, (guint)(self->cls + 1));
    self->updating--;
    g_ptr_array_free(rows, TRUE);
}

static gboolean dataset_done(FnvJob *j, gpointer user);

/* Forgets the dataset split: its rows, matrices and filter. */
static void drop_dataset(FnvWindow *self)
{
    if (!self->dataset) return;
    const Item *cur = self->current >= 0 && self->current < (int)self->items->len
                          ? &g_array_index(self->items, Item, self->current)
                          : NULL;
    gboolean was_dataset_row = cur && cur->file < 0;
    g_clear_pointer(&self->dataset, fnv_job_free);
    gtk_widget_set_visible(self->confusion_box, FALSE);
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_confusion_view_set(confusion_view(self, s), NULL, 0, NULL, -1, -1);
    gtk_label_set_text(self->dataset_label, "");
    rebuild_list(self);
    if (was_dataset_row) self->current = -1;
    self->updating++;
    gtk_single_selection_set_selected(
        self->selection, self->current >= 0 ? (guint)self->current : GTK_INVALID_LIST_POSITION);
    self->updating--;
}

static void submit_dataset(FnvWindow *self, const char *spec, const char *split, int limit)
{
    FnvJob *j = fnv_job_new(FNV_JOB_DATASET, dataset_done, g_object_ref(self));
    j->spec = g_strdup(spec);
    j->split = g_strdup(split);
    j->limit = limit;
    submit(self, j);
}

static gboolean load_done(FnvJob *j, gpointer user)
{
    FnvWindow *self = user;
    if (job_finished(self)) {
        if (j->status == FN_OK) {
            int s = j->info_slot;
            fnv_model_info_clear(&self->info[s]);
            if (j->closed_other) fnv_model_info_clear(&self->info[1 - s]);
            self->info[s] = j->info;
            memset(&j->info, 0, sizeof j->info);
            /* What was shown came from the models before: ask again below. */
            g_clear_pointer(&self->shown, fnv_job_free);
            clear_views(self, "Working…");
            if (self->dataset && self->dataset->k != self->info[s].k) drop_dataset(self);
            update_titles(self);
            rebuild_class_model(self);
            const char *ds = self->info[s].dataset;
            if (!*gtk_editable_get_text(GTK_EDITABLE(self->data_entry)) && ds && *ds) {
                char *spec =
                    strcmp(ds, "fashion-mnist") == 0 ? g_strdup(ds) : g_strdup_printf("%s:", ds);
                gtk_editable_set_text(GTK_EDITABLE(self->data_entry), spec);
                g_free(spec);
            }
            /* The new model changes what is shown: ask again. */
            if (self->dataset)
                submit_dataset(self, self->dataset->spec, self->dataset->split,
                               self->dataset->limit);
            refresh_image(self);
        } else if (j->status != FNV_JOB_SKIPPED) {
            show_error(self, j->error);
        }
    }
    job_settled(self);
    g_object_unref(self);
    return FALSE;
}

static gboolean dataset_done(FnvJob *j, gpointer user)
{
    FnvWindow *self = user;
    gboolean keep = FALSE;
    if (job_finished(self) && j->status != FNV_JOB_SKIPPED) {
        if (j->status == FN_OK) {
            g_clear_pointer(&self->dataset, fnv_job_free);
            self->dataset = j;
            keep = TRUE;
            gtk_widget_set_visible(self->confusion_box, TRUE);
            GString *log = g_string_new(NULL);
            g_string_append_printf(log, "focusnet-viewer: %s: %d %s images:", j->spec, j->n,
                                   j->split);
            for (int s = 0; s < FNV_SLOTS; s++) {
                GtkLabel *t = s == 0 ? self->conf_title_base : self->conf_title_focus;
                if (!j->conf[s]) {
                    fnv_confusion_view_set(confusion_view(self, s), NULL, 0, NULL, -1, -1);
                    gtk_label_set_text(t, "");
                    continue;
                }
                int64_t right = 0;
                for (int c = 0; c < j->k; c++)
                    right += j->conf[s][(size_t)c * j->k + c];
                char *text = g_strdup_printf("%s: %.2f%% of %d %s images", slot_name[s],
                                             100.0 * (double)right / j->n, j->n, j->split);
                g_string_append_printf(log, " %s %.2f%%", slot_name[s],
                                       100.0 * (double)right / j->n);
                gtk_label_set_text(t, text);
                g_free(text);
            }
            g_print("%s\n", log->str);
            g_string_free(log, TRUE);
            if (self->filter == FILTER_CELL) self->filter = FILTER_ALL;
            int want = self->pending_index;
            self->pending_index = -1;
            int keep_current = self->current >= 0 && self->current < (int)self->files->len;
            set_filter(self, self->filter); /* rebuilds the list and shows its first image */
            if (want >= 0) {
                for (guint r = 0; r < self->items->len; r++)
                    if (g_array_index(self->items, Item, r).index == want) {
                        select_row(self, (int)r);
                        break;
                    }
            } else if (keep_current) {
                select_row(self, 0);
            }
        } else {
            show_error(self, j->error);
            drop_dataset(self); /* the worker closed it */
        }
    }
    job_settled(self);
    g_object_unref(self);
    return keep;
}

static void load(FnvWindow *self, const char *path, int slot, int replace)
{
    FnvJob *j = fnv_job_new(FNV_JOB_LOAD, load_done, g_object_ref(self));
    j->path = g_strdup(path);
    j->slot = slot;
    j->replace = replace;
    submit(self, j);
}

void fnv_window_load_checkpoint(FnvWindow *self, const char *path, int slot)
{
    load(self, path, slot, FALSE);
}

void fnv_window_add_image(FnvWindow *self, const char *path)
{
    g_ptr_array_add(self->files, g_strdup(path));
    rebuild_list(self);
    select_row(self, (int)self->files->len - 1);
}

void fnv_window_open_dataset(FnvWindow *self, const char *spec, const char *split, int limit)
{
    gtk_editable_set_text(GTK_EDITABLE(self->data_entry), spec);
    gtk_drop_down_set_selected(self->split_dropdown, strcmp(split, "train") == 0 ? 1 : 0);
    submit_dataset(self, spec, split, limit);
}

static char *first_existing(const char *dir, const char *sub)
{
    static const char *names[] = {"best.safetensors", "last.safetensors"};
    for (int i = 0; i < 2; i++) {
        char *p = g_build_filename(dir, sub, names[i], NULL);
        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) return p;
        g_free(p);
    }
    return NULL;
}

void fnv_window_open_path(FnvWindow *self, const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        /* A run folder replaces both models: the first load closes the other. */
        char *b = first_existing(path, "baseline"), *f = first_existing(path, "focusnet");
        if (b) load(self, b, FNV_BASELINE, TRUE);
        if (f) load(self, f, FNV_FOCUSNET, !b);
        if (!b && !f) { /* one `focusnet train` run */
            char *one = first_existing(path, "");
            if (one)
                load(self, one, -1, TRUE);
            else {
                char *msg = g_strdup_printf(
                    "%s holds no checkpoint: a run folder of focusnet demo has "
                    "baseline/best.safetensors and focusnet/best.safetensors, one of focusnet "
                    "train has best.safetensors",
                    path);
                show_error(self, msg);
                g_free(msg);
            }
            g_free(one);
        }
        g_free(b);
        g_free(f);
    } else if (g_str_has_suffix(path, ".safetensors")) {
        fnv_window_load_checkpoint(self, path, -1);
    } else {
        fnv_window_add_image(self, path);
    }
}

void fnv_window_set_options(FnvWindow *self, const FnvViewOptions *o)
{
    self->updating++;
    self->cls = o->cls;
    gtk_drop_down_set_selected(self->class_dropdown, (guint)(o->cls + 1));
    gtk_drop_down_set_selected(self->method_dropdown, o->grad_cam ? 1 : 0);
    gtk_drop_down_set_selected(self->colormap_dropdown, (guint)o->colormap);
    gtk_range_set_value(GTK_RANGE(self->opacity_scale), o->opacity);
    gtk_check_button_set_active(self->shared_scale_check, !o->per_model_scale);
    self->filter = o->filter;
    gtk_drop_down_set_selected(self->filter_dropdown, (guint)o->filter);
    self->pending_index = o->index;
    self->updating--;
    update_style(self);
}

/* ---- screenshots and export ---- */
gboolean fnv_window_export(FnvWindow *self, const char *path, GError **error)
{
    return fnv_export_png(self->view_box, path, error);
}

static gboolean shot_tick(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
    FnvWindow *self = FNV_WINDOW(w);
    /* Frames count once the window is on screen: layout and drawing settle. */
    if (!gtk_widget_get_mapped(w) || ++self->shot_frames < 8) return G_SOURCE_CONTINUE;
    const char *paths[2] = {self->screenshot, self->export_path};
    GtkWidget *what[2] = {GTK_WIDGET(self), self->view_box};
    for (int i = 0; i < 2; i++) {
        GError *err = NULL;
        if (!paths[i]) continue;
        if (fnv_export_png(what[i], paths[i], &err)) {
            g_print("focusnet-viewer: wrote %s\n", paths[i]);
        } else if (self->shot_frames < 3600 &&
                   g_error_matches(err, G_IO_ERROR, G_IO_ERROR_FAILED) &&
                   strstr(err->message, "nothing is shown yet")) {
            /* Not painted yet (a loaded machine, a sanitizer build): try the next frame,
             * for up to about a minute. */
            g_error_free(err);
            return G_SOURCE_CONTINUE;
        } else {
            g_printerr("focusnet-viewer: %s: %s\n", paths[i], err->message);
            g_error_free(err);
        }
        /* Written (or failed for good): not again on a retry of the other one. */
        if (i == 0) {
            g_free(self->screenshot);
            self->screenshot = NULL;
        } else {
            g_free(self->export_path);
            self->export_path = NULL;
        }
    }
    if (self->quit_after)
        g_application_quit(G_APPLICATION(gtk_window_get_application(GTK_WINDOW(self))));
    return G_SOURCE_REMOVE;
}

static void maybe_screenshot(FnvWindow *self)
{
    if ((!self->screenshot && !self->export_path) || self->pending > 0 || self->shot_scheduled)
        return;
    self->shot_scheduled = TRUE;
    gtk_widget_add_tick_callback(GTK_WIDGET(self), shot_tick, NULL, NULL);
}

void fnv_window_screenshot_when_ready(FnvWindow *self, const char *window_png, const char *view_png,
                                      gboolean quit)
{
    g_free(self->screenshot);
    g_free(self->export_path);
    self->screenshot = g_strdup(window_png);
    self->export_path = g_strdup(view_png);
    self->quit_after = quit;
    self->shot_scheduled = FALSE;
    self->shot_frames = 0;
    maybe_screenshot(self);
}

/* ---- controls ---- */
static void set_class(FnvWindow *self, int cls)
{
    self->cls = cls;
    self->updating++;
    gtk_drop_down_set_selected(self->class_dropdown, (guint)(cls + 1));
    self->updating--;
    refresh_image(self);
}

static void on_class_activated(GtkWidget *w, int cls, FnvWindow *self)
{
    set_class(self, cls);
}

static void on_class_dropdown(GtkDropDown *d, GParamSpec *p, FnvWindow *self)
{
    if (self->updating) return;
    guint sel = gtk_drop_down_get_selected(d);
    set_class(self, sel == GTK_INVALID_LIST_POSITION || sel == 0 ? -1 : (int)sel - 1);
}

static void on_method(GtkDropDown *d, GParamSpec *p, FnvWindow *self)
{
    if (!self->updating) refresh_image(self);
}

static void on_look(GObject *o, GParamSpec *p, FnvWindow *self)
{
    update_style(self);
}

static void on_opacity(GtkRange *r, FnvWindow *self)
{
    update_style(self);
}

static void on_rule(GtkDropDown *d, GParamSpec *p, FnvWindow *self)
{
    display_image(self);
}

/* ---- file choosers and actions ---- */
typedef enum { PICK_RUN, PICK_BASELINE, PICK_FOCUSNET, PICK_IMAGES, PICK_EXPORT } PickKind;

static void picked(GtkNativeDialog *dialog, int response, gpointer data)
{
    FnvWindow *self = g_object_get_data(G_OBJECT(dialog), "window");
    PickKind kind = GPOINTER_TO_INT(data);
    if (response == GTK_RESPONSE_ACCEPT) {
        GListModel *files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(dialog));
        for (guint i = 0; i < g_list_model_get_n_items(files); i++) {
            GFile *f = g_list_model_get_item(files, i);
            char *path = g_file_get_path(f);
            if (path) {
                if (kind == PICK_RUN || kind == PICK_IMAGES)
                    fnv_window_open_path(self, path);
                else if (kind == PICK_EXPORT) {
                    GError *err = NULL;
                    if (!fnv_window_export(self, path, &err)) {
                        show_error(self, err->message);
                        g_error_free(err);
                    }
                } else
                    fnv_window_load_checkpoint(self, path,
                                               kind == PICK_BASELINE ? FNV_BASELINE : FNV_FOCUSNET);
            }
            g_free(path);
            g_object_unref(f);
        }
        g_object_unref(files);
    }
    gtk_native_dialog_destroy(dialog);
    g_object_unref(dialog);
}

static void pick(FnvWindow *self, PickKind kind)
{
    static const char *titles[] = {"Open a Run Folder", "Open the Baseline Checkpoint",
                                   "Open the FocusNet Checkpoint", "Open Images",
                                   "Export the View as PNG"};
    GtkFileChooserAction action = kind == PICK_RUN      ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                  : kind == PICK_EXPORT ? GTK_FILE_CHOOSER_ACTION_SAVE
                                                        : GTK_FILE_CHOOSER_ACTION_OPEN;
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
        titles[kind], GTK_WINDOW(self), action, kind == PICK_EXPORT ? "_Save" : "_Open", "_Cancel");
    GtkFileChooser *fc = GTK_FILE_CHOOSER(d);
    GtkFileFilter *filter = gtk_file_filter_new();
    if (kind == PICK_IMAGES) {
        gtk_file_chooser_set_select_multiple(fc, TRUE);
        gtk_file_filter_set_name(filter, "Images (PNG, JPEG, BMP)");
        static const char *pat[] = {"*.png", "*.PNG", "*.jpg", "*.jpeg", "*.JPG", "*.bmp"};
        for (size_t i = 0; i < G_N_ELEMENTS(pat); i++)
            gtk_file_filter_add_pattern(filter, pat[i]);
        gtk_file_chooser_add_filter(fc, filter);
    } else if (kind == PICK_BASELINE || kind == PICK_FOCUSNET) {
        gtk_file_filter_set_name(filter, "Checkpoints (safetensors)");
        gtk_file_filter_add_pattern(filter, "*.safetensors");
        gtk_file_chooser_add_filter(fc, filter);
    } else {
        g_object_ref_sink(filter);
        g_object_unref(filter);
    }
    if (kind == PICK_EXPORT) gtk_file_chooser_set_current_name(fc, "focusnet-view.png");
    g_object_set_data(G_OBJECT(d), "window", self);
    g_signal_connect(d, "response", G_CALLBACK(picked), GINT_TO_POINTER(kind));
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void act_open_run(GSimpleAction *a, GVariant *p, gpointer self)
{
    pick(self, PICK_RUN);
}

static void act_open_baseline(GSimpleAction *a, GVariant *p, gpointer self)
{
    pick(self, PICK_BASELINE);
}

static void act_open_focusnet(GSimpleAction *a, GVariant *p, gpointer self)
{
    pick(self, PICK_FOCUSNET);
}

static void act_open_images(GSimpleAction *a, GVariant *p, gpointer self)
{
    pick(self, PICK_IMAGES);
}

static void act_export(GSimpleAction *a, GVariant *p, gpointer self)
{
    pick(self, PICK_EXPORT);
}

static void act_dismiss_error(GSimpleAction *a, GVariant *p, gpointer data)
{
    FnvWindow *self = data;
    gtk_revealer_set_reveal_child(self->error_revealer, FALSE);
}

static void act_load_dataset(GSimpleAction *a, GVariant *p, gpointer data)
{
    FnvWindow *self = data;
    const char *spec = gtk_editable_get_text(GTK_EDITABLE(self->data_entry));
    if (!*spec) {
        show_error(self, "say which dataset to load: fashion-mnist, mnist:DIR, cifar10:DIR, "
                         "folder:DIR, ...");
        return;
    }
    if (!self->info[0].path && !self->info[1].path) {
        show_error(self, "open a checkpoint before a dataset split");
        return;
    }
    submit_dataset(self, spec, gtk_drop_down_get_selected(self->split_dropdown) ? "train" : "test",
                   0);
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, FnvWindow *self)
{
    if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) return FALSE;
    for (GSList *l = gdk_file_list_get_files(g_value_get_boxed(value)); l; l = l->next) {
        char *path = g_file_get_path(l->data);
        if (path) fnv_window_open_path(self, path);
        g_free(path);
    }
    return TRUE;
}

/* ---- life cycle ---- */
static void fnv_window_dispose(GObject *o)
{
    FnvWindow *self = FNV_WINDOW(o);
    self->disposed = TRUE;
    g_clear_handle_id(&self->scroll_source, g_source_remove);
    g_clear_pointer(&self->worker, fnv_worker_free);
    g_clear_pointer(&self->shown, fnv_job_free);
    g_clear_pointer(&self->dataset, fnv_job_free);
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_model_info_clear(&self->info[s]);
    gtk_widget_dispose_template(GTK_WIDGET(self), FNV_TYPE_WINDOW);
    G_OBJECT_CLASS(fnv_window_parent_class)->dispose(o);
}

static void fnv_window_finalize(GObject *o)
{
    FnvWindow *self = FNV_WINDOW(o);
    g_ptr_array_free(self->files, TRUE);
    g_array_free(self->items, TRUE);
    g_free(self->screenshot);
    g_free(self->export_path);
    G_OBJECT_CLASS(fnv_window_parent_class)->finalize(o);
}

static void fnv_window_class_init(FnvWindowClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    oc->dispose = fnv_window_dispose;
    oc->finalize = fnv_window_finalize;
    g_type_ensure(FNV_TYPE_CAM_VIEW);
    g_type_ensure(FNV_TYPE_BAR_CHART);
    g_type_ensure(FNV_TYPE_LABEL_VIEW);
    g_type_ensure(FNV_TYPE_CONFUSION_VIEW);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, FnvWindow, name)
    CHILD(error_revealer);
    CHILD(error_label);
    CHILD(status_label);
    CHILD(dataset_label);
    CHILD(image_title);
    CHILD(label_caption);
    CHILD(title_base);
    CHILD(title_focus);
    CHILD(caption_base);
    CHILD(caption_focus);
    CHILD(conf_title_base);
    CHILD(conf_title_focus);
    CHILD(class_dropdown);
    CHILD(method_dropdown);
    CHILD(colormap_dropdown);
    CHILD(split_dropdown);
    CHILD(filter_dropdown);
    CHILD(rule_dropdown);
    CHILD(opacity_scale);
    CHILD(shared_scale_check);
    CHILD(spinner);
    CHILD(image_list);
    CHILD(data_entry);
    CHILD(view_box);
    CHILD(confusion_box);
    CHILD(cam_base);
    CHILD(cam_focus);
    CHILD(bars_base);
    CHILD(bars_focus);
    CHILD(label_view);
    CHILD(conf_base);
    CHILD(conf_focus);
#undef CHILD
}

static void setup_row(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_list_item_set_child(item, label);
}

static void bind_row(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkStringObject *s = gtk_list_item_get_item(item);
    gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)), gtk_string_object_get_string(s));
}

static const GActionEntry actions[] = {
    {"open-run", act_open_run, NULL, NULL, NULL, {0}},
    {"open-baseline", act_open_baseline, NULL, NULL, NULL, {0}},
    {"open-focusnet", act_open_focusnet, NULL, NULL, NULL, {0}},
    {"open-images", act_open_images, NULL, NULL, NULL, {0}},
    {"export", act_export, NULL, NULL, NULL, {0}},
    {"dismiss-error", act_dismiss_error, NULL, NULL, NULL, {0}},
    {"load-dataset", act_load_dataset, NULL, NULL, NULL, {0}},
};

static void fnv_window_init(FnvWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->files = g_ptr_array_new_with_free_func(g_free);
    self->items = g_array_new(FALSE, FALSE, sizeof(Item));
    self->current = -1;
    self->cls = -1;
    self->cell_slot = -1;
    self->pending_index = -1;
    g_action_map_add_action_entries(G_ACTION_MAP(self), actions, G_N_ELEMENTS(actions), self);

    self->class_model = gtk_string_list_new((const char *const[]){"Top class", NULL});
    gtk_drop_down_set_model(self->class_dropdown, G_LIST_MODEL(self->class_model));
    g_object_unref(self->class_model); /* the drop-down holds it */
    self->list_model = gtk_string_list_new(NULL);
    self->selection = gtk_single_selection_new(G_LIST_MODEL(self->list_model));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_row), NULL);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_row), NULL);
    gtk_list_view_set_model(self->image_list, GTK_SELECTION_MODEL(self->selection));
    gtk_list_view_set_factory(self->image_list, factory);
    g_object_unref(self->selection);
    g_object_unref(factory);

    g_signal_connect(self->selection, "notify::selected", G_CALLBACK(on_selected), self);
    g_signal_connect(self->class_dropdown, "notify::selected", G_CALLBACK(on_class_dropdown), self);
    g_signal_connect(self->method_dropdown, "notify::selected", G_CALLBACK(on_method), self);
    g_signal_connect(self->colormap_dropdown, "notify::selected", G_CALLBACK(on_look), self);
    g_signal_connect(self->shared_scale_check, "notify::active", G_CALLBACK(on_look), self);
    g_signal_connect(self->opacity_scale, "value-changed", G_CALLBACK(on_opacity), self);
    g_signal_connect(self->filter_dropdown, "notify::selected", G_CALLBACK(on_filter), self);
    g_signal_connect(self->rule_dropdown, "notify::selected", G_CALLBACK(on_rule), self);
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_signal_connect(bar_chart(self, s), "class-activated", G_CALLBACK(on_class_activated),
                         self);
        g_signal_connect(confusion_view(self, s), "cell-activated", G_CALLBACK(on_cell), self);
    }
    g_signal_connect(self->label_view, "class-activated", G_CALLBACK(on_class_activated), self);

    GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
    update_titles(self);
}

FnvWindow *fnv_window_new(GtkApplication *app, const char *device)
{
    FnvWindow *self = g_object_new(FNV_TYPE_WINDOW, "application", app, NULL);
    self->worker = fnv_worker_new(device);
    return self;
}
