/* Device-side accumulation of the training loss and accuracy. */
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
