/* focusnet bench: how fast the building blocks run on a device.
 *
 * `bench train` (cmd_bench_train.c) times whole training steps and
 * evaluation forwards of a model (images/s), optionally with the device time
 * of every kernel; bench/torch_ratio.py compares it with PyTorch. `bench
 * layers` (cmd_bench_layers.c) times every distinct layer of a model forward
 * and backward. Both go through the public API only: the training step and
 * the layers are the library's own (fn_trainer_step, fn_model_layer_*). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int host_oom;

fn_status bench_oom(void)
{
    host_oom = 1;
    return FN_ERR_NOMEM;
}

int bench_fail(const char *cmd)
{
    if (!host_oom) return cli_fail(cmd);
    fprintf(stderr, "focusnet %s: out of host memory\n", cmd);
    return EXIT_RUNTIME;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    if (v[0] < 0) return -1;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void bench_random(float *v, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < n; i++) {
        /* splitmix64, then Box-Muller on two 24-bit uniforms in (0, 1) */
        double u[2];
        for (int k = 0; k < 2; k++) {
            uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            z ^= z >> 31;
            u[k] = ((double)(z >> 40) + 0.5) / 16777216.0;
        }
        v[i] = (float)(sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]));
    }
}

/* Each mode is its own benchmark with its own options. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} modes[] = {
    {"layers", bench_layers, "time each layer's forward and backward on a device"},
    {"train", bench_train, "training and inference images/s of a whole model"},
    {"cam", bench_cam, "how long the viewer waits for one image's class activation map"},
    {"allreduce", bench_allreduce, "gradient staging and allreduce time (under mpirun)"},
};

int cmd_bench(int argc, char **argv)
{
    const size_t n_modes = sizeof modes / sizeof modes[0];
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: focusnet bench MODE [options]   (focusnet bench MODE --help for more)\n\n"
               "modes:\n");
        for (size_t i = 0; i < n_modes; i++)
            printf("  %-10s %s\n", modes[i].name, modes[i].help);
        return 0;
    }
    for (size_t i = 0; argc >= 1 && i < n_modes; i++)
        if (strcmp(argv[0], modes[i].name) == 0) return modes[i].run(argc - 1, argv + 1);
    if (argc < 1)
        fprintf(stderr, "focusnet bench: which benchmark? (modes:");
    else
        fprintf(stderr, "focusnet bench: unknown mode '%s' (modes:", argv[0]);
    for (size_t i = 0; i < n_modes; i++)
        fprintf(stderr, " %s", modes[i].name);
    fprintf(stderr, "; see 'focusnet bench --help')\n");
    return EXIT_USAGE;
}
