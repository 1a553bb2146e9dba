#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "viewer-resources.h"
#include "window.h"

struct _FnvApplication {
    GtkApplication parent;
};

G_DEFINE_FINAL_TYPE(FnvApplication, fnv_application, GTK_TYPE_APPLICATION)

static const GOptionEntry options[] = {
    {"baseline", 'b', 0, G_OPTION_ARG_FILENAME, NULL, "The baseline checkpoint", "CKPT"},
    {"focusnet", 'f', 0, G_OPTION_ARG_FILENAME, NULL, "The FocusNet checkpoint", "CKPT"},
    {"data", 'd', 0, G_OPTION_ARG_STRING, NULL,
     "A dataset split to browse (fashion-mnist, mnist:DIR, cifar10:DIR, folder:DIR, ...)", "SPEC"},
    {"split", 0, 0, G_OPTION_ARG_STRING, NULL, "test or train (test)", "NAME"},
    {"limit", 0, 0, G_OPTION_ARG_INT, NULL, "At most N images of the split", "N"},
    {"index", 0, 0, G_OPTION_ARG_INT, NULL, "Show image N of the split first", "N"},
    {"filter", 0, 0, G_OPTION_ARG_STRING, NULL,
     "List all, fixed (baseline wrong, FocusNet right), broken (the reverse) or both-wrong images",
     "WHICH"},
    {"class", 'c', 0, G_OPTION_ARG_INT, NULL, "Map class C (default: the top class)", "C"},
    {"epoch", 0, 0, G_OPTION_ARG_INT, NULL,
     "Show the runs' checkpoints of epoch E (focusnet train --keep-epochs; default: as opened)",
     "E"},
    {"grad-cam", 0, 0, G_OPTION_ARG_NONE, NULL, "Grad-CAM even where plain CAM applies", NULL},
    {"colormap", 0, 0, G_OPTION_ARG_STRING, NULL, "viridis, jet or inferno (viridis)", "NAME"},
    {"opacity", 0, 0, G_OPTION_ARG_DOUBLE, NULL, "Heatmap opacity from 0 to 1 (0.5)", "A"},
    {"per-model-scale", 0, 0, G_OPTION_ARG_NONE, NULL,
     "One colour scale per model instead of one shared", NULL},
    {"pair", 0, 0, G_OPTION_ARG_STRING, NULL,
     "Show the confusing pair: the true class A and B (auto: the class the baseline finds most "
     "probable after A), their maps in both models and why A, not B",
     "auto|B"},
    {"warm-cell", 0, 0, G_OPTION_ARG_STRING, NULL,
     "List the images of class I whose baseline multi-warm label holds class J (with --data)",
     "I,J"},
    {"present", 0, 0, G_OPTION_ARG_NONE, NULL,
     "Presentation mode: the image and its maps big, large type; arrow keys step through images "
     "and classes, Escape leaves",
     NULL},
    {"describe", 0, 0, G_OPTION_ARG_NONE, NULL,
     "Print what the window shows (captions, pairs, where each view lies) once everything asked "
     "for is shown",
     NULL},
    {"size", 0, 0, G_OPTION_ARG_STRING, NULL, "Window size (1200x860)", "WxH"},
    {"device", 0, 0, G_OPTION_ARG_STRING, NULL, "OpenCL device (index or part of its name)",
     "N|NAME"},
    {"screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
     "Write the window to FILE.png once everything asked for is shown", "FILE.png"},
    {"export", 0, 0, G_OPTION_ARG_FILENAME, NULL,
     "Write the view (as Export does: image, maps, plots) to FILE.png once everything asked for "
     "is shown",
     "FILE.png"},
    {"quit-after-render", 0, 0, G_OPTION_ARG_NONE, NULL,
     "Quit once the screenshot or export is written (exit 0)", NULL},
    {"version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL,
     "[RUN_DIR | CHECKPOINT | IMAGE]…"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static gboolean on_signal(gpointer app)
{
    g_application_quit(G_APPLICATION(app));
    return G_SOURCE_CONTINUE;
}

static void act_quit(GSimpleAction *a, GVariant *p, gpointer app)
{
    g_application_quit(G_APPLICATION(app));
}

static void act_about(GSimpleAction *a, GVariant *p, gpointer app)
{
    GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(app));
    gtk_show_about_dialog(parent, "program-name", "focusnet viewer", "version", FOCUSNET_VERSION,
                          "logo-icon-name", FNV_APP_ID, "comments",
                          "Class activation maps of a baseline and its FocusNet, side by side",
                          "license-type", GTK_LICENSE_MIT_X11, NULL);
}

static gint handle_local_options(GApplication *app, GVariantDict *opts)
{
    if (g_variant_dict_contains(opts, "version")) {
        g_print("focusnet-viewer %s\n", FOCUSNET_VERSION);
        return 0;
    }
    const char *cm = NULL, *filter = NULL;
    fn_colormap c;
    if (g_variant_dict_lookup(opts, "colormap", "&s", &cm) && fn_colormap_parse(cm, &c) != FN_OK) {
        g_printerr("focusnet-viewer: option --colormap: %s\n", fn_last_error());
        return 2;
    }
    if (g_variant_dict_lookup(opts, "filter", "&s", &filter) && strcmp(filter, "all") &&
        strcmp(filter, "fixed") && strcmp(filter, "broken") && strcmp(filter, "both-wrong")) {
        g_printerr("focusnet-viewer: option --filter takes all, fixed, broken or both-wrong, not "
                   "'%s'\n",
                   filter);
        return 2;
    }
    const char *pair = NULL;
    int b;
    char end;
    if (g_variant_dict_lookup(opts, "pair", "&s", &pair) && strcmp(pair, "auto") &&
        (sscanf(pair, "%d%c", &b, &end) != 1 || b < 0)) {
        g_printerr("focusnet-viewer: option --pair takes auto or a class index, not '%s'\n", pair);
        return 2;
    }
    const char *cell = NULL;
    int ci, cj;
    if (g_variant_dict_lookup(opts, "warm-cell", "&s", &cell) &&
        (sscanf(cell, "%d,%d%c", &ci, &cj, &end) != 2 || ci < 0 || cj < 0)) {
        g_printerr("focusnet-viewer: option --warm-cell needs two class indices I,J, e.g. 6,0\n");
        return 2;
    }
    const char *size = NULL;
    int w, h;
    if (g_variant_dict_lookup(opts, "size", "&s", &size) &&
        (sscanf(size, "%dx%d%c", &w, &h, &end) != 2 || w < 200 || h < 200 || w > 10000 ||
         h > 10000)) {
        g_printerr("focusnet-viewer: option --size needs WIDTHxHEIGHT, e.g. 1280x1040\n");
        return 2;
    }
    int epoch;
    if (g_variant_dict_lookup(opts, "epoch", "i", &epoch) && epoch < 0) {
        g_printerr("focusnet-viewer: option --epoch needs an epoch from 1 (0: as opened)\n");
        return 2;
    }
    double opacity;
    if (g_variant_dict_lookup(opts, "opacity", "d", &opacity) && !(opacity >= 0 && opacity <= 1)) {
        g_printerr("focusnet-viewer: option --opacity needs a number from 0 to 1\n");
        return 2;
    }
    /* Screenshots come from the cairo renderer: the same pixels on every
     * machine, and no GL under Xvfb, where Mesa's software GL can stall
     * waiting for a frame that never comes. */
    if (g_variant_dict_contains(opts, "screenshot") || g_variant_dict_contains(opts, "export") ||
        g_variant_dict_contains(opts, "describe"))
        g_setenv("GSK_RENDERER", "cairo", FALSE);
    return -1; /* go on */
}

static int command_line(GApplication *app, GApplicationCommandLine *cmd)
{
    GVariantDict *opts = g_application_command_line_get_options_dict(cmd);
    const char *device = NULL, *s = NULL;
    g_variant_dict_lookup(opts, "device", "&s", &device);
    FnvWindow *win = fnv_window_new(GTK_APPLICATION(app), device);

    int cls = -1, index = -1, filter = 0;
    double opacity = 0.5;
    fn_colormap colormap = FN_COLORMAP_VIRIDIS;
    g_variant_dict_lookup(opts, "class", "i", &cls);
    if (g_variant_dict_lookup(opts, "colormap", "&s", &s)) fn_colormap_parse(s, &colormap);
    g_variant_dict_lookup(opts, "opacity", "d", &opacity);
    g_variant_dict_lookup(opts, "index", "i", &index);
    if (g_variant_dict_lookup(opts, "filter", "&s", &s))
        filter = !strcmp(s, "fixed")        ? 1
                 : !strcmp(s, "broken")     ? 2
                 : !strcmp(s, "both-wrong") ? 3
                                            : 0;
    g_object_set(win, "class-index", cls, "grad-cam", g_variant_dict_contains(opts, "grad-cam"),
                 "colormap", (int)colormap, "opacity", opacity, "shared-scale",
                 !g_variant_dict_contains(opts, "per-model-scale"), "first-index", index, "filter",
                 filter, NULL);
    if (g_variant_dict_contains(opts, "present")) g_object_set(win, "present", TRUE, NULL);
    const char *pair = NULL, *cell = NULL;
    if (g_variant_dict_lookup(opts, "pair", "&s", &pair))
        g_object_set(win, "pair-class", strcmp(pair, "auto") ? atoi(pair) : -1, NULL);
    int ci, cj;
    if (g_variant_dict_lookup(opts, "warm-cell", "&s", &cell) &&
        sscanf(cell, "%d,%d", &ci, &cj) == 2)
        fnv_window_set_warm_cell(win, ci, cj);
    int epoch = 0;
    if (g_variant_dict_lookup(opts, "epoch", "i", &epoch)) fnv_window_set_epoch(win, epoch);
    const char *size = NULL;
    int w, h;
    if (g_variant_dict_lookup(opts, "size", "&s", &size) && sscanf(size, "%dx%d", &w, &h) == 2)
        gtk_window_set_default_size(GTK_WINDOW(win), w, h);

    const char *ckpt = NULL;
    if (g_variant_dict_lookup(opts, "baseline", "^&ay", &ckpt))
        fnv_window_load_checkpoint(win, ckpt, 0);
    if (g_variant_dict_lookup(opts, "focusnet", "^&ay", &ckpt))
        fnv_window_load_checkpoint(win, ckpt, 1);
    const char **paths = NULL;
    if (g_variant_dict_lookup(opts, G_OPTION_REMAINING, "^a&ay", &paths)) {
        GPtrArray *abs = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; paths[i]; i++) {
            GFile *f = g_application_command_line_create_file_for_arg(cmd, paths[i]);
            char *path = g_file_get_path(f);
            g_ptr_array_add(abs, path ? path : g_strdup(paths[i]));
            g_object_unref(f);
        }
        fnv_window_open_paths(win, (const char *const *)abs->pdata, (int)abs->len);
        g_ptr_array_unref(abs);
        g_free(paths);
    }
    const char *data = NULL, *split = "test";
    int limit = 0;
    g_variant_dict_lookup(opts, "split", "&s", &split);
    g_variant_dict_lookup(opts, "limit", "i", &limit);
    if (g_variant_dict_lookup(opts, "data", "&s", &data))
        fnv_window_open_dataset(win, data, split, limit);
    const char *shot = NULL, *view = NULL;
    g_variant_dict_lookup(opts, "screenshot", "^&ay", &shot);
    g_variant_dict_lookup(opts, "export", "^&ay", &view);
    gboolean describe = g_variant_dict_contains(opts, "describe");
    if (shot || view || describe)
        fnv_window_screenshot_when_ready(win, shot, view, describe,
                                         g_variant_dict_contains(opts, "quit-after-render"));
    else if (g_variant_dict_contains(opts, "quit-after-render"))
        g_printerr("focusnet-viewer: --quit-after-render goes with --screenshot, --export or "
                   "--describe\n");
    gtk_window_present(GTK_WINDOW(win));
    return 0;
}

static void startup(GApplication *app)
{
    G_APPLICATION_CLASS(fnv_application_parent_class)->startup(app);
    static const GActionEntry entries[] = {
        {"quit", act_quit, NULL, NULL, NULL, {0}},
        {"about", act_about, NULL, NULL, NULL, {0}},
    };
    g_action_map_add_action_entries(G_ACTION_MAP(app), entries, G_N_ELEMENTS(entries), app);
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.quit",
                                          (const char *const[]){"<Control>q", NULL});
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "win.open-images",
                                          (const char *const[]){"<Control>o", NULL});
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "win.present",
                                          (const char *const[]){"F5", NULL});
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "win.export",
                                          (const char *const[]){"<Control>e", NULL});
    GtkCssProvider *css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/io/github/focusnet/Viewer/style.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    g_object_unref(css);
    gtk_window_set_default_icon_name(FNV_APP_ID);
    g_unix_signal_add(SIGINT, on_signal, app);
    g_unix_signal_add(SIGTERM, on_signal, app);
}

static void shutdown(GApplication *app)
{
    /* Windows go first: each joins its worker thread, which frees its models
     * and device. */
    GList *l;
    while ((l = gtk_application_get_windows(GTK_APPLICATION(app))) != NULL)
        gtk_window_destroy(l->data);
    G_APPLICATION_CLASS(fnv_application_parent_class)->shutdown(app);
}

static void fnv_application_class_init(FnvApplicationClass *klass)
{
    GApplicationClass *ac = G_APPLICATION_CLASS(klass);
    ac->startup = startup;
    ac->shutdown = shutdown;
    ac->command_line = command_line;
    ac->handle_local_options = handle_local_options;
}

static void fnv_application_init(FnvApplication *self)
{
    g_application_add_main_option_entries(G_APPLICATION(self), options);
    g_application_set_option_context_parameter_string(G_APPLICATION(self),
                                                      "[RUN_DIR | CHECKPOINT | IMAGE]…");
    g_application_set_option_context_summary(
        G_APPLICATION(self),
        "Class activation maps of a baseline and its FocusNet, side by side.\n"
        "  focusnet-viewer runs/demo                 a run folder of focusnet demo\n"
        "  focusnet-viewer runs/demo shoe.png        ... and an image\n"
        "  focusnet-viewer runs/demo --data fashion-mnist --filter fixed");
}

FnvApplication *fnv_application_new(void)
{
    static gsize registered;
    if (g_once_init_enter(&registered)) {
        fnv_register_resource();
        g_once_init_leave(&registered, 1);
    }
    /* Non-unique: every start is its own process with its own device, which
     * is what scripts and tests expect. */
    return g_object_new(FNV_TYPE_APPLICATION, "application-id", FNV_APP_ID, "flags",
                        G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE, NULL);
}
