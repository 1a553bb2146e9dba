/* Device-side accumulation of the training loss and accuracy, and what
 * counts as accuracy at chance. */
#include <stdlib.h>

#include "train.h"

fn_status fn_batch_stats(fn_device *dev, cl_mem stats, cl_mem logits, cl_mem labels, cl_mem loss,
                         int n, int k)
{
    cl_kernel kr;
    FN_TRY(fn_kernel_get(dev, "metrics", "batch_stats", &kr));
    FN_TRY(fn_kernel_args(kr, FN_ARG(stats), FN_ARG(logits), FN_ARG(labels), FN_ARG(loss),
                          FN_ARG(n), FN_ARG(k), (size_t)0));
    size_t one = 1;
    return fn_launch(dev, kr, 1, &one, &one);
}

fn_status fn_train_commonest_class(const fn_dataset *d, double *frac)
{
    int k = fn_dataset_classes(d), n = fn_dataset_count(d), most = 0;
    int *count = calloc((size_t)k + 1, sizeof *count);
    if (!count) return fn_error(FN_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < n; i++) {
        int y = fn_dataset_label(d, i);
        if (y >= 0 && y < k && ++count[y] > most) most = count[y];
    }
    free(count);
    *frac = n > 0 ? (double)most / n : 0;
    return FN_OK;
}

/* Training accuracy within 5% of the way from guessing the commonest class
 * to perfect (0.145 for 10 balanced classes): nothing learnt. */
int fn_train_at_chance(const float stats[4], double chance)
{
    return stats[3] > 0 && stats[1] / stats[3] < chance + 0.05 * (1 - chance);
}
