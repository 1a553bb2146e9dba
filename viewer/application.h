/* focusnet-viewer as a GtkApplication: command-line options, the window,
 * quitting on SIGINT and SIGTERM. */
#ifndef FNV_APPLICATION_H
#define FNV_APPLICATION_H

#include <gtk/gtk.h>

#define FNV_APP_ID "io.github.focusnet.Viewer"
#define FNV_TYPE_APPLICATION (fnv_application_get_type())
G_DECLARE_FINAL_TYPE(FnvApplication, fnv_application, FNV, APPLICATION, GtkApplication)

FnvApplication *fnv_application_new(void);

#endif
