/* Writing what a widget shows to a PNG file, through the widget's own renderer. */
#ifndef FNV_EXPORT_H
#define FNV_EXPORT_H

#include <gtk/gtk.h>

gboolean fnv_export_png(GtkWidget *widget, const char *path, GError **error);

#endif
