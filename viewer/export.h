/* Writing what a widget shows to a PNG file, through the widget's own renderer. */
#ifndef FNV_EXPORT_H
#define FNV_EXPORT_H

#include <gtk/gtk.h>

/* Written atomically (fn_write_file_atomic); a failure names the file and
 * the system's reason and counts in fnv_export_failures(), which makes the
 * viewer's exit status non-zero. */
gboolean fnv_export_png(GtkWidget *widget, const char *path, GError **error);
int fnv_export_failures(void);

#endif
