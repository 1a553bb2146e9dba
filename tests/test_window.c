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
#include "viewer-resources.h"
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
                             "win.load-dataset"};
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

    gtk_window_destroy(GTK_WINDOW(w));
    g_object_unref(w);
    return check_summary("window");
}
