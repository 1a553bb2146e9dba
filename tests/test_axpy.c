/* axpy and scale on the device against the plain-C twin. */
#include "check.h"
#include "ref/ref.h"

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 1);
    const int sizes[] = {1, 63, 64, 65, 1000, 4099};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int n = sizes[t];
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *got = malloc(n * sizeof *got);
        fill_uniform(&r, x, n, -1, 1);
        fill_uniform(&r, y, n, -1, 1);
        cl_mem dx = dev_upload(dev, x, n), dy = dev_upload(dev, y, n);
        CHECK_OK(fn_axpy(dev, n, 0.5f, dx, dy));
        fn_ref_axpy(n, 0.5f, x, y);
        dev_download(dev, dy, got, n);
        check_close("axpy", got, y, n, 1e-6f, 1e-6f);
        CHECK_OK(fn_scale(dev, n, -3.0f, dy));
        fn_ref_scale(n, -3.0f, y);
        dev_download(dev, dy, got, n);
        check_close("scale", got, y, n, 1e-6f, 1e-6f);
        fn_buffer_free(dx);
        fn_buffer_free(dy);
        free(x);
        free(y);
        free(got);
    }
    fn_device_free(dev);
    return check_summary("test_axpy");
}
