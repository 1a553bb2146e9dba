/* The window's views of the runs along their training (issue 17.3, 17.4):
 * the epoch slider, which replays the current image through the
 * checkpoints the runs kept (epoch-slider.h), and the history view of their
 * logs (history-view.h), the slider's epoch marked on it (window.ui binds
 * the two). Kept out of window.c, which holds the state and the jobs. */
#include "epochs.h"
#include "window-private.h"

static FnvModelPanel *panel_of(FnvWindow *self, int s)
{
    return s == FNV_BASELINE ? self->panel_base : self->panel_focus;
}

static void on_epoch_changed(FnvEpochSlider *slider, GParamSpec *p, FnvWindow *self)
{
    if (!self->updating) fnv_window_refresh_image(self);
}

void fnv_window_class_bind_training(GtkWidgetClass *wc)
{
    g_type_ensure(FNV_TYPE_EPOCH_SLIDER);
    g_type_ensure(FNV_TYPE_HISTORY_VIEW);
    gtk_widget_class_bind_template_child(wc, FnvWindow, epoch_slider);
    gtk_widget_class_bind_template_child(wc, FnvWindow, history_view);
    gtk_widget_class_bind_template_callback(wc, on_epoch_changed);
}

void fnv_window_update_runs(FnvWindow *self)
{
    char *dir[FNV_SLOTS];
    for (int s = 0; s < FNV_SLOTS; s++)
        dir[s] = self->info[s].path ? fnv_run_dir_of(self->info[s].path) : NULL;
    self->updating++; /* load_done asks for the image once, after this */
    fnv_epoch_slider_set_runs(self->epoch_slider, (const char *const *)dir);
    self->updating--;
    fnv_history_view_set_runs(self->history_view, (const char *const *)dir);
    for (int s = 0; s < FNV_SLOTS; s++)
        g_free(dir[s]);
}

void fnv_window_job_epoch(FnvWindow *self, FnvJob *j)
{
    j->epoch = fnv_epoch_slider_get_epoch(self->epoch_slider);
    for (int s = 0; s < FNV_SLOTS; s++) {
        gboolean kept;
        j->ckpt[s] = fnv_epoch_slider_checkpoint(self->epoch_slider, s, &kept);
        j->skip[s] = !kept;
    }
}

/* At an epoch of the slider the panel is titled with that epoch's
 * checkpoint, or says that its run kept none (the other panel is shown). */
void fnv_window_show_slot(FnvWindow *self, const FnvJob *j, int s, int k, const char *const *names)
{
    FnvModelInfo shown = self->info[s];
    if (j->ckpt[s]) shown.path = j->ckpt[s];
    fnv_model_panel_set_model(panel_of(self, s), &shown);
    if (j->skip[s] && self->info[s].path) {
        char *why = fnv_epoch_slider_missing(self->epoch_slider, s);
        fnv_model_panel_clear(panel_of(self, s), why);
        g_free(why);
    } else {
        fnv_model_panel_show(panel_of(self, s), j, s, k, names);
    }
}

void fnv_window_set_epoch(FnvWindow *self, int epoch)
{
    g_object_set(self->epoch_slider, "epoch", epoch, NULL);
}
