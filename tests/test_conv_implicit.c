/* conv on our own GEMM kernels (lib/ops/conv_implicit.c: column panels or
 * the implicit GEMM; CPU devices, groups == 1) against the plain-C twin,
 * whatever the device: dev->gemm_path selects them, and with the tiles for
 * both SIMD widths (dev->simd_floats 16 and 8: AVX-512 and AVX2 kernels).
 * Grouped shapes still go through im2col + CLBlast there and are checked
 * again on the way. Winograd (3x3 stride 1) is off here: its own test. */
#include "conv_check.h"

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 8);

    const int native = dev->simd_floats;
    dev->winograd = 0; /* the direct paths; tests/test_conv_winograd.c the other */
    dev->pointwise = 0; /* the 1x1 GEMM tiles; tests/test_conv_pointwise.c the strip kernel */
    dev->simd_floats = 16;
    check_gemm_path(dev, &r, FN_GEMM_OWN);
    dev->simd_floats = 8;
    check_gemm_path(dev, &r, FN_GEMM_OWN);
    dev->simd_floats = native;

    fn_device_free(dev);
    return check_summary("test_conv_implicit");
}
