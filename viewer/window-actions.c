/* The window's actions (win.open-run, win.open-baseline, win.open-focusnet,
 * win.open-images, win.export, win.dismiss-error, win.load-dataset),
 * installed on its class, the native file choosers they open (GTK 4.8: no
 * GtkFileDialog yet), dropping files on the window, opening a path, and
 * writing screenshots and the exported view. */
#include <string.h>

#include "export.h"
#include "window-private.h"

/* ---- opening paths ---- */
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
        if (b) fnv_window_load(self, b, FNV_BASELINE, TRUE);
        if (f) fnv_window_load(self, f, FNV_FOCUSNET, !b);
        if (!b && !f) { /* one `focusnet train` run */
            char *one = first_existing(path, "");
            if (one)
                fnv_window_load(self, one, -1, TRUE);
            else {
                char *msg = g_strdup_printf(
                    "%s holds no checkpoint: a run folder of focusnet demo has "
                    "baseline/best.safetensors and focusnet/best.safetensors, one of focusnet "
                    "train has best.safetensors",
                    path);
                fnv_window_show_error(self, msg);
                g_free(msg);
            }
            g_free(one);
        }
        g_free(b);
        g_free(f);
    } else if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        /* A mistyped name gets a message, not a row that cannot load. */
        char *msg = g_strdup_printf("%s: no such file or folder", path);
        fnv_window_show_error(self, msg);
        g_free(msg);
    } else if (g_str_has_suffix(path, ".safetensors")) {
        fnv_window_load_checkpoint(self, path, -1);
    } else {
        fnv_window_add_image(self, path);
    }
}

void fnv_window_open_paths(FnvWindow *self, const char *const *paths, int n)
{
    int before = fnv_image_list_count_files(self->image_list);
    for (int i = 0; i < n; i++)
        fnv_window_open_path(self, paths[i]);
    if (fnv_image_list_count_files(self->image_list) > before)
        fnv_image_list_select_file(self->image_list, before);
}

/* ---- screenshots and export ---- */
gboolean fnv_window_export(FnvWindow *self, const char *path, GError **error)
{
    /* In the presentation mode the view is the presentation. */
    return fnv_export_png(self->present ? GTK_WIDGET(self->present_view) : self->view_box, path,
                          error);
}

static gboolean shot_tick(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
    FnvWindow *self = FNV_WINDOW(w);
    /* Frames count once the window is on screen: layout and drawing settle. */
    if (!gtk_widget_get_mapped(w) || ++self->shot_frames < 8) return G_SOURCE_CONTINUE;
    if (self->describe) {
        char *d = fnv_window_describe(self);
        g_print("%s", d);
        g_free(d);
        self->describe = FALSE;
    }
    const char *paths[2] = {self->screenshot, self->export_path};
    GtkWidget *what[2] = {GTK_WIDGET(self),
                          self->present ? GTK_WIDGET(self->present_view) : self->view_box};
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

void fnv_window_maybe_screenshot(FnvWindow *self)
{
    if ((!self->screenshot && !self->export_path && !self->describe) || self->pending > 0 ||
        self->shot_scheduled)
        return;
    self->shot_scheduled = TRUE;
    gtk_widget_add_tick_callback(GTK_WIDGET(self), shot_tick, NULL, NULL);
}

void fnv_window_screenshot_when_ready(FnvWindow *self, const char *window_png, const char *view_png,
                                      gboolean describe, gboolean quit)
{
    self->describe = describe;
    g_free(self->screenshot);
    g_free(self->export_path);
    self->screenshot = g_strdup(window_png);
    self->export_path = g_strdup(view_png);
    self->quit_after = quit;
    self->shot_scheduled = FALSE;
    self->shot_frames = 0;
    fnv_window_maybe_screenshot(self);
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
                        fnv_window_show_error(self, err->message);
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

static void act_open_run(GtkWidget *w, const char *name, GVariant *p)
{
    pick(FNV_WINDOW(w), PICK_RUN);
}

static void act_open_baseline(GtkWidget *w, const char *name, GVariant *p)
{
    pick(FNV_WINDOW(w), PICK_BASELINE);
}

static void act_open_focusnet(GtkWidget *w, const char *name, GVariant *p)
{
    pick(FNV_WINDOW(w), PICK_FOCUSNET);
}

static void act_open_images(GtkWidget *w, const char *name, GVariant *p)
{
    pick(FNV_WINDOW(w), PICK_IMAGES);
}

static void act_export(GtkWidget *w, const char *name, GVariant *p)
{
    pick(FNV_WINDOW(w), PICK_EXPORT);
}

static void act_dismiss_error(GtkWidget *w, const char *name, GVariant *p)
{
    gtk_revealer_set_reveal_child(FNV_WINDOW(w)->error_revealer, FALSE);
}

static void act_load_dataset(GtkWidget *w, const char *name, GVariant *p)
{
    FnvWindow *self = FNV_WINDOW(w);
    const char *spec = fnv_image_list_get_spec(self->image_list);
    if (!*spec) {
        fnv_window_show_error(self, "say which dataset to load: fashion-mnist, mnist:DIR, "
                                    "cifar10:DIR, folder:DIR, ...");
        return;
    }
    if (!self->info[0].path && !self->info[1].path) {
        fnv_window_show_error(self, "open a checkpoint before a dataset split");
        return;
    }
    fnv_window_submit_dataset(self, spec, fnv_image_list_get_split(self->image_list), 0);
}

void fnv_window_class_install_actions(GtkWidgetClass *wc)
{
    gtk_widget_class_install_action(wc, "win.open-run", NULL, act_open_run);
    gtk_widget_class_install_action(wc, "win.open-baseline", NULL, act_open_baseline);
    gtk_widget_class_install_action(wc, "win.open-focusnet", NULL, act_open_focusnet);
    gtk_widget_class_install_action(wc, "win.open-images", NULL, act_open_images);
    gtk_widget_class_install_action(wc, "win.export", NULL, act_export);
    gtk_widget_class_install_action(wc, "win.dismiss-error", NULL, act_dismiss_error);
    gtk_widget_class_install_action(wc, "win.load-dataset", NULL, act_load_dataset);
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

/* In code rather than in window.ui: the builder cannot give a drop target the
 * GType of a file list in GTK 4.8. */
void fnv_window_add_drop_target(FnvWindow *self)
{
    GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
    g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}
