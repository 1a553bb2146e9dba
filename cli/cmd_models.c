/* focusnet models: each architecture with its parameters and FLOPs. */
#include <stdio.h>

#include "cli.h"

int cmd_models(int argc, char **argv)
{
    cli_opt opts[] = {{"classes", "K", "number of classes (10)", NULL},
                      {"input", "CxHxW", "input size (3x32x32)", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("models", "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long k = 10;
    if ((rc = cli_int("models", opts, "classes", 1, 100000, &k))) return rc;
    int c = 3, h = 32, w = 32;
    const char *in = cli_get(opts, "input");
    if (in && (sscanf(in, "%dx%dx%d", &c, &h, &w) != 3 || c < 1 || c > 4 || h < 1 || w < 1 ||
               h > 4096 || w > 4096)) {
        fprintf(stderr, "focusnet models: option '--input' takes CxHxW like 3x32x32, not '%s'\n",
                in);
        return EXIT_USAGE;
    }
    printf("%-12s %-9s %6s %12s %14s\n", "model", "stem", "width", "parameters", "forward FLOPs");
    for (const char *const *a = fn_model_arch_names(); *a; a++)
        for (int small = 1; small >= 0; small--) {
            fn_model_config cfg;
            if (fn_model_config_default(&cfg, *a, (int)k, c, h, w) != FN_OK)
                return cli_fail("models");
            int lenet = (*a)[0] == 'l';
            if (lenet && !small) continue;
            cfg.small_stem = small;
            fn_model *m = NULL;
            if (fn_model_create(NULL, &cfg, 1, 1, &m) != FN_OK) {
                printf("%-12s %-9s %6s %12s %14s\n", *a, small ? "small" : "imagenet", "", "-",
                       "input too small");
                continue;
            }
            char wbuf[16] = "";
            if ((*a)[0] == 'm') snprintf(wbuf, sizeof wbuf, "%g", cfg.width);
            printf("%-12s %-9s %6s %12lld %13.3fG\n", *a,
                   lenet   ? "-"
                   : small ? "small"
                           : "imagenet",
                   wbuf, (long long)fn_model_param_count(m), fn_model_flops(m) / 1e9);
            fn_model_free(m);
        }
    printf("for %ld classes and %dx%dx%d input; FLOPs = 2 x multiply-adds of convolutions and "
           "linear layers\n",
           k, c, h, w);
    return 0;
}
