/* Option parsing for every subcommand: --name VALUE, --name=VALUE, flags. */
#include <errno.h>
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

int cli_parse(const char *cmd, const char *usage, cli_opt *opts, int argc, char **argv,
              const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(cmd, usage, opts);
            return -1;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (*n_pos >= max_pos) {
                    fprintf(stderr, "focusnet %s: unexpected argument '%s'\n", cmd, argv[i]);
                    return EXIT_USAGE;
                }
                pos[(*n_pos)++] = argv[i];
            }
            break;
        }
        if (a[0] == '-' && a[1] != 0) {
            const char *name = a + (a[1] == '-' ? 2 : 1);
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            cli_opt *found = NULL;
            for (cli_opt *o = opts; o->name; o++)
                if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) found = o;
            if (!found || a[1] != '-') {
                fprintf(stderr, "focusnet %s: unknown option '%s' (see 'focusnet %s --help')\n",
                        cmd, a, cmd);
                return EXIT_USAGE;
            }
            if (!found->arg) {
                if (eq) {
                    fprintf(stderr, "focusnet %s: option '--%s' takes no value\n", cmd,
                            found->name);
                    return EXIT_USAGE;
                }
                found->value = "1";
            } else if (eq) {
                found->value = eq + 1;
            } else {
                if (i + 1 >= argc) {
                    fprintf(stderr, "focusnet %s: option '--%s' needs a value (%s)\n", cmd,
                            found->name, found->arg);
                    return EXIT_USAGE;
                }
                found->value = argv[++i];
            }
            continue;
        }
        if (*n_pos >= max_pos) {
            fprintf(stderr, "focusnet %s: unexpected argument '%s' (see 'focusnet %s --help')\n",
                    cmd, a, cmd);
            return EXIT_USAGE;
        }
        pos[(*n_pos)++] = a;
    }
    return 0;
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
