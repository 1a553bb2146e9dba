/* focusnet-viewer: see application.c for the options and window.c for the window. */
#include "application.h"
#include "export.h"

int main(int argc, char **argv)
{
    FnvApplication *app = fnv_application_new();
    int rc = g_application_run(G_APPLICATION(app), argc, argv);
    g_object_unref(app);
    /* A --screenshot or --export that could not be written is a failure. */
    if (rc == 0 && fnv_export_failures() > 0) rc = 1;
    return rc;
}
