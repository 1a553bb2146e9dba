/* conv on our own GEMM kernels (lib/ops/conv_implicit.c: column panels or
 * the implicit GEMM; CPU devices, groups == 1) against the plain-C twin,
 * whatever the device: dev->gemm_path selects them. Grouped shapes still go
 * through im2col + CLBlast there and are checked again on the way. */
#include "conv_check.h"

static int not_depthwise(const fn_conv_shape *s)
{
    return !is_depthwise_shape(s);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 8);

    dev->gemm_path = FN_GEMM_OWN;
    for_conv_shapes(dev, &r, not_depthwise, check_shape);
    check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 2, 1, 1});
    check_rule(dev, &r, (fn_conv_shape){2, 6, 7, 7, 10, 3, 3, 1, 1, 2});
    check_rule(dev, &r, (fn_conv_shape){3, 5, 6, 6, 7, 1, 1, 1, 0, 1});

    fn_device_free(dev);
    return check_summary("test_conv_implicit");
}
