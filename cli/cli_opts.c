/* Option parsing for every subcommand with getopt_long: --name VALUE,
 * --name=VALUE, flags; names match whole, and the messages are focusnet's. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_help(const char *cmd, const char *usage, const cli_opt *opts)
{
    printf("usage: focusnet %s %s\n\noptions:\n", cmd, usage);
    for (const cli_opt *o = opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "--help", "show this help");
}

/* Which element of av holds the option getopt_long just returned (the last
 * one it consumed, or the one before for a separate value). */
static const char *option_text(char **av, int optind_now, int separate_value)
{
    return av[optind_now - 1 - (separate_value ? 1 : 0)];
}

/* 1 when arg ("--name" or "--name=value") names exactly `name`: getopt_long
 * also takes unambiguous abbreviations, which focusnet's options never did. */
static int exact(const char *arg, const char *name)
{
    size_t len = strcspn(arg + 2, "=");
    return strncmp(arg, "--", 2) == 0 && strlen(name) == len && strncmp(arg + 2, name, len) == 0;
}

static int unknown(const char *cmd, const char *arg)
{
    fprintf(stderr, "focusnet %s: unknown option '%s' (see 'focusnet %s --help')\n", cmd, arg, cmd);
    return EXIT_USAGE;
}

int cli_parse(const char *cmd, const char *usage, cli_opt *opts, int argc, char **argv,
              const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    int n = 0;
    while (opts[n].name)
        n++;
    /* getopt_long wants a program name first and permutes what it parses:
     * hand it a copy. Option i returns 256 + i, --help and -h 'h'. */
    struct option *lo = calloc((size_t)n + 2, sizeof *lo);
    char **av = calloc((size_t)argc + 2, sizeof *av);
    if (!lo || !av) {
        free(lo);
        free(av);
        fprintf(stderr, "focusnet %s: out of host memory\n", cmd);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n; i++)
        lo[i] = (struct option){opts[i].name, opts[i].arg ? required_argument : no_argument, NULL,
                                256 + i};
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    av[0] = (char *)cmd;
    for (int i = 0; i < argc; i++)
        av[i + 1] = argv[i];
    int ac = argc + 1, rc = 0, c, idx;
    optind = 0; /* a full reset: cli_parse runs more than once per process (demo) */
    opterr = 0; /* the messages are ours */
    while (rc == 0 && (c = getopt_long(ac, av, ":h", lo, &idx)) != -1) {
        if (c == 'h') {
            const char *a = option_text(av, optind, 0);
            if (strcmp(a, "-h") != 0 && !exact(a, "help")) {
                rc = unknown(cmd, a);
                break;
            }
            print_help(cmd, usage, opts);
            rc = -1;
        } else if (c >= 256) {
            cli_opt *o = &opts[c - 256];
            const char *a = option_text(av, optind, o->arg && !strchr(av[optind - 1], '='));
            if (!exact(a, o->name))
                rc = unknown(cmd, a);
            else
                o->value = o->arg ? optarg : "1";
        } else if (c == ':' && optopt >= 256) {
            const cli_opt *o = &opts[optopt - 256];
            if (!exact(av[optind - 1], o->name))
                rc = unknown(cmd, av[optind - 1]);
            else {
                fprintf(stderr, "focusnet %s: option '--%s' needs a value (%s)\n", cmd, o->name,
                        o->arg);
                rc = EXIT_USAGE;
            }
        } else if (optopt >= 256 && exact(av[optind - 1], opts[optopt - 256].name)) {
            fprintf(stderr, "focusnet %s: option '--%s' takes no value\n", cmd,
                    opts[optopt - 256].name);
            rc = EXIT_USAGE;
        } else {
            /* An unknown long option has been stepped over; an unknown short
             * one may sit inside a cluster ("-xy") that getopt has not left. */
            const char *a = av[optind - 1];
            if (optopt > 0 && optopt < 256 && optind < ac && av[optind][0] == '-' &&
                av[optind][1] != '-' && strchr(av[optind] + 1, optopt))
                a = av[optind];
            rc = unknown(cmd, a);
        }
    }
    /* What is left are the positional arguments, in their order; those after
     * "--" were never options. */
    int dashes = -1;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dashes = i;
            break;
        }
    for (int i = optind; rc == 0 && i < ac; i++) {
        if (*n_pos >= max_pos) {
            int after = 0;
            for (int k = dashes + 1; dashes >= 0 && k < argc; k++)
                after |= argv[k] == av[i];
            if (after)
                fprintf(stderr, "focusnet %s: unexpected argument '%s'\n", cmd, av[i]);
            else
                fprintf(stderr,
                        "focusnet %s: unexpected argument '%s' (see 'focusnet %s --help')\n", cmd,
                        av[i], cmd);
            rc = EXIT_USAGE;
        } else {
            pos[(*n_pos)++] = av[i];
        }
    }
    free(lo);
    free(av);
    return rc;
}

const char *cli_get(const cli_opt *opts, const char *name)
{
    for (const cli_opt *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0) return o->value;
    return NULL;
}

int cli_int(const char *cmd, const cli_opt *opts, const char *name, long lo, long hi, long *out)
{
    const char *v = cli_get(opts, name);
    if (!v) return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr,
                "focusnet %s: option '--%s' needs a whole number from %ld to %ld, not '%s'\n", cmd,
                name, lo, hi, v);
        return EXIT_USAGE;
    }
    *out = x;
    return 0;
}

int cli_float(const char *cmd, const cli_opt *opts, const char *name, double lo, double hi,
              double *out)
{
    const char *v = cli_get(opts, name);
    if (!v) return 0;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "focusnet %s: option '--%s' needs a number from %g to %g, not '%s'\n", cmd,
                name, lo, hi, v);
        return EXIT_USAGE;
    }
    *out = x;
    return 0;
}

int cli_fail(const char *cmd)
{
    const char *msg = fn_last_error();
    fprintf(stderr, "focusnet %s: %s\n", cmd, *msg ? msg : "unknown error");
    return EXIT_RUNTIME;
}
