/* Fingerprints of the files a run depends on besides its data (--baseline,
 * --init), kept in the resume state: a resumed run refuses a replaced file
 * as it refuses changed training data. */
#include <unistd.h>

#include "../io/file.h"
#include "train.h"

fn_status fn_train_fingerprint_files(const char *baseline, const char *init, int resume,
                                     uint64_t hash[2], int has[2])
{
    const char *paths[2] = {baseline, init};
    for (int i = 0; i < 2; i++) {
        has[i] = 0;
        if (!paths[i]) continue;
        /* A resumed run needs no --init (its weights are in the state): a
         * missing one is fine, a changed one is not. */
        if (i == 1 && resume && access(paths[i], F_OK) != 0) continue;
        FN_TRY(fn_file_hash(paths[i], &hash[i]));
        has[i] = 1;
    }
    return FN_OK;
}

fn_status fn_train_check_fingerprints(const fn_train_state *s, const char *path,
                                      const char *baseline, const char *init, uint64_t hash[2],
                                      int has[2])
{
    const uint64_t want[2] = {s->baseline_hash, s->init_hash};
    const int known[2] = {s->has_baseline_hash, s->has_init_hash};
    const char *paths[2] = {baseline, init}, *opt[2] = {"--baseline", "--init"};
    for (int i = 0; i < 2; i++) {
        if (!known[i]) continue; /* an older state: from now on, this file's */
        if (has[i] && hash[i] != want[i])
            return fn_error(FN_ERR_MISMATCH,
                            "%s: %s %s has changed since the run started; put the original "
                            "back, or start a new run with it",
                            path, opt[i], paths[i]);
        /* What the state knew carries on to the states this run writes. */
        hash[i] = want[i];
        has[i] = 1;
    }
    return FN_OK;
}
