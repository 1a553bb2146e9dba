/* focusnet eval and focusnet predict: a checkpoint on a dataset split, or on
 * image files. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char **class_names(const fn_model *m)
{
    int k = fn_model_get_config(m)->classes;
    const char **names = malloc((size_t)k * sizeof *names);
    for (int i = 0; names && i < k; i++)
        names[i] = strdup(fn_model_class_name(m, i));
    return names;
}

static void free_names(const char **names, int k)
{
    for (int i = 0; names && i < k; i++)
        free((void *)names[i]);
    free(names);
}

int cmd_eval(int argc, char **argv)
{
    cli_opt opts[] = {{"data", "SPEC", "dataset (default: the one the checkpoint names)", NULL},
                      {"split", "NAME", "train or test (test)", NULL},
                      {"limit", "N", "at most N images", NULL},
                      {"batch", "N", "batch size (128)", NULL},
                      {"device", "N|NAME", "OpenCL device", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("eval", "CHECKPOINT [options]", opts, argc, argv, pos, 1, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    if (n_pos != 1) {
        fprintf(stderr, "focusnet eval: needs a checkpoint (see 'focusnet eval --help')\n");
        return EXIT_USAGE;
    }
    long limit = 0, batch = 128;
    if ((rc = cli_int("eval", opts, "limit", 1, 1L << 30, &limit)) ||
        (rc = cli_int("eval", opts, "batch", 1, 65536, &batch)))
        return rc;
    const char *split = cli_get(opts, "split") ? cli_get(opts, "split") : "test";
    if (strcmp(split, "train") && strcmp(split, "test")) {
        fprintf(stderr, "focusnet eval: option '--split' takes train or test, not '%s'\n", split);
        return EXIT_USAGE;
    }
    fn_device *dev = NULL;
    fn_model *m = NULL;
    if (fn_device_open(cli_get(opts, "device"), &dev) != FN_OK) return cli_fail("eval");
    if (fn_checkpoint_load(dev, pos[0], NULL, (int)batch, 0, &m) != FN_OK) {
        fn_device_free(dev);
        return cli_fail("eval");
    }
    const char *data = cli_get(opts, "data");
    if (!data && strcmp(fn_model_dataset(m), "fashion-mnist") == 0) data = "fashion-mnist";
    if (!data) {
        fprintf(stderr, "focusnet eval: %s was trained on '%s'; say where it is with --data SPEC\n",
                pos[0], fn_model_dataset(m));
        fn_model_free(m);
        fn_device_free(dev);
        return EXIT_USAGE;
    }
    fn_eval_report r;
    rc = 0;
    if (fn_evaluate(m, data, split, (int)limit, &r) != FN_OK) {
        rc = cli_fail("eval");
    } else {
        const char **names = class_names(m);
        printf("%s on %s (%s):\n", pos[0], data, split);
        cli_print_report(&r, names, 1);
        free_names(names, r.classes);
        fn_eval_report_free(&r);
    }
    fn_model_free(m);
    fn_device_free(dev);
    return rc;
}

/* A number as "%.6g" prints it (what predict --json always wrote), as JSON:
 * cJSON writes a NaN or infinity as null. */
static cJSON *num6(double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.6g", v);
    return cJSON_CreateNumber(isfinite(v) ? strtod(b, NULL) : v);
}

static cJSON *str_json(const char *s)
{
    char *clean = fn_utf8_sanitize(s);
    cJSON *j = cJSON_CreateString(clean ? clean : "");
    free(clean);
    return j;
}

/* One image's answer as a JSON line, built by cJSON: quotes, backslashes and
 * control characters in the path or a class name are escaped, bytes that are
 * not UTF-8 become U+FFFD. Returns 0 when memory ran out. */
static int print_json_line(const fn_model *m, const char *image, const int *order, int top,
                           const float *z, const float *p, int k)
{
    cJSON *o = cJSON_CreateObject(), *t = cJSON_CreateArray(), *zl = cJSON_CreateArray(),
          *pl = cJSON_CreateArray();
    cJSON_AddItemToObject(o, "image", str_json(image));
    for (int j = 0; j < top && j < k; j++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "class", order[j]);
        cJSON_AddItemToObject(e, "name", str_json(fn_model_class_name(m, order[j])));
        cJSON_AddItemToObject(e, "p", num6(p[order[j]]));
        cJSON_AddItemToArray(t, e);
    }
    for (int j = 0; j < k; j++) {
        cJSON_AddItemToArray(zl, num6(z[j]));
        cJSON_AddItemToArray(pl, num6(p[j]));
    }
    cJSON_AddItemToObject(o, "top", t);
    cJSON_AddItemToObject(o, "logits", zl);
    cJSON_AddItemToObject(o, "probabilities", pl);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line) {
        fprintf(stderr, "focusnet predict: out of host memory\n");
        return 0;
    }
    printf("%s\n", line);
    free(line);
    return 1;
}

int cmd_predict(int argc, char **argv)
{
    cli_opt opts[] = {{"top", "K", "how many classes to show (5)", NULL},
                      {"json", NULL, "print logits and probabilities as JSON lines", NULL},
                      {"device", "N|NAME", "OpenCL device", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[256];
    int n_pos, rc = cli_parse("predict", "CHECKPOINT IMAGE... [options]", opts, argc, argv, pos,
                              256, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    if (n_pos < 2) {
        fprintf(stderr, "focusnet predict: needs a checkpoint and at least one image\n");
        return EXIT_USAGE;
    }
    long top = 5;
    if ((rc = cli_int("predict", opts, "top", 1, 100000, &top))) return rc;
    int json = cli_get(opts, "json") != NULL;
    fn_device *dev = NULL;
    fn_model *m = NULL;
    if (fn_device_open(cli_get(opts, "device"), &dev) != FN_OK) return cli_fail("predict");
    if (fn_checkpoint_load(dev, pos[0], NULL, 1, 0, &m) != FN_OK) {
        fn_device_free(dev);
        return cli_fail("predict");
    }
    int k = fn_model_get_config(m)->classes;
    float *z = malloc((size_t)k * sizeof *z);
    float *p = malloc((size_t)k * sizeof *p);
    int *order = malloc((size_t)k * sizeof *order);
    for (int i = 1; z && p && order && i < n_pos; i++) {
        if (fn_model_predict_file(m, pos[i], z) != FN_OK) {
            rc = cli_fail("predict");
            continue; /* the other images still get their answer */
        }
        fn_softmax(z, k, p);
        for (int j = 0; j < k; j++)
            order[j] = j;
        for (int a = 0; a < k; a++) /* partial selection sort: top K first */
            for (int b = a + 1; b < k && a < top; b++)
                if (p[order[b]] > p[order[a]]) {
                    int t = order[a];
                    order[a] = order[b];
                    order[b] = t;
                }
        if (json) {
            if (!print_json_line(m, pos[i], order, (int)top, z, p, k)) rc = EXIT_RUNTIME;
        } else {
            printf("%s:\n", pos[i]);
            for (int j = 0; j < top && j < k; j++)
                printf("  %6.2f%%  %s\n", 100 * p[order[j]], fn_model_class_name(m, order[j]));
        }
    }
    free(z);
    free(p);
    free(order);
    fn_model_free(m);
    fn_device_free(dev);
    return rc;
}
