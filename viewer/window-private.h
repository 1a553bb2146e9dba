/* The window's instance, shared by window.c (state, jobs, display) and
 * window-actions.c (actions, file choosers, drops). */
#ifndef FNV_WINDOW_PRIVATE_H
#define FNV_WINDOW_PRIVATE_H

#include "class-plot.h"
#include "epoch-slider.h"
#include "history-view.h"
#include "image-list.h"
#include "model-panel.h"
#include "pair-view.h"
#include "present-view.h"
#include "warm-matrix.h"
#include "window.h"
#include "worker.h"

struct _FnvWindow {
    GtkApplicationWindow parent;
    /* template children */
    GtkRevealer *error_revealer;
    GtkLabel *error_label, *status_label, *image_title, *label_caption;
    GtkLabel *conf_title_base, *conf_title_focus;
    GtkDropDown *class_dropdown, *method_dropdown, *colormap_dropdown, *rule_dropdown;
    GtkStringList *class_model;
    GtkScale *opacity_scale;
    GtkCheckButton *shared_scale_check;
    GtkSpinner *spinner;
    FnvImageList *image_list;
    GtkWidget *view_box, *confusion_box;
    FnvModelPanel *panel_base, *panel_focus;
    FnvLabelView *label_view;
    FnvConfusionView *conf_base, *conf_focus;
    FnvPairView *pair_view;
    FnvWarmMatrix *warm_matrix;
    FnvPresentView *present_view;
    GtkToggleButton *present_toggle;
    GtkStack *stack;
    GtkWidget *toolbar;
    GtkEventController *present_keys;
    GtkToggleButton *pair_toggle;
    FnvEpochSlider *epoch_slider;
    FnvHistoryView *history_view;

    /* properties: what the user chose */
    int cls; /* the class to map, -1 for the top class */
    gboolean grad_cam;
    fn_colormap colormap;
    double opacity;
    gboolean shared_scale;
    int multiwarm_rule;     /* 0: logit > 0, 1: softmax(z/2) > 1/K */
    int first_index;        /* dataset image to show once the split is in, -1 */
    int pair_class;         /* the confusing pair's class B: -1 automatic, -2 no pair view */
    int warm_row, warm_col; /* the multi-warm cell to list once the split is in, -1 */
    gboolean present;       /* the presentation mode (issue 17.5) */
    gboolean busy;

    FnvWorker *worker;
    gboolean disposed;
    int pending; /* jobs submitted and not yet handed back */
    FnvModelInfo info[FNV_SLOTS];
    int image_gen;                  /* the newest image job */
    FnvJob *shown;                  /* the last image's results */
    FnvJob *dataset;                /* the dataset split's results */
    int updating;                   /* set while the window changes its own controls */
    char *screenshot, *export_path; /* written once everything asked for is shown */
    gboolean quit_after, shot_scheduled, describe;
    int shot_frames;
};

/* The message in the info bar and on stderr. */
void fnv_window_show_error(FnvWindow *self, const char *msg);
void fnv_window_submit_dataset(FnvWindow *self, const char *spec, const char *split, int limit);
/* A checkpoint into slot (-1: by its loss); replace closes the other model. */
void fnv_window_load(FnvWindow *self, const char *path, int slot, int replace);
/* Schedules the screenshot asked for once nothing is pending (window-actions.c). */
void fnv_window_maybe_screenshot(FnvWindow *self);
/* window-bind.c: the properties bound to their controls (once, at init). */
void fnv_window_bind_controls(FnvWindow *self);
/* window-actions.c: installs the win.* actions (class_init) and the drop
 * target (init). */
void fnv_window_class_install_actions(GtkWidgetClass *wc);
void fnv_window_add_drop_target(FnvWindow *self);
/* window-views.c: the views of issue 17. */
void fnv_window_class_bind_views(GtkWidgetClass *wc);
void fnv_window_init_views(FnvWindow *self);
/* The multi-warm matrix of the split under the rule chosen, and the list's
 * membership with it. */
void fnv_window_update_warm(FnvWindow *self);
/* The list's multi-warm cell outlined in the matrix (after the filter changed). */
void fnv_window_select_warm(FnvWindow *self);
/* After "present" or "pair-class" changed: the page, the toolbar; the pair
 * view and its toggle, and the image asked for again. */
void fnv_window_apply_present(FnvWindow *self);
void fnv_window_apply_pair(FnvWindow *self);
/* The pair and presentation views follow the image shown (label: the
 * baseline's multi-warm label, NULL without a baseline), the look, and the
 * image cleared. */
void fnv_window_show_views(FnvWindow *self, const FnvJob *j, int k, const char *const *names,
                           const float *label);
void fnv_window_style_views(FnvWindow *self);
void fnv_window_clear_views(FnvWindow *self, const char *why);
/* window.c: "b.png — true class: Bag", or the split's image #N. */
char *fnv_window_image_title(FnvWindow *self, const char *path, int index, int true_class);
/* Asks the worker for the current image again (window.c). */
void fnv_window_refresh_image(FnvWindow *self);
/* window-training.c, the runs along training (issue 17.3, 17.4): binds the
 * epoch slider and the history view (class_init); rereads the runs of the
 * models open (a model was loaded); fills an image job's checkpoints for
 * the epoch shown; shows one panel of an image job. */
void fnv_window_class_bind_training(GtkWidgetClass *wc);
void fnv_window_update_runs(FnvWindow *self);
void fnv_window_job_epoch(FnvWindow *self, FnvJob *j);
void fnv_window_show_slot(FnvWindow *self, const FnvJob *j, int slot, int k,
                          const char *const *names);

#endif
