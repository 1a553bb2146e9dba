/* Pieces the two benchmarks share (cmd_bench.c). */
#ifndef FN_BENCH_H
#define FN_BENCH_H

#include "cli.h"

int bench_layers(int argc, char **argv); /* cmd_bench_layers.c */
int bench_train(int argc, char **argv);  /* cmd_bench_train.c */
int bench_allreduce(int argc, char **argv); /* cmd_bench_allreduce.c */
int bench_cam(int argc, char **argv);       /* cmd_bench_cam.c */

/* Propagates a failed fn_status (the library's FN_TRY is internal). */
#define BENCH_TRY(expr)                                                                            \
    do {                                                                                           \
        fn_status bench_st_ = (expr);                                                              \
        if (bench_st_ != FN_OK) return bench_st_;                                                  \
    } while (0)

/* A host allocation of the benchmark failed: returns FN_ERR_NOMEM, and
 * bench_fail then says so instead of the library's last error. */
fn_status bench_oom(void);
/* Prints the failure ("focusnet CMD: ...") and returns EXIT_RUNTIME. */
int bench_fail(const char *cmd);

/* The median of v (sorted in place), or -1 if any sample is missing (-1). */
double bench_median(double *v, int n);
/* n standard-normal floats from a fixed seed: data whose values do not
 * matter to the arithmetic, without zeros (ReLU) or ties (max pooling). */
void bench_random(float *v, size_t n, uint64_t seed);

#endif
