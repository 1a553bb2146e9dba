/* focusnet plot: the training curves of one or more runs (training loss and
 * test top-1 per epoch, read from each run's log.jsonl) in one PNG, written
 * atomically as `focusnet cam` writes its pictures. A folder of focusnet demo
 * (baseline/ and focusnet/ inside) stands for both its runs. */
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "draw.h"

enum { MAX_RUNS = 16 };

typedef struct {
    char dir[4096], label[256];
    fn_run_history h;
} run_log;

static int is_file(const char *dir, const char *name)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The last path component, trailing slashes left out. */
static void base_label(const char *dir, char *out, size_t n)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t s = len;
    while (s > 0 && dir[s - 1] != '/')
        s--;
    snprintf(out, n, "%.*s", (int)(len - s), dir + s);
}

int cmd_plot(int argc, char **argv)
{
    cli_opt opts[] = {{"out", "FILE.png", "where to write the picture (required)", NULL},
                      {"width", "PX", "picture width (800)", NULL},
                      {"height", "PX", "picture height (320)", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[MAX_RUNS];
    int n_pos, rc = cli_parse("plot", "RUN_DIR... --out FILE.png [options]", opts, argc, argv, pos,
                              MAX_RUNS, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    if (n_pos < 1) {
        fprintf(stderr, "focusnet plot: needs at least one run folder (see 'focusnet plot "
                        "--help')\n");
        return EXIT_USAGE;
    }
    const char *out = cli_get(opts, "out");
    if (!out) {
        fprintf(stderr, "focusnet plot: needs --out FILE.png\n");
        return EXIT_USAGE;
    }
    long width = 800, height = 320;
    if ((rc = cli_int("plot", opts, "width", 200, 8192, &width)) ||
        (rc = cli_int("plot", opts, "height", 120, 8192, &height)))
        return rc;
    run_log *runs = calloc(2 * MAX_RUNS, sizeof *runs);
    if (!runs) return EXIT_RUNTIME;
    int n = 0;
    for (int i = 0; i < n_pos; i++) {
        char b[4200], f[4200];
        snprintf(b, sizeof b, "%s/baseline", pos[i]);
        snprintf(f, sizeof f, "%s/focusnet", pos[i]);
        if (!is_file(pos[i], "log.jsonl") && is_file(b, "log.jsonl") && is_file(f, "log.jsonl")) {
            snprintf(runs[n].dir, sizeof runs[n].dir, "%s", b);
            snprintf(runs[n++].label, sizeof runs[0].label, "baseline");
            snprintf(runs[n].dir, sizeof runs[n].dir, "%s", f);
            snprintf(runs[n++].label, sizeof runs[0].label, "FocusNet");
        } else {
            snprintf(runs[n].dir, sizeof runs[n].dir, "%s", pos[i]);
            base_label(pos[i], runs[n].label, sizeof runs[n].label);
            n++;
        }
    }
    /* The library reads the log it writes (fn_run_history_read). */
    for (int i = 0; i < n && !rc; i++)
        if (fn_run_history_read(runs[i].dir, &runs[i].h) != FN_OK) rc = cli_fail("plot");
    fnv_curve curves[2 * MAX_RUNS];
    for (int i = 0; i < n; i++)
        curves[i] = (fnv_curve){runs[i].label, runs[i].h.n, runs[i].h.epoch, runs[i].h.train_loss,
                                runs[i].h.test_top1};
    if (!rc) {
        cairo_surface_t *s =
            cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)width, (int)height);
        cairo_t *cr = cairo_create(s);
        fnv_draw_curves(cr, (double)width, (double)height, curves, n);
        cairo_destroy(cr);
        unsigned char *png = NULL;
        size_t len = 0;
        cairo_status_t cs = fnv_png_encode(s, &png, &len);
        if (cs != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "focusnet plot: cannot encode %s: %s\n", out,
                    cairo_status_to_string(cs));
            rc = EXIT_RUNTIME;
        } else if (fn_write_file_atomic(out, png, len) != FN_OK) {
            rc = cli_fail("plot");
        } else {
            printf("%s\n", out);
        }
        free(png);
        cairo_surface_destroy(s);
    }
    for (int i = 0; i < n; i++)
        fn_run_history_free(&runs[i].h);
    free(runs);
    return rc;
}
