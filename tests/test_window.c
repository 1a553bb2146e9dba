/* The viewer's widgets wired as their .ui files say, without a model or a
 * device: the window's state properties follow its controls and the other
 * way round, a class clicked in a model panel or the label view becomes the
 * window's class, the actions are installed on the class, and the image
 * list's rows, filter and "image-changed" signal work. Needs a display (run
 * by tests/test_window.sh under Xvfb). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#include "epoch-slider.h"
#include "epochs.h"
#include "history-view.h"
#include "image-list.h"
#include "model-panel.h"
#include "pair-view.h"
#include "viewer-resources.h"
#include "warm-matrix.h"
#include "window.h"

#include "check_count.h"

static GObject *child(FnvWindow *w, const char *name)
{
    return gtk_widget_get_template_child(GTK_WIDGET(w), FNV_TYPE_WINDOW, name);
}

static void count(FnvImageList *list, int *n)
{
    ++*n;
}

static int pair_class(FnvWindow *w)
{
    int p;
    g_object_get(w, "pair-class", &p, NULL);
    return p;
}

/* The confusing pair (issue 17.1): a right-clicked bar or label cell, the
 * toggle and the view's close button set "pair-class", which shows the view. */
static void test_pair(FnvWindow *w)
{
    GtkWidget *view = GTK_WIDGET(child(w, "pair_view"));
    GtkToggleButton *toggle = GTK_TOGGLE_BUTTON(child(w, "pair_toggle"));
    CHECK(pair_class(w) == -2 && !gtk_widget_get_visible(view), "no pair view at first");
    g_signal_emit_by_name(child(w, "panel_base"), "pair-activated", 4);
    CHECK(pair_class(w) == 4 && gtk_widget_get_visible(view) &&
              gtk_toggle_button_get_active(toggle),
          "a bar right-clicked pairs its class: %d", pair_class(w));
    g_signal_emit_by_name(child(w, "label_view"), "pair-activated", 2);
    CHECK(pair_class(w) == 2, "a label cell right-clicked pairs its class: %d", pair_class(w));
    g_signal_emit_by_name(view, "close-requested");
    CHECK(pair_class(w) == -2 && !gtk_widget_get_visible(view) &&
              !gtk_toggle_button_get_active(toggle),
          "closed: %d", pair_class(w));
    gtk_toggle_button_set_active(toggle, TRUE);
    CHECK(pair_class(w) == -1 && gtk_widget_get_visible(view),
          "the toggle opens the automatic pair: %d", pair_class(w));
    gtk_toggle_button_set_active(toggle, FALSE);
    CHECK(pair_class(w) == -2, "and closes it: %d", pair_class(w));
}

/* The multi-warm matrix (issue 17.2) of a split made here: its counts, and a
 * click on a cell lists that cell's images. */
static void test_warm(FnvWindow *w, FnvImageList *list)
{
    FnvJob *d = fnv_job_new(FNV_JOB_DATASET, NULL, NULL);
    d->n = 4, d->k = 2;
    d->labels = g_memdup2((int[]){0, 1, 1, 0}, 4 * sizeof(int));
    for (int s = 0; s < FNV_SLOTS; s++) {
        d->pred[s] = g_memdup2((int[]){0, s, 1, s}, 4 * sizeof(int));
        d->conf[s] = g_new0(int64_t, 4);
    }
    /* Warm by logit > 0: {0}, {0, 1}, {1}, {0, 1}. */
    d->zs[FNV_BASELINE] = g_memdup2((float[]){2, -1, 1, 2, -1, 3, 1, 1}, 8 * sizeof(float));
    d->class_names = g_new0(char *, 3);
    d->class_names[0] = g_strdup("a"), d->class_names[1] = g_strdup("b");
    fnv_image_list_set_dataset(list, d, -1);
    FnvWarmMatrix *m = FNV_WARM_MATRIX(child(w, "warm_matrix"));
    CHECK(fnv_warm_matrix_set(m, d, 0, NULL), "the matrix counted");
    int k = 0;
    const int64_t *c = fnv_warm_matrix_get_counts(m, &k);
    CHECK(k == 2 && c && c[0] == 2 && c[1] == 1 && c[2] == 1 && c[3] == 2,
          "counts [[2 1] [1 2]]: k %d", k);
    fnv_image_list_set_warm(list, fnv_warm_matrix_get_warm(m));
    g_signal_emit_by_name(m, "cell-activated", 1, 0);
    int filter;
    g_object_get(w, "filter", &filter, NULL);
    const char *sum = fnv_image_list_get_summary(list);
    CHECK(filter == FNV_FILTER_WARM && g_str_has_prefix(sum, "1 images listed in the chosen multi"),
          "a cell clicked lists its one image: filter %d, '%s'", filter, sum);
    const char *path;
    int index = -1;
    CHECK(fnv_image_list_get_current(list, &path, &index) && !path && index == 1,
          "image 1 (class b, a in its label) shown: %d", index);
    g_signal_emit_by_name(m, "cell-activated", 0, 1);
    fnv_image_list_get_current(list, &path, &index);
    CHECK(g_str_has_prefix(fnv_image_list_get_summary(list), "1 images") && index == 3,
          "cell (a, b): image 3: %d", index);
    /* The softmax rule (T = 2) keeps fewer: image 3's {1, 1} is 1/2 each, not > 1/2. */
    CHECK(fnv_warm_matrix_set(m, d, 1, NULL), "counted again under the softmax rule");
    c = fnv_warm_matrix_get_counts(m, &k);
    CHECK(c && c[1] == 0, "under the softmax rule (a, b) is empty: %lld", c ? (long long)c[1] : -1);
    fnv_image_list_set_warm(list, fnv_warm_matrix_get_warm(m));
    CHECK(g_str_has_prefix(fnv_image_list_get_summary(list), "0 images"),
          "the list follows the rule: '%s'", fnv_image_list_get_summary(list));
    fnv_image_list_set_dataset(list, NULL, -1);
    CHECK(fnv_image_list_get_filter(list) == FNV_FILTER_ALL, "no split: back to all images");
    fnv_warm_matrix_set(m, NULL, 0, NULL);
    fnv_job_free(d);
}

static gboolean press(FnvWindow *w, guint key)
{
    gboolean handled = FALSE;
    g_signal_emit_by_name(child(w, "present_keys"), "key-pressed", key, 0, (GdkModifierType)0,
                          &handled);
    return handled;
}

/* The presentation mode (issue 17.5): the toggle and the property, the
 * stack's page, and the keys. */
static void test_present(FnvWindow *w, FnvImageList *list)
{
    GtkStack *stack = GTK_STACK(child(w, "stack"));
    CHECK(g_str_equal(gtk_stack_get_visible_child_name(stack), "browse"), "browsing at first");
    CHECK(!press(w, GDK_KEY_Right), "outside the mode the arrows go on to the list");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(child(w, "present_toggle")), TRUE);
    gboolean present;
    g_object_get(w, "present", &present, NULL);
    CHECK(present && g_str_equal(gtk_stack_get_visible_child_name(stack), "present") &&
              !gtk_widget_get_visible(GTK_WIDGET(child(w, "toolbar"))),
          "the toggle presents: the present page, no toolbar");
    CHECK(gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(child(w, "present_keys"))) ==
              GTK_WIDGET(w),
          "the keys' controller is on the window");
    /* The list holds a.png, b.png, c.png, d.png; c.png is shown. */
    fnv_image_list_select_file(list, 2);
    const char *path;
    int index;
    fnv_image_list_get_current(list, &path, &index);
    char *was = g_strdup(path);
    CHECK(press(w, GDK_KEY_Right), "right handled");
    fnv_image_list_get_current(list, &path, &index);
    CHECK(path && g_str_has_suffix(path, "d.png") && g_str_has_suffix(was, "c.png"),
          "right: the next image (%s -> %s)", was, path ? path : "(none)");
    press(w, GDK_KEY_Right); /* the last: stays */
    fnv_image_list_get_current(list, &path, &index);
    CHECK(path && g_str_has_suffix(path, "d.png"), "right at the end stays: %s", path);
    press(w, GDK_KEY_Left);
    press(w, GDK_KEY_Left);
    fnv_image_list_get_current(list, &path, &index);
    CHECK(path && g_str_has_suffix(path, "b.png"), "left twice: b.png, got %s", path);
    g_free(was);
    /* Classes: three known; up and down cycle through the top class, 0, 1, 2. */
    GtkStringList *classes = GTK_STRING_LIST(child(w, "class_model"));
    gtk_string_list_splice(classes, 1, 0, (const char *const[]){"x", "y", "z", NULL});
    g_object_set(w, "class-index", -1, NULL);
    int seq[6], cls;
    guint keys[6] = {GDK_KEY_Down, GDK_KEY_Down, GDK_KEY_Up, GDK_KEY_Up, GDK_KEY_Up, GDK_KEY_Down};
    for (int i = 0; i < 6; i++) {
        press(w, keys[i]);
        g_object_get(w, "class-index", &cls, NULL);
        seq[i] = cls;
    }
    CHECK(seq[0] == 0 && seq[1] == 1 && seq[2] == 0 && seq[3] == -1 && seq[4] == 2 && seq[5] == -1,
          "classes stepped: %d %d %d %d %d %d", seq[0], seq[1], seq[2], seq[3], seq[4], seq[5]);
    gtk_widget_activate_action(GTK_WIDGET(w), "win.present", NULL);
    g_object_get(w, "present", &present, NULL);
    CHECK(!present, "win.present toggles it off");
    gtk_widget_activate_action(GTK_WIDGET(w), "win.present", NULL);
    CHECK(press(w, GDK_KEY_Escape), "escape handled");
    g_object_get(w, "present", &present, NULL);
    CHECK(!present && g_str_equal(gtk_stack_get_visible_child_name(stack), "browse") &&
              !gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(child(w, "present_toggle"))) &&
              gtk_widget_get_visible(GTK_WIDGET(child(w, "toolbar"))),
          "escape leaves: browsing, the toggle off, the toolbar back");
}

static void touch(const char *dir, const char *name)
{
    char *p = g_build_filename(dir, name, NULL);
    g_file_set_contents(p, "x", 1, NULL);
    g_free(p);
}

static void rm_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            rm_tree(p);
        else
            g_remove(p);
        g_free(p);
    }
    if (d) g_dir_close(d);
    g_rmdir(path);
}

/* The epoch slider on the layout of focusnet train --keep-epochs (issue
 * 17.3): which names are epochs, the union of two runs' epochs, where a run
 * kept none, an epoch asked for before its run is known, and the history
 * view marking the slider's epoch (window.ui binds them). With real models:
 * tests/test_epochs.c. */
static void test_epochs(FnvWindow *w)
{
    char *top = g_dir_make_tmp("fnv-epochs-XXXXXX", NULL);
    char *a = g_build_filename(top, "a", NULL), *b = g_build_filename(top, "b", NULL);
    char *ae = g_build_filename(a, "epochs", NULL), *be = g_build_filename(b, "epochs", NULL);
    g_mkdir_with_parents(ae, 0755);
    g_mkdir_with_parents(be, 0755);
    const char *names[] = {"epoch-001.safetensors", "epoch-010.safetensors",
                           "epoch-1000.safetensors", "epoch-1.safetensors",
                           "epoch-0002.safetensors", "epoch-003.safetensors.tmp-5",
                           "epoch-+05.safetensors", "epoch-006.bin", "best.safetensors"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        touch(ae, names[i]);
    char *sub = g_build_filename(ae, "epoch-004.safetensors", NULL);
    g_mkdir(sub, 0755); /* a folder is not a checkpoint */
    touch(be, "epoch-020.safetensors");
    touch(be, "epoch-010.safetensors");
    int n;
    int *e = fnv_kept_epochs(a, &n);
    CHECK(n == 3 && e[0] == 1 && e[1] == 10 && e[2] == 1000, "run a kept 1, 10, 1000: %d epochs",
          n);
    g_free(e);
    e = fnv_kept_epochs(top, &n);
    CHECK(n == 0 && !e, "no epochs/ folder, no epochs");
    char *run = fnv_run_dir_of(sub), *run2 = fnv_run_dir_of("/r/x/best.safetensors");
    CHECK(g_str_equal(run, a) && g_str_equal(run2, "/r/x"),
          "an epoch's checkpoint belongs to the run above: %s, %s", run, run2);
    g_free(run);
    g_free(run2);

    FnvEpochSlider *slider = FNV_EPOCH_SLIDER(child(w, "epoch_slider"));
    FnvHistoryView *history = FNV_HISTORY_VIEW(child(w, "history_view"));
    CHECK(!gtk_widget_get_visible(GTK_WIDGET(slider)), "no runs: the slider is hidden");
    g_object_set(slider, "epoch", 20, NULL); /* --epoch 20 before the runs are open */
    int epoch = -1, mark = -1;
    g_object_get(slider, "epoch", &epoch, NULL);
    CHECK(epoch == 0, "epoch 20 waits for a run that kept it: %d", epoch);
    fnv_epoch_slider_set_runs(slider, (const char *const[]){a, NULL});
    g_object_get(slider, "epoch", &epoch, NULL);
    CHECK(epoch == 0 && gtk_widget_get_visible(GTK_WIDGET(slider)),
          "run a alone: visible, as opened: %d", epoch);
    fnv_epoch_slider_set_runs(slider, (const char *const[]){a, b});
    g_object_get(slider, "epoch", &epoch, NULL);
    g_object_get(history, "mark-epoch", &mark, NULL);
    CHECK(epoch == 20 && mark == 20, "epoch 20 once run b is open: %d, marked %d", epoch, mark);
    GtkRange *scale = GTK_RANGE(gtk_widget_get_template_child(GTK_WIDGET(slider),
                                                              FNV_TYPE_EPOCH_SLIDER, "scale"));
    CHECK(gtk_range_get_value(scale) == 2 &&
              gtk_adjustment_get_upper(gtk_range_get_adjustment(scale)) == 4,
          "positions 1, 10, 20, 1000, best: at %g of %g", gtk_range_get_value(scale),
          gtk_adjustment_get_upper(gtk_range_get_adjustment(scale)));
    gboolean kept;
    char *ca = fnv_epoch_slider_checkpoint(slider, 0, &kept);
    CHECK(!ca && !kept, "run a kept no epoch 20");
    char *cb = fnv_epoch_slider_checkpoint(slider, 1, &kept);
    CHECK(cb && kept && g_str_has_suffix(cb, "/b/epochs/epoch-020.safetensors"),
          "run b's epoch 20: %s", cb ? cb : "(none)");
    g_free(cb);
    char *why = fnv_epoch_slider_missing(slider, 0);
    CHECK(strstr(why, "epoch 20") && strstr(why, "1, 10, 1000"), "why a shows nothing: %s", why);
    g_free(why);
    /* The scale moved by the user: its position is the epoch. */
    gtk_range_set_value(scale, 3);
    g_object_get(slider, "epoch", &epoch, NULL);
    g_object_get(history, "mark-epoch", &mark, NULL);
    CHECK(epoch == 1000 && mark == 1000, "position 3 is epoch 1000: %d, marked %d", epoch, mark);
    ca = fnv_epoch_slider_checkpoint(slider, 0, &kept);
    CHECK(ca && kept && g_str_has_suffix(ca, "/a/epochs/epoch-1000.safetensors"),
          "4 digits past 999: %s", ca ? ca : "(none)");
    g_free(ca);
    gtk_range_set_value(scale, 4);
    g_object_get(slider, "epoch", &epoch, NULL);
    ca = fnv_epoch_slider_checkpoint(slider, 0, &kept);
    CHECK(epoch == 0 && !ca && kept, "the right end: the checkpoints as opened (%d)", epoch);
    /* Runs without epochs: hidden again. */
    fnv_epoch_slider_set_runs(slider, (const char *const[]){top, NULL});
    CHECK(!gtk_widget_get_visible(GTK_WIDGET(slider)), "no kept epochs: hidden");

    /* The history view: the logs of the runs open; one unreadable is named. */
    touch(a, "log.jsonl");
    const char *log = "{\"epoch\":1,\"train_loss\":2,\"test_top1\":0.5}\n"
                      "{\"epoch\":2,\"train_loss\":1,\"test_top1\":0.7}\n";
    char *lp = g_build_filename(a, "log.jsonl", NULL);
    g_file_set_contents(lp, log, -1, NULL);
    int shown = fnv_history_view_set_runs(history, (const char *const[]){a, b});
    GtkLabel *note = GTK_LABEL(
        gtk_widget_get_template_child(GTK_WIDGET(history), FNV_TYPE_HISTORY_VIEW, "note"));
    CHECK(shown == 1 && fnv_history_view_epochs(history, 0) == 2 &&
              fnv_history_view_epochs(history, 1) == 0 &&
              gtk_widget_get_visible(GTK_WIDGET(history)),
          "history of run a only: %d runs", shown);
    CHECK(strstr(gtk_label_get_text(note), "FocusNet") &&
              strstr(gtk_label_get_text(note), "b/log.jsonl"),
          "run b's missing log named: %s", gtk_label_get_text(note));
    shown = fnv_history_view_set_runs(history, (const char *const[]){NULL, b});
    CHECK(shown == 0 && !gtk_widget_get_visible(GTK_WIDGET(history)), "no history: hidden");
    g_free(lp);
    rm_tree(top);
    g_free(sub);
    g_free(ae);
    g_free(be);
    g_free(a);
    g_free(b);
    g_free(top);
}

int main(void)
{
    if (!gtk_init_check()) {
        fprintf(stderr, "SKIP: no display\n");
        return 77;
    }
    fnv_register_resource();
    FnvWindow *w = g_object_new(FNV_TYPE_WINDOW, NULL);
    g_object_ref_sink(w);

    /* Properties -> controls. */
    g_object_set(w, "opacity", 0.8, "colormap", (int)FN_COLORMAP_JET, "shared-scale", FALSE,
                 "grad-cam", TRUE, NULL);
    GtkRange *opacity = GTK_RANGE(child(w, "opacity_scale"));
    CHECK(gtk_range_get_value(opacity) == 0.8, "opacity scale at %g", gtk_range_get_value(opacity));
    CHECK(gtk_drop_down_get_selected(GTK_DROP_DOWN(child(w, "colormap_dropdown"))) == 1,
          "colormap drop-down on jet");
    CHECK(!gtk_check_button_get_active(GTK_CHECK_BUTTON(child(w, "shared_scale_check"))),
          "shared scale unchecked");
    CHECK(gtk_drop_down_get_selected(GTK_DROP_DOWN(child(w, "method_dropdown"))) == 1,
          "method drop-down on Grad-CAM");
    /* Controls -> properties. */
    gtk_range_set_value(opacity, 0.25);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(child(w, "colormap_dropdown")), 2);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(child(w, "rule_dropdown")), 1);
    double op;
    int cm, rule, cls;
    g_object_get(w, "opacity", &op, "colormap", &cm, "multiwarm-rule", &rule, NULL);
    CHECK(op == 0.25 && cm == FN_COLORMAP_INFERNO && rule == 1,
          "properties follow the controls: opacity %g colormap %d rule %d", op, cm, rule);

    /* A class asked for before any model names its classes is kept. */
    g_object_set(w, "class-index", 3, NULL);
    g_object_get(w, "class-index", &cls, NULL);
    CHECK(cls == 3, "class-index 3 kept without class names: %d", cls);
    /* A class clicked in a panel, or in the label view, is the window's class. */
    g_signal_emit_by_name(child(w, "panel_focus"), "class-activated", 2);
    g_object_get(w, "class-index", &cls, NULL);
    CHECK(cls == 2, "class-activated on a panel sets class-index: %d", cls);
    g_signal_emit_by_name(child(w, "label_view"), "class-activated", 5);
    g_object_get(w, "class-index", &cls, NULL);
    CHECK(cls == 5, "class-activated on the label view sets class-index: %d", cls);
    /* Until a model names its classes the drop-down has its "Top class" row only. */
    CHECK(g_list_model_get_n_items(G_LIST_MODEL(child(w, "class_model"))) == 1,
          "class drop-down: one row");

    /* Actions installed on the class (the menus and the buttons use them). */
    const char *actions[] = {"win.open-run",     "win.open-baseline", "win.open-focusnet",
                             "win.open-images",  "win.export",        "win.dismiss-error",
                             "win.load-dataset", "win.present"};
    for (size_t i = 0; i < G_N_ELEMENTS(actions); i++) {
        gboolean found = FALSE;
        for (guint j = 0;; j++) {
            GType owner;
            const char *name, *property;
            const GVariantType *type;
            if (!gtk_widget_class_query_action(GTK_WIDGET_GET_CLASS(w), j, &owner, &name, &type,
                                               &property))
                break;
            found |= g_str_equal(name, actions[i]) && owner == FNV_TYPE_WINDOW;
        }
        CHECK(found, "action %s installed in class_init", actions[i]);
    }
    CHECK(gtk_widget_activate_action(GTK_WIDGET(w), "win.dismiss-error", NULL),
          "win.dismiss-error activates");

    /* The image list: rows, the signal, the filter as a property of both. */
    FnvImageList *list = FNV_IMAGE_LIST(child(w, "image_list"));
    int changed = 0;
    g_signal_connect(list, "image-changed", G_CALLBACK(count), &changed);
    fnv_window_add_image(w, "/some/where/a.png");
    fnv_window_add_image(w, "/some/where/b.png");
    const char *path = NULL;
    int index = 0;
    CHECK(fnv_image_list_get_current(list, &path, &index) && path &&
              g_str_equal(path, "/some/where/b.png") && index == -1,
          "the image added last is shown: %s %d", path ? path : "(none)", index);
    CHECK(changed == 2, "image-changed once per image added: %d", changed);
    g_object_set(w, "filter", (int)FNV_FILTER_FIXED, NULL);
    int filter;
    g_object_get(w, "filter", &filter, NULL);
    CHECK(filter == FNV_FILTER_FIXED && fnv_image_list_get_filter(list) == FNV_FILTER_FIXED,
          "filter passed to the list: %d", filter);
    fnv_image_list_set_spec(list, "fashion-mnist");
    fnv_image_list_set_split(list, "train");
    CHECK(g_str_equal(fnv_image_list_get_spec(list), "fashion-mnist") &&
              g_str_equal(fnv_image_list_get_split(list), "train"),
          "dataset spec and split");

    /* Paths given at start (issue 17.6): the first of the images is
     * selected, not the last; a path that does not exist gets a message and
     * no row. */
    char *dir = g_dir_make_tmp("fnv-window-XXXXXX", NULL);
    char *c = g_build_filename(dir, "c.png", NULL), *d = g_build_filename(dir, "d.png", NULL);
    char *missing = g_build_filename(dir, "missing.png", NULL);
    g_file_set_contents(c, "x", 1, NULL);
    g_file_set_contents(d, "x", 1, NULL);
    int files = fnv_image_list_count_files(list);
    const char *const paths[] = {c, missing, d};
    fnv_window_open_paths(w, paths, 3);
    CHECK(fnv_image_list_count_files(list) == files + 2,
          "two rows for two images and a missing "
          "path: %d -> %d",
          files, fnv_image_list_count_files(list));
    CHECK(fnv_image_list_get_current(list, &path, &index) && path && g_str_equal(path, c),
          "the first image given is shown: %s", path ? path : "(none)");
    const char *msg = gtk_label_get_text(GTK_LABEL(child(w, "error_label")));
    CHECK(strstr(msg, missing) && strstr(msg, "no such file"), "message for a missing path: '%s'",
          msg);
    for (char **f = (char *[]){c, d, NULL}; *f; f++)
        g_remove(*f);
    g_rmdir(dir);
    g_free(c);
    g_free(d);
    g_free(missing);
    g_free(dir);

    test_pair(w);
    test_warm(w, list);
    test_present(w, list);
    test_epochs(w);

    gtk_window_destroy(GTK_WINDOW(w));
    g_object_unref(w);
    return check_summary("window");
}
