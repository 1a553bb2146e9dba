/* One model's column of the window: its title (architecture, loss, file), a
 * caption with its prediction, the image with its class activation map, and
 * its predictions as bars. The window holds two, the baseline and the
 * FocusNet. Signal "class-activated" (int): a bar was clicked; "pair-activated"
 * (int): a bar was right-clicked (pair it with the true class, issue 17.1). */
#ifndef FNV_MODEL_PANEL_H
#define FNV_MODEL_PANEL_H

#include <gtk/gtk.h>

#include "cam-view.h"
#include "worker.h"

#define FNV_TYPE_MODEL_PANEL (fnv_model_panel_get_type())
G_DECLARE_FINAL_TYPE(FnvModelPanel, fnv_model_panel, FNV, MODEL_PANEL, GtkWidget)

/* The model shown, NULL for none: the title and its tooltip. */
void fnv_model_panel_set_model(FnvModelPanel *self, const FnvModelInfo *info);
/* No image: text (NULL: the "placeholder" property, "" or NULL text: nothing)
 * where the image was, no bars, no caption. */
void fnv_model_panel_clear(FnvModelPanel *self, const char *text);
void fnv_model_panel_clear_placeholder(FnvModelPanel *self);
/* The panel's slot of an image job: the image, its map, the softmax of its
 * logits as bars and the caption; names (K) are the classes. */
void fnv_model_panel_show(FnvModelPanel *self, const FnvJob *j, int slot, int k,
                          const char *const *names);
/* The caption shown ("predicts Coat (52.1%) · CAM of Coat"), "" for none. */
const char *fnv_model_panel_get_caption(FnvModelPanel *self);
/* Where the window sets the colour scale shared by both panels. */
FnvCamView *fnv_model_panel_get_cam_view(FnvModelPanel *self);

#endif
