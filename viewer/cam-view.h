/* An image with its class activation map over it and the colour scale under
 * it: a drawing area that holds copies of what it shows. */
#ifndef FNV_CAM_VIEW_H
#define FNV_CAM_VIEW_H

#include <gtk/gtk.h>

#include "focusnet.h"

#define FNV_TYPE_CAM_VIEW (fnv_cam_view_get_type())
G_DECLARE_FINAL_TYPE(FnvCamView, fnv_cam_view, FNV, CAM_VIEW, GtkDrawingArea)

/* pixels (C, H, W) in [0, 1], heat (H, W) or NULL; both copied. */
void fnv_cam_view_set_image(FnvCamView *self, const float *pixels, int c, int h, int w,
                            const float *heat);
/* No image: the text instead. */
void fnv_cam_view_clear(FnvCamView *self, const char *text);
void fnv_cam_view_set_style(FnvCamView *self, float lo, float hi, fn_colormap cm, double opacity);
/* The heatmap's value range, [INFINITY, -INFINITY] when there is none. */
void fnv_cam_view_get_range(FnvCamView *self, float *lo, float *hi);

#endif
