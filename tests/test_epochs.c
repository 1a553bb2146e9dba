/* The epoch slider with real models (issue 17.3): given a run folder whose
 * runs kept checkpoints along training (RUN/baseline/epochs/epoch-001..003,
 * RUN/focusnet/epochs/epoch-002, made by tests/test_epochs.sh), the window's
 * panels show at each epoch exactly what that epoch's checkpoint predicts
 * for the image (computed here through the library), a model whose run kept
 * no checkpoint of the epoch says so and shows nothing, the history view has
 * each run's epochs with the slider's epoch marked, and a corrupt epoch
 * checkpoint is an error message, not a crash.
 * usage: test_epochs RUN_DIR IMAGE (under Xvfb: tests/test_window.sh) */
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#include "epoch-slider.h"
#include "history-view.h"
#include "model-panel.h"
#include "viewer-resources.h"
#include "window.h"

#include "check_count.h"

static GObject *child(FnvWindow *w, const char *name)
{
    return gtk_widget_get_template_child(GTK_WIDGET(w), FNV_TYPE_WINDOW, name);
}

static const char *caption(FnvWindow *w, const char *panel)
{
    GtkWidget *p = GTK_WIDGET(child(w, panel));
    return gtk_label_get_text(
        GTK_LABEL(gtk_widget_get_template_child(p, FNV_TYPE_MODEL_PANEL, "caption")));
}

static const char *title(FnvWindow *w, const char *panel)
{
    GtkWidget *p = GTK_WIDGET(child(w, panel));
    return gtk_widget_get_tooltip_text(
        GTK_WIDGET(gtk_widget_get_template_child(p, FNV_TYPE_MODEL_PANEL, "title")));
}

/* Runs the main loop until the window's jobs are done (60 s at most). */
static gboolean settle(FnvWindow *w)
{
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    gboolean busy = TRUE;
    while (g_get_monotonic_time() < end) {
        while (g_main_context_pending(NULL))
            g_main_context_iteration(NULL, FALSE);
        g_object_get(w, "busy", &busy, NULL);
        if (!busy) return TRUE;
        g_usleep(2000);
    }
    return FALSE;
}

/* "predicts NAME (P%)" of ckpt for image, as the panel's caption begins. */
static char *expected(fn_device *dev, const char *ckpt, const char *image)
{
    fn_model *m = NULL;
    if (fn_checkpoint_load(dev, ckpt, NULL, 1, 0, &m) != FN_OK) return g_strdup(fn_last_error());
    const fn_model_config *c = fn_model_get_config(m);
    float *x = g_new(float, (size_t)c->channels * c->height * c->width_px);
    float *z = g_new(float, c->classes), *p = g_new(float, c->classes);
    char *out = NULL;
    if (fn_model_load_image(m, image, x, NULL) == FN_OK && fn_model_predict(m, x, 1, z) == FN_OK) {
        fn_softmax(z, c->classes, p);
        int top = 0;
        for (int i = 1; i < c->classes; i++)
            if (p[i] > p[top]) top = i;
        out = g_strdup_printf("predicts %s (%.1f%%)", fn_model_class_name(m, top), 100.0 * p[top]);
    } else {
        out = g_strdup(fn_last_error());
    }
    g_free(x);
    g_free(z);
    g_free(p);
    fn_model_free(m);
    return out;
}

static gboolean starts(const char *s, const char *prefix)
{
    return s && prefix && g_str_has_prefix(s, prefix);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_epochs RUN_DIR IMAGE\n");
        return 2;
    }
    if (!gtk_init_check()) {
        fprintf(stderr, "SKIP: no display\n");
        return 77;
    }
    const char *run = argv[1], *image = argv[2];
    fnv_register_resource();
    fn_device *dev = NULL;
    if (fn_device_open(NULL, &dev) != FN_OK) {
        fprintf(stderr, "FAIL: no OpenCL device: %s\n", fn_last_error());
        return 1;
    }
    char *best = g_strdup_printf("%s/baseline/best.safetensors", run);
    char *fbest = g_strdup_printf("%s/focusnet/best.safetensors", run);
    char *b1 = g_strdup_printf("%s/baseline/epochs/epoch-001.safetensors", run);
    char *b2 = g_strdup_printf("%s/baseline/epochs/epoch-002.safetensors", run);
    char *f2 = g_strdup_printf("%s/focusnet/epochs/epoch-002.safetensors", run);
    char *want_best = expected(dev, best, image), *want_fbest = expected(dev, fbest, image);
    char *want_b1 = expected(dev, b1, image), *want_b2 = expected(dev, b2, image);
    char *want_f2 = expected(dev, f2, image);
    /* The fixture means something only if the epochs predict differently. */
    CHECK(starts(want_b1, "predicts") && strcmp(want_b1, want_best) != 0,
          "epoch 1 and the best checkpoint differ: '%s' vs '%s'", want_b1, want_best);

    FnvWindow *w = fnv_window_new(NULL, NULL);
    g_object_ref_sink(w);
    gtk_window_present(GTK_WINDOW(w));
    const char *const paths[] = {run, image};
    fnv_window_open_paths(w, paths, 2);
    CHECK(settle(w), "the run and the image are shown");
    FnvEpochSlider *slider = FNV_EPOCH_SLIDER(child(w, "epoch_slider"));
    FnvHistoryView *history = FNV_HISTORY_VIEW(child(w, "history_view"));
    int n, epoch = -1, mark = -1;
    const int *kb = fnv_epoch_slider_kept(slider, 0, &n);
    CHECK(n == 3 && kb[0] == 1 && kb[2] == 3, "the baseline kept epochs 1 to 3: %d", n);
    kb = fnv_epoch_slider_kept(slider, 1, &n);
    CHECK(n == 1 && kb[0] == 2, "the FocusNet kept epoch 2: %d", n);
    CHECK(gtk_widget_get_visible(GTK_WIDGET(slider)), "the slider shows");
    CHECK(fnv_history_view_epochs(history, 0) == 3 && fnv_history_view_epochs(history, 1) == 2 &&
              gtk_widget_get_visible(GTK_WIDGET(history)),
          "history: 3 and 2 epochs");
    CHECK(starts(caption(w, "panel_base"), want_best) &&
              starts(caption(w, "panel_focus"), want_fbest),
          "as opened: '%s' / '%s', want '%s' / '%s'", caption(w, "panel_base"),
          caption(w, "panel_focus"), want_best, want_fbest);

    /* Epoch 1: the baseline's epoch-001, the FocusNet left out. */
    g_object_set(slider, "epoch", 1, NULL);
    CHECK(settle(w), "epoch 1 shown");
    CHECK(starts(caption(w, "panel_base"), want_b1), "epoch 1, baseline: '%s', want '%s'",
          caption(w, "panel_base"), want_b1);
    CHECK(strcmp(caption(w, "panel_focus"), "") == 0, "epoch 1, no FocusNet prediction: '%s'",
          caption(w, "panel_focus"));
    CHECK(title(w, "panel_base") && strstr(title(w, "panel_base"), "epoch-001.safetensors"),
          "the baseline's title names epoch-001: %s", title(w, "panel_base"));
    const char *head = gtk_label_get_text(GTK_LABEL(child(w, "image_title")));
    CHECK(strstr(head, "epoch 1") != NULL, "the image title says epoch 1: %s", head);
    g_object_get(history, "mark-epoch", &mark, NULL);
    CHECK(mark == 1, "history marks epoch 1: %d", mark);

    /* Epoch 2: both runs kept it. */
    g_object_set(slider, "epoch", 2, NULL);
    CHECK(settle(w), "epoch 2 shown");
    CHECK(starts(caption(w, "panel_base"), want_b2) && starts(caption(w, "panel_focus"), want_f2),
          "epoch 2: '%s' / '%s', want '%s' / '%s'", caption(w, "panel_base"),
          caption(w, "panel_focus"), want_b2, want_f2);
    /* Back to epoch 1 (cached), then the checkpoints as opened again. */
    g_object_set(slider, "epoch", 1, NULL);
    CHECK(settle(w) && starts(caption(w, "panel_base"), want_b1), "epoch 1 again: '%s'",
          caption(w, "panel_base"));
    g_object_set(slider, "epoch", 0, NULL);
    CHECK(settle(w) && starts(caption(w, "panel_base"), want_best) &&
              starts(caption(w, "panel_focus"), want_fbest),
          "as opened again: '%s' / '%s'", caption(w, "panel_base"), caption(w, "panel_focus"));
    CHECK(title(w, "panel_base") && strstr(title(w, "panel_base"), "best.safetensors"),
          "the title names the opened checkpoint again: %s", title(w, "panel_base"));
    /* An epoch no run kept: the slider stays as opened. */
    g_object_set(slider, "epoch", 7, NULL);
    g_object_get(slider, "epoch", &epoch, NULL);
    CHECK(epoch == 0, "epoch 7, kept by no run, shows the checkpoints as opened: %d", epoch);

    /* A corrupt checkpoint at epoch 3 (the baseline's): a message naming it. */
    char *b3 = g_strdup_printf("%s/baseline/epochs/epoch-003.safetensors", run);
    g_file_set_contents(b3, "not a checkpoint", -1, NULL);
    g_object_set(slider, "epoch", 3, NULL);
    CHECK(settle(w), "epoch 3 settled");
    const char *msg = gtk_label_get_text(GTK_LABEL(child(w, "error_label")));
    CHECK(strstr(msg, "epoch-003.safetensors") != NULL, "a corrupt epoch named: '%s'", msg);

    gtk_window_destroy(GTK_WINDOW(w));
    g_object_unref(w);
    while (g_main_context_pending(NULL))
        g_main_context_iteration(NULL, FALSE);
    for (char **p = (char *[]){best, fbest, b1, b2, f2, b3, want_best, want_fbest, want_b1,
                               want_b2, want_f2, NULL};
         *p; p++)
        g_free(*p);
    fn_device_free(dev);
    return check_summary("epochs");
}
