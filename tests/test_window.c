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
    const char *actions[] = {"win.open-run",    "win.open-baseline", "win.open-focusnet",
                             "win.open-images", "win.export",        "win.dismiss-error",
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

    gtk_window_destroy(GTK_WINDOW(w));
    g_object_unref(w);
    return check_summary("window");
}
