/* A run's kept epochs: see epochs.h. */
#include <stdlib.h>
#include <string.h>

#include "epochs.h"

char *fnv_run_dir_of(const char *checkpoint)
{
    char *dir = g_path_get_dirname(checkpoint);
    char *base = g_path_get_basename(dir);
    if (strcmp(base, "epochs") == 0) {
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
    g_free(base);
    return dir;
}

char *fnv_epoch_checkpoint(const char *run_dir, int epoch)
{
    return g_strdup_printf("%s/epochs/epoch-%03d.safetensors", run_dir, epoch);
}

/* The epoch of "epoch-NNN.safetensors", or 0: the name must be the one
 * fnv_epoch_checkpoint writes for its number (no sign, no extra zeros). */
static int epoch_of(const char *name)
{
    const char *p = name + strlen("epoch-");
    if (strncmp(name, "epoch-", 6) != 0 || !g_ascii_isdigit(*p)) return 0;
    char *end;
    long e = strtol(p, &end, 10);
    if (e < 1 || e > 999999 || strcmp(end, ".safetensors") != 0) return 0;
    char canon[32];
    g_snprintf(canon, sizeof canon, "%03ld", e);
    return (size_t)(end - p) == strlen(canon) && strncmp(p, canon, strlen(canon)) == 0 ? (int)e : 0;
}

static int by_value(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int *fnv_kept_epochs(const char *run_dir, int *n)
{
    *n = 0;
    if (!run_dir) return NULL;
    char *folder = g_build_filename(run_dir, "epochs", NULL);
    GDir *d = g_dir_open(folder, 0, NULL);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        int e = epoch_of(name);
        char *path = e ? g_build_filename(folder, name, NULL) : NULL;
        /* A checkpoint being written is NAME.tmp-PID (fn_write_file_atomic):
         * not an epoch until it is renamed. */
        if (path && g_file_test(path, G_FILE_TEST_IS_REGULAR)) g_array_append_val(out, e);
        g_free(path);
    }
    if (d) g_dir_close(d);
    g_free(folder);
    g_array_sort(out, by_value);
    *n = (int)out->len;
    return (int *)g_array_free(out, out->len == 0);
}
