/* focusnet-viewer: see application.c for the options and window.c for the window. */
#include "application.h"

int main(int argc, char **argv)
{
    FnvApplication *app = fnv_application_new();
    int rc = g_application_run(G_APPLICATION(app), argc, argv);
    g_object_unref(app);
    return rc;
}
