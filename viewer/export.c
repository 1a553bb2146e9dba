#include "export.h"

#include <focusnet.h>

static int export_failures; /* pictures that could not be written, for the exit code */

/* A texture of one colour: the widget has not been drawn yet (under load the
 * first frames can pass before anything is painted). */
static gboolean texture_is_blank(GdkTexture *t)
{
    int w = gdk_texture_get_width(t), h = gdk_texture_get_height(t);
    guint32 *px = g_try_malloc((gsize)w * h * 4);
    if (!px) return FALSE;
    gdk_texture_download(t, (guchar *)px, (gsize)w * 4);
    gboolean blank = TRUE;
    for (gsize i = 1; blank && i < (gsize)w * h; i++) blank = px[i] == px[0];
    g_free(px);
    return blank;
}

gboolean fnv_export_png(GtkWidget *widget, const char *path, GError **error)
{
    int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    GtkNative *native = gtk_widget_get_native(widget);
    GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
    if (w < 1 || h < 1 || !renderer) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing is shown yet to export");
        return FALSE;
    }
    GdkPaintable *paintable = gtk_widget_paintable_new(widget);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    /* A white page under it: the window background may be translucent. */
    gtk_snapshot_append_color(snapshot, &(GdkRGBA){1, 1, 1, 1}, &GRAPHENE_RECT_INIT(0, 0, w, h));
    gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snapshot), w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
    g_object_unref(paintable);
    if (!node) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing is shown yet to export");
        return FALSE;
    }
    GdkTexture *texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    gsk_render_node_unref(node);
    if (texture && texture_is_blank(texture)) {
        g_object_unref(texture);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing is shown yet to export");
        return FALSE;
    }
    /* Encoded in memory, then written as checkpoints are (temporary file,
     * fsync, rename): a full disk keeps the previous picture whole. */
    GBytes *png = texture ? gdk_texture_save_to_png_bytes(texture) : NULL;
    if (texture) g_object_unref(texture);
    gsize size = 0;
    const void *data = png ? g_bytes_get_data(png, &size) : NULL;
    gboolean ok = data && fn_write_file_atomic(path, data, size) == FN_OK;
    if (!ok) {
        export_failures++;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    data ? fn_last_error() : "cannot encode the picture as PNG");
    }
    if (png) g_bytes_unref(png);
    return ok;
}

int fnv_export_failures(void)
{
    return export_failures;
}
