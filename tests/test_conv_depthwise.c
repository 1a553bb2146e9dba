/* Depthwise conv (lib/ops/conv_depthwise.c, groups == C == OC) against the
 * plain-C twin, with planes whole in local memory (CPUs) and as separate
 * padding and correlation passes (GPUs), whatever the device. */
#include "conv_check.h"

static int depthwise(const fn_conv_shape *s)
{
    return is_depthwise_shape(s);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 9);

    /* Both GEMM settings, as before the split (depthwise takes neither, but
     * the bias gradient and the dispatch run under both). */
    const int paths[2] = {FN_GEMM_CLBLAST, FN_GEMM_OWN};
    for (int pi = 0; pi < 2; pi++) {
        dev->gemm_path = paths[pi];
        for_conv_shapes(dev, &r, depthwise, check_shape);
        check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 6, 3, 3, 2, 1, 6});
    }
    dev->gemm_path = FN_GEMM_AUTO;
    /* Depthwise planes as separate passes (GPUs) as well as whole in local memory (CPUs). */
    int long_runs = dev->long_runs;
    dev->long_runs = !long_runs;
    for_conv_shapes(dev, &r, depthwise, check_shape);
    check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 6, 3, 3, 2, 1, 6});
    dev->long_runs = long_runs;

    fn_device_free(dev);
    return check_summary("test_conv_depthwise");
}
