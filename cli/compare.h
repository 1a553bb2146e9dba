/* focusnet compare's results, shared by cmd_compare.c (the runs) and
 * compare_report.c (the statistics, the table, JSON and results.md). */
#ifndef FN_CLI_COMPARE_H
#define FN_CLI_COMPARE_H

#include "focusnet.h"

#define MAX_SEEDS 64

/* The methods, in table order; ce is always run (everything is paired with it).
 * M_NO_ATT, M_NO_ENT and M_CLS_ONLY are the paper's ablation (Table 10): the
 * focus loss with alpha = 0, beta = 0, or both. */
enum {
    M_CE,
    M_FOCUS,
    M_NO_ATT,
    M_NO_ENT,
    M_CLS_ONLY,
    M_AUTHORS,
    M_LS,
    M_KD,
    M_WEAK,
    M_FOCUS_WEAK,
    N_METHODS
};
extern const char *const method_names[N_METHODS];
extern const char *const method_titles[N_METHODS];

typedef struct {
    double top1[MAX_SEEDS], top5[MAX_SEEDS]; /* final epoch, per seed */
    int64_t *confusion;                      /* summed over seeds, classes x classes */
} method_result;

typedef struct {
    int want[N_METHODS];
    int seeds[MAX_SEEDS], n_seeds;
    const char *out;
    double kd_lr; /* --kd-lr: KD's own learning rate (0: the common --lr) */
    int holdout;  /* --holdout N: evaluated on N held-out training images */
    int classes;
    method_result res[N_METHODS];
    double seconds;
} compare;

/* The n off-diagonal (true t, predicted p) pairs whose count fell most
 * (fixed) or rose most (!fixed) from the baseline's matrices to method m's,
 * summed over seeds, with the change; returns how many changed. */
int compare_confusion_changes(const compare *k, int m, int fixed, int n, int *t, int *p,
                              int64_t *delta);
/* Prints the results (a table, or JSON) and writes OUT/results.md; returns
 * an exit code. */
int compare_report(const compare *k, const fn_train_config *c, int json, time_t start);

#endif
