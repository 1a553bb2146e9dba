/* The viewer's window: see window.h. State that the worker computes arrives
 * as finished jobs (worker.h); the window keeps the last image's and the
 * dataset's results and redraws from them when only the look changes
 * (colormap, opacity, scale), and asks the worker again when the class, the
 * method or the image changes. What the user picks is window state held in
 * properties ("class-index", "grad-cam", "colormap", ...) bound to the
 * controls; the two model panels (model-panel.c) and the image list
 * (image-list.c) are widgets of their own, and the file choosers and actions
 * are in window-actions.c, with opening paths, screenshots and export. */
#include <math.h>
#include <string.h>

#include "class-plot.h"
#include "image-list.h"
#include "model-panel.h"
#include "window-private.h"

G_DEFINE_FINAL_TYPE(FnvWindow, fnv_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
    PROP_0,
    PROP_CLASS_INDEX,
    PROP_GRAD_CAM,
    PROP_COLORMAP,
    PROP_OPACITY,
    PROP_SHARED_SCALE,
    PROP_MULTIWARM_RULE,
    PROP_FILTER,
    PROP_FIRST_INDEX,
    PROP_PAIR_CLASS,
    PROP_PRESENT,
    PROP_BUSY,
    N_PROPS
};
static GParamSpec *props[N_PROPS];

static const char *slot_name[FNV_SLOTS] = {"Baseline", "FocusNet"};

static FnvModelPanel *panel(FnvWindow *self, int s)
{
    return s == FNV_BASELINE ? self->panel_base : self->panel_focus;
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
void fnv_window_show_error(FnvWindow *self, const char *msg)
{
    g_printerr("focusnet-viewer: %s\n", msg);
    gtk_label_set_text(self->error_label, msg);
    gtk_revealer_set_reveal_child(self->error_revealer, TRUE);
}

static void update_busy(FnvWindow *self)
{
    gboolean busy = self->pending > 0;
    gtk_label_set_text(self->status_label, busy ? "Working…" : "");
    if (busy != self->busy) {
        self->busy = busy;
        g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BUSY]);
    }
}

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
    fnv_window_maybe_screenshot(self);
}

/* ---- the look: colormap, opacity, one scale or two ---- */
static void update_style(FnvWindow *self)
{
    float lo[FNV_SLOTS], hi[FNV_SLOTS], slo = INFINITY, shi = -INFINITY;
    for (int s = 0; s < FNV_SLOTS; s++) {
        fnv_cam_view_get_range(fnv_model_panel_get_cam_view(panel(self, s)), &lo[s], &hi[s]);
        slo = fminf(slo, lo[s]);
        shi = fmaxf(shi, hi[s]);
    }
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_cam_view_set_style(fnv_model_panel_get_cam_view(panel(self, s)),
                               self->shared_scale ? slo : lo[s], self->shared_scale ? shi : hi[s],
                               self->colormap, self->opacity);
    fnv_window_style_views(self);
}

/* ---- showing an image's results ---- */
static void clear_views(FnvWindow *self, const char *why)
{
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_model_panel_clear(panel(self, s), self->info[s].path ? why : NULL);
    fnv_label_view_set(self->label_view, NULL, 0, NULL, -1, -1);
    gtk_label_set_text(self->label_caption, "");
    fnv_window_clear_views(self, why);
}

static void display_image(FnvWindow *self)
{
    const FnvJob *j = self->shown;
    const FnvModelInfo *ref = ref_info(self);
    if (!j || !ref || j->k != ref->k) return; /* computed by models since replaced */
    int k = ref->k;
    const char *const *names = (const char *const *)ref->names;
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_window_show_slot(self, j, s, k, names);
    float *label = NULL;
    if (j->logits[FNV_BASELINE]) {
        label = g_new(float, k);
        int n = fn_multiwarm_label(j->logits[FNV_BASELINE], k, j->true_class,
                                   self->multiwarm_rule ? FN_MULTIWARM_SOFTMAX : FN_MULTIWARM_LOGIT,
                                   2.0f, label);
        fnv_label_view_set(self->label_view, label, k, names, j->true_class, j->shown_class);
        char *text = g_strdup_printf(
            "The baseline's multi-warm label: %d class%s (%s and the ones it finds confusing)", n,
            n == 1 ? "" : "es", j->true_class >= 0 ? "the true class" : "true class unknown");
        gtk_label_set_text(self->label_caption, text);
        g_free(text);
    } else {
        fnv_label_view_set(self->label_view, NULL, 0, NULL, -1, -1);
        gtk_label_set_text(
            self->label_caption,
            j->skip[FNV_BASELINE]
                ? "No multi-warm label: the baseline kept no checkpoint of this epoch"
                : "Open a baseline to see its multi-warm label");
    }
    fnv_window_show_views(self, j, k, names, label);
    g_free(label);
    update_style(self);
}

char *fnv_window_image_title(FnvWindow *self, const char *path, int index, int true_class)
{
    const FnvModelInfo *ref = ref_info(self);
    const char *truth =
        true_class >= 0 && ref && true_class < ref->k ? ref->names[true_class] : "unknown";
    if (path) {
        char *base = g_path_get_basename(path);
        char *t = g_strdup_printf("%s — true class: %s", base, truth);
        g_free(base);
        return t;
    }
    return g_strdup_printf("%s image #%d — true class: %s",
                           self->dataset ? self->dataset->split : "", index, truth);
}

static gboolean image_done(FnvJob *j, gpointer user);

/* Asks the worker for the current row's image with the chosen class and method. */
static void refresh_image(FnvWindow *self)
{
    const char *path;
    int index;
    if (!fnv_image_list_get_current(self->image_list, &path, &index)) return;
    if (!self->info[0].path && !self->info[1].path) return;
    FnvJob *j = fnv_job_new(FNV_JOB_IMAGE, image_done, g_object_ref(self));
    j->path = g_strdup(path);
    j->index = index;
    j->cls = self->cls;
    j->grad_cam = self->grad_cam;
    j->pair = self->pair_class;
    fnv_window_job_epoch(self, j);
    submit(self, j);
    self->image_gen = j->generation;
}

void fnv_window_refresh_image(FnvWindow *self)
{
    refresh_image(self);
}

static gboolean image_done(FnvJob *j, gpointer user)
{
    FnvWindow *self = user;
    gboolean keep = FALSE;
    if (job_finished(self) && j->status != FNV_JOB_SKIPPED && j->generation == self->image_gen) {
        const char *path;
        int index;
        gboolean row = fnv_image_list_get_current(self->image_list, &path, &index);
        if (j->status == FN_OK) {
            g_clear_pointer(&self->shown, fnv_job_free);
            self->shown = j;
            keep = TRUE;
            display_image(self);
        } else {
            fnv_window_show_error(self, j->error ? j->error : "cannot show this image");
            g_clear_pointer(&self->shown, fnv_job_free);
            clear_views(self, "This image cannot be shown");
        }
        if (row) {
            char *t =
                fnv_window_image_title(self, path, index, j->status == FN_OK ? j->true_class : -1);
            if (j->epoch) {
                char *e = g_strdup_printf("%s · epoch %d", t, j->epoch);
                g_free(t);
                t = e;
            }
            gtk_label_set_text(self->image_title, t);
            g_free(t);
        }
    }
    job_settled(self);
    g_object_unref(self);
    return keep;
}

/* ---- the image list and the confusion matrices ---- */
static void on_image_changed(FnvImageList *list, FnvWindow *self)
{
    refresh_image(self);
}

/* The filter changed: the chosen cell, if any, is highlighted. */
static void on_filter_changed(FnvImageList *list, GParamSpec *p, FnvWindow *self)
{
    for (int s = 0; s < FNV_SLOTS && self->dataset; s++) {
        if (!self->dataset->conf[s]) continue;
        int row, col;
        fnv_image_list_get_cell(list, s, &row, &col);
        fnv_confusion_view_set(confusion_view(self, s), self->dataset->conf[s], self->dataset->k,
                               (const char *const *)self->dataset->class_names, row, col);
    }
    fnv_window_select_warm(self);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FILTER]);
}

static void on_cell(FnvConfusionView *v, int row, int col, FnvWindow *self)
{
    fnv_image_list_set_cell(self->image_list, v == self->conf_base ? FNV_BASELINE : FNV_FOCUSNET,
                            row, col);
}

static void on_class_activated(GtkWidget *w, int cls, FnvWindow *self)
{
    g_object_set(self, "class-index", cls, NULL);
}

/* ---- models ---- */
static void update_titles(FnvWindow *self)
{
    for (int s = 0; s < FNV_SLOTS; s++) {
        fnv_model_panel_set_model(panel(self, s), &self->info[s]);
        if (!self->info[s].path && !self->shown) fnv_model_panel_clear_placeholder(panel(self, s));
    }
}

static void rebuild_class_model(FnvWindow *self)
{
    const FnvModelInfo *ref = ref_info(self);
    GPtrArray *rows = g_ptr_array_new();
    g_ptr_array_add(rows, "Each model's top class");
    for (int i = 0; ref && i < ref->k; i++)
        g_ptr_array_add(rows, ref->names[i]);
    g_ptr_array_add(rows, NULL);
    int cls = self->cls; /* the splice moves the drop-down, and with it the property */
    self->updating++;
    guint old = g_list_model_get_n_items(G_LIST_MODEL(self->class_model));
    gtk_string_list_splice(self->class_model, 0, old, (const char *const *)rows->pdata);
    if (cls >= 0 && ref && cls >= ref->k) cls = -1;
    self->cls = cls;
    gtk_drop_down_set_selected(self->class_dropdown, (guint)(cls + 1));
    self->updating--;
    g_ptr_array_free(rows, TRUE);
}

static gboolean dataset_done(FnvJob *j, gpointer user);

/* Forgets the dataset split: its rows, matrices and filter. */
static void drop_dataset(FnvWindow *self)
{
    if (!self->dataset) return;
    fnv_image_list_set_dataset(self->image_list, NULL, -1);
    g_clear_pointer(&self->dataset, fnv_job_free);
    gtk_widget_set_visible(self->confusion_box, FALSE);
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_confusion_view_set(confusion_view(self, s), NULL, 0, NULL, -1, -1);
    fnv_warm_matrix_set(self->warm_matrix, NULL, 0, NULL);
}

void fnv_window_submit_dataset(FnvWindow *self, const char *spec, const char *split, int limit)
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
            fnv_window_update_runs(self);
            rebuild_class_model(self);
            const char *ds = self->info[s].dataset;
            if (!*fnv_image_list_get_spec(self->image_list) && ds && *ds) {
                char *spec =
                    strcmp(ds, "fashion-mnist") == 0 ? g_strdup(ds) : g_strdup_printf("%s:", ds);
                fnv_image_list_set_spec(self->image_list, spec);
                g_free(spec);
            }
            /* The new model changes what is shown: ask again. */
            if (self->dataset)
                fnv_window_submit_dataset(self, self->dataset->spec, self->dataset->split,
                                          self->dataset->limit);
            refresh_image(self);
        } else if (j->status != FNV_JOB_SKIPPED) {
            fnv_window_show_error(self, j->error);
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
            FnvJob *old = self->dataset;
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
            int want = self->first_index;
            self->first_index = -1;
            /* Rebuilds the list (the matrices follow its filter) and shows an image. */
            fnv_image_list_set_dataset(self->image_list, j, want);
            g_clear_pointer(&old, fnv_job_free); /* the list held it until now */
            fnv_window_update_warm(self);        /* and lists the --warm-cell asked for */
        } else {
            fnv_window_show_error(self, j->error);
            drop_dataset(self); /* the worker closed it */
        }
    }
    job_settled(self);
    g_object_unref(self);
    return keep;
}

void fnv_window_load(FnvWindow *self, const char *path, int slot, int replace)
{
    FnvJob *j = fnv_job_new(FNV_JOB_LOAD, load_done, g_object_ref(self));
    j->path = g_strdup(path);
    j->slot = slot;
    j->replace = replace;
    submit(self, j);
}

void fnv_window_load_checkpoint(FnvWindow *self, const char *path, int slot)
{
    fnv_window_load(self, path, slot, FALSE);
}

void fnv_window_add_image(FnvWindow *self, const char *path)
{
    fnv_image_list_add_file(self->image_list, path);
}

void fnv_window_open_dataset(FnvWindow *self, const char *spec, const char *split, int limit)
{
    fnv_image_list_set_spec(self->image_list, spec);
    fnv_image_list_set_split(self->image_list, split);
    fnv_window_submit_dataset(self, spec, split, limit);
}

/* ---- properties: set from the controls (bound in init) or from code ---- */
static void set_property(GObject *o, guint id, const GValue *v, GParamSpec *p)
{
    FnvWindow *self = FNV_WINDOW(o);
    gboolean changed = FALSE;
#define SET(field, value)                                                                          \
    do {                                                                                           \
        changed = self->field != (value);                                                          \
        self->field = (value);                                                                     \
    } while (0)
    switch (id) {
    case PROP_CLASS_INDEX:
        SET(cls, g_value_get_int(v));
        if (changed && !self->updating) refresh_image(self);
        break;
    case PROP_GRAD_CAM:
        SET(grad_cam, g_value_get_boolean(v));
        if (changed && !self->updating) refresh_image(self);
        break;
    case PROP_COLORMAP:
        SET(colormap, (fn_colormap)g_value_get_int(v));
        if (changed) update_style(self);
        break;
    case PROP_OPACITY:
        SET(opacity, g_value_get_double(v));
        if (changed) update_style(self);
        break;
    case PROP_SHARED_SCALE:
        SET(shared_scale, g_value_get_boolean(v));
        if (changed) update_style(self);
        break;
    case PROP_MULTIWARM_RULE:
        SET(multiwarm_rule, g_value_get_int(v));
        if (changed) display_image(self);
        if (changed && self->dataset) fnv_window_update_warm(self);
        break;
    case PROP_FILTER: /* notified by on_filter_changed */
        fnv_image_list_set_filter(self->image_list, (FnvFilter)g_value_get_int(v));
        break;
    case PROP_FIRST_INDEX:
        SET(first_index, g_value_get_int(v));
        break;
    case PROP_PRESENT:
        SET(present, g_value_get_boolean(v));
        if (changed) fnv_window_apply_present(self);
        break;
    case PROP_PAIR_CLASS:
        SET(pair_class, g_value_get_int(v));
        if (changed) fnv_window_apply_pair(self); /* and asks for the image again */
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
    }
#undef SET
    if (changed) g_object_notify_by_pspec(o, p);
}

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    FnvWindow *self = FNV_WINDOW(o);
    switch (id) {
    case PROP_CLASS_INDEX:
        g_value_set_int(v, self->cls);
        break;
    case PROP_GRAD_CAM:
        g_value_set_boolean(v, self->grad_cam);
        break;
    case PROP_COLORMAP:
        g_value_set_int(v, (int)self->colormap);
        break;
    case PROP_OPACITY:
        g_value_set_double(v, self->opacity);
        break;
    case PROP_SHARED_SCALE:
        g_value_set_boolean(v, self->shared_scale);
        break;
    case PROP_MULTIWARM_RULE:
        g_value_set_int(v, self->multiwarm_rule);
        break;
    case PROP_FILTER:
        g_value_set_int(v, (int)fnv_image_list_get_filter(self->image_list));
        break;
    case PROP_FIRST_INDEX:
        g_value_set_int(v, self->first_index);
        break;
    case PROP_PAIR_CLASS:
        g_value_set_int(v, self->pair_class);
        break;
    case PROP_PRESENT:
        g_value_set_boolean(v, self->present);
        break;
    case PROP_BUSY:
        g_value_set_boolean(v, self->busy);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
    }
}

/* ---- life cycle ---- */
static void fnv_window_dispose(GObject *o)
{
    FnvWindow *self = FNV_WINDOW(o);
    self->disposed = TRUE;
    g_clear_pointer(&self->worker, fnv_worker_free);
    g_clear_pointer(&self->shown, fnv_job_free);
    if (self->image_list) fnv_image_list_set_dataset(self->image_list, NULL, -1);
    g_clear_pointer(&self->dataset, fnv_job_free);
    for (int s = 0; s < FNV_SLOTS; s++)
        fnv_model_info_clear(&self->info[s]);
    gtk_widget_dispose_template(GTK_WIDGET(self), FNV_TYPE_WINDOW);
    G_OBJECT_CLASS(fnv_window_parent_class)->dispose(o);
}

static void fnv_window_finalize(GObject *o)
{
    FnvWindow *self = FNV_WINDOW(o);
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
    oc->set_property = set_property;
    oc->get_property = get_property;
    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
    props[PROP_CLASS_INDEX] = g_param_spec_int(
        "class-index", NULL, "The class to map, -1: the top class", -1, G_MAXINT, -1, rw);
    props[PROP_GRAD_CAM] =
        g_param_spec_boolean("grad-cam", NULL, "Grad-CAM where CAM would do", FALSE, rw);
    props[PROP_COLORMAP] =
        g_param_spec_int("colormap", NULL, "The heatmaps' fn_colormap", FN_COLORMAP_VIRIDIS,
                         FN_COLORMAP_INFERNO, FN_COLORMAP_VIRIDIS, rw);
    props[PROP_OPACITY] =
        g_param_spec_double("opacity", NULL, "The heatmaps' opacity", 0, 1, 0.5, rw);
    props[PROP_SHARED_SCALE] =
        g_param_spec_boolean("shared-scale", NULL, "One colour scale for both models", TRUE, rw);
    props[PROP_MULTIWARM_RULE] =
        g_param_spec_int("multiwarm-rule", NULL,
                         "0: logit > 0 (paper), 1: softmax(z/2) > 1/K (authors)", 0, 1, 0, rw);
    props[PROP_FILTER] = g_param_spec_int("filter", NULL, "Which dataset images are listed",
                                          FNV_FILTER_ALL, FNV_FILTER_WARM, FNV_FILTER_ALL, rw);
    props[PROP_FIRST_INDEX] = g_param_spec_int(
        "first-index", NULL, "The dataset image to show once the split is in, -1: the first", -1,
        G_MAXINT, -1, rw);
    props[PROP_PAIR_CLASS] =
        g_param_spec_int("pair-class", NULL, "The confusing pair's class B", -2, G_MAXINT, -2, rw);
    props[PROP_PRESENT] = g_param_spec_boolean("present", NULL, "The presentation mode", FALSE, rw);
    props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, "Jobs are running", FALSE,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(oc, N_PROPS, props);

    g_type_ensure(FNV_TYPE_MODEL_PANEL);
    g_type_ensure(FNV_TYPE_IMAGE_LIST);
    g_type_ensure(FNV_TYPE_LABEL_VIEW);
    g_type_ensure(FNV_TYPE_CONFUSION_VIEW);
    gtk_widget_class_set_template_from_resource(wc, "/io/github/focusnet/Viewer/window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, FnvWindow, name)
    CHILD(error_revealer);
    CHILD(error_label);
    CHILD(status_label);
    CHILD(image_title);
    CHILD(label_caption);
    CHILD(conf_title_base);
    CHILD(conf_title_focus);
    CHILD(class_dropdown);
    CHILD(class_model);
    CHILD(method_dropdown);
    CHILD(colormap_dropdown);
    CHILD(rule_dropdown);
    CHILD(opacity_scale);
    CHILD(shared_scale_check);
    CHILD(spinner);
    CHILD(image_list);
    CHILD(view_box);
    CHILD(confusion_box);
    CHILD(panel_base);
    CHILD(panel_focus);
    CHILD(label_view);
    CHILD(conf_base);
    CHILD(conf_focus);
#undef CHILD
    gtk_widget_class_bind_template_callback(wc, on_image_changed);
    gtk_widget_class_bind_template_callback(wc, on_filter_changed);
    gtk_widget_class_bind_template_callback(wc, on_class_activated);
    gtk_widget_class_bind_template_callback(wc, on_cell);
    fnv_window_class_bind_training(wc);
    fnv_window_class_install_actions(wc);
    fnv_window_class_bind_views(wc);
}

static void fnv_window_init(FnvWindow *self)
{
    self->cls = -1;
    self->colormap = FN_COLORMAP_VIRIDIS;
    self->opacity = 0.5;
    self->shared_scale = TRUE;
    self->first_index = -1;
    fnv_window_init_views(self);
    gtk_widget_init_template(GTK_WIDGET(self));
    fnv_window_bind_controls(self);
    fnv_window_add_drop_target(self);
    update_titles(self);
}

FnvWindow *fnv_window_new(GtkApplication *app, const char *device)
{
    FnvWindow *self = g_object_new(FNV_TYPE_WINDOW, "application", app, NULL);
    self->worker = fnv_worker_new(device);
    return self;
}
