/* The window's properties bound to its controls (drop-downs, the opacity
 * scale, check and toggle buttons, the spinner), with the conversions
 * between a drop-down's row and the property's value. */
#include "window-private.h"

/* The class drop-down's row 0 is "Top class" (class-index -1); a row past its
 * end (the classes not known yet) or none leaves the other side as it is. */
static gboolean class_from_row(GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    guint row = g_value_get_uint(from);
    if (row == GTK_INVALID_LIST_POSITION) return FALSE;
    g_value_set_int(to, (int)row - 1);
    return TRUE;
}

static gboolean row_from_class(GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    FnvWindow *self = data;
    guint row = (guint)(g_value_get_int(from) + 1);
    if (row >= g_list_model_get_n_items(G_LIST_MODEL(self->class_model))) return FALSE;
    g_value_set_uint(to, row);
    return TRUE;
}

/* GtkDropDown "selected" (guint) <-> an int or boolean property. */
static gboolean from_row(GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    guint row = g_value_get_uint(from);
    if (row == GTK_INVALID_LIST_POSITION) return FALSE;
    if (G_VALUE_HOLDS_BOOLEAN(to))
        g_value_set_boolean(to, row != 0);
    else
        g_value_set_int(to, (int)row);
    return TRUE;
}

static gboolean to_row(GBinding *b, const GValue *from, GValue *to, gpointer data)
{
    g_value_set_uint(to, G_VALUE_HOLDS_BOOLEAN(from) ? (guint)g_value_get_boolean(from)
                                                     : (guint)g_value_get_int(from));
    return TRUE;
}

void fnv_window_bind_controls(FnvWindow *self)
{
    GBindingFlags both = G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE;
    g_object_bind_property_full(self, "class-index", self->class_dropdown, "selected", both,
                                row_from_class, class_from_row, self, NULL);
    g_object_bind_property_full(self, "grad-cam", self->method_dropdown, "selected", both, to_row,
                                from_row, NULL, NULL);
    g_object_bind_property_full(self, "colormap", self->colormap_dropdown, "selected", both, to_row,
                                from_row, NULL, NULL);
    g_object_bind_property_full(self, "multiwarm-rule", self->rule_dropdown, "selected", both,
                                to_row, from_row, NULL, NULL);
    g_object_bind_property(self, "opacity",
                           gtk_range_get_adjustment(GTK_RANGE(self->opacity_scale)), "value", both);
    g_object_bind_property(self, "shared-scale", self->shared_scale_check, "active", both);
    g_object_bind_property(self, "busy", self->spinner, "spinning", G_BINDING_SYNC_CREATE);
    g_object_bind_property(self, "present", self->present_toggle, "active", both);
}
