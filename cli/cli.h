/* Shared pieces of the focusnet command: option parsing and exit codes.
 * Exit codes: 0 success, 1 runtime error, 2 usage error. */
#ifndef FN_CLI_H
#define FN_CLI_H

#include "focusnet.h"

enum { EXIT_USAGE = 2, EXIT_RUNTIME = 1 };

typedef struct {
    const char *name; /* long name without dashes, e.g. "epochs" */
    const char *arg;  /* NULL for a flag, else the argument's name in help, e.g. "N" */
    const char *help;
    const char *value; /* filled by cli_parse: the argument, or "1" for a flag */
} cli_opt;

/* Parses argv (after the subcommand) against opts, which ends with {NULL}.
 * Positional arguments are collected into pos (up to max_pos).
 * Returns 0, or prints one line to stderr and returns EXIT_USAGE; returns -1
 * after printing help for --help (the caller then exits 0). */
int cli_parse(const char *cmd, const char *usage, cli_opt *opts, int argc, char **argv,
              const char **pos, int max_pos, int *n_pos);
const char *cli_get(const cli_opt *opts, const char *name);
/* Reads an integer/float option; prints a one-line error and returns EXIT_USAGE
 * if it is not a number within [lo, hi]. */
int cli_int(const char *cmd, const cli_opt *opts, const char *name, long lo, long hi, long *out);
int cli_float(const char *cmd, const cli_opt *opts, const char *name, double lo, double hi,
              double *out);
/* Prints "focusnet CMD: message" from the library's last error; returns EXIT_RUNTIME. */
int cli_fail(const char *cmd);

/* The training options of the library's table (fn_train_option_*) that
 * opts holds, applied to c in the table's order: 0, or EXIT_USAGE after one
 * line naming the option. */
int cli_train_options(const char *cmd, const cli_opt *o, fn_train_config *c);
/* The table's option `name` as a cli_opt; help NULL: the table's line. */
cli_opt cli_train_opt(const char *name, const char *help);

void cli_print_report(const fn_eval_report *r, const char *const *names, int show_classes);

/* The ranks of `mpirun -np N focusnet ...` (comm_mpi.c; comm_none.c without
 * MPI): NULL for one process. Close after the command; failed_running: this
 * rank failed while the others may wait for it, so the job is ended. */
const fn_comm *cli_comm_open(void);
void cli_comm_close(const fn_comm *c, int failed_running);
/* The rank among those on this machine (OMPI_COMM_WORLD_LOCAL_RANK). */
int cli_comm_local_rank(void);

int cmd_devices(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_cam(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
