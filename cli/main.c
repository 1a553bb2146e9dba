/* focusnet: the command-line front end. Each subcommand lives in cmd_NAME.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"models", cmd_models, "list the models with their parameters and FLOPs"},
    {"train", cmd_train, "train a baseline (ce, ls, kd) or a FocusNet (focus)"},
    {"eval", cmd_eval, "evaluate a checkpoint on a dataset split"},
    {"predict", cmd_predict, "classify image files with a checkpoint"},
    {"demo", cmd_demo, "baseline, then FocusNet, on Fashion-MNIST with LeNet-5"},
    {"bench", cmd_bench, "benchmarks: 'bench layers' times each layer on a device"},
    {"compare", cmd_compare, "baseline against FocusNet (and LS, KD, ...) over seeds, paired"},
    {"cam", cmd_cam, "an image with the class activation map of a checkpoint over it"},
    {"plot", cmd_plot, "training curves (loss, test top-1 per epoch) of runs as a PNG"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: focusnet COMMAND [options]   (focusnet COMMAND --help for more)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n  --version  print the version\n  --help     show this help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("focusnet %s\n", FOCUSNET_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "focusnet: unknown command '%s' (see 'focusnet --help')\n", cmd);
    return EXIT_USAGE;
}
