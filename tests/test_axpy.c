/* axpy and scale on the device against the plain-C twin, and both kernel
 * forms (dev->long_runs: CPU runs, GPU one float per item) against each
 * other bit for bit. */
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
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y),
              *got = malloc(n * sizeof *got);
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
    /* Both forms, sizes across runs of 4096 (a last one short), x NaN-free
     * and y poisoned past n (a kernel writing beyond n shows there). */
    const int native = dev->long_runs, more[] = {1, 17, 4096, 3 * 4096 + 17};
    for (size_t t = 0; t < sizeof more / sizeof more[0]; t++) {
        int n = more[t];
        float *x = malloc(n * sizeof *x), *y = malloc((n + 16) * sizeof *y);
        float *got[2] = {malloc((n + 16) * sizeof(float)), malloc((n + 16) * sizeof(float))};
        fill_uniform(&r, x, n, -1, 1);
        fill_uniform(&r, y, n, -1, 1);
        for (int i = n; i < n + 16; i++)
            y[i] = NAN;
        for (int v = 0; v < 2; v++) {
            dev->long_runs = v == 0;
            cl_mem dx = dev_upload(dev, x, n), dy = dev_upload(dev, y, n + 16);
            CHECK_OK(fn_axpy(dev, n, 1.0f, dx, dy));
            CHECK_OK(fn_axpy(dev, n, 0.25f, dx, dy));
            CHECK_OK(fn_scale(dev, n, -3.0f, dy));
            dev_download(dev, dy, got[v], n + 16);
            fn_buffer_free(dx);
            fn_buffer_free(dy);
        }
        float *want = malloc(n * sizeof *want);
        memcpy(want, y, n * sizeof *want);
        fn_ref_axpy(n, 1.0f, x, want);
        fn_ref_axpy(n, 0.25f, x, want);
        fn_ref_scale(n, -3.0f, want);
        check_close("axpy, scale (runs)", got[0], want, n, 1e-6f, 1e-6f);
        CHECK(memcmp(got[0], got[1], n * sizeof(float)) == 0,
              "axpy, scale: runs and items differ (n %d)", n);
        for (int v = 0; v < 2; v++)
            for (int i = n; i < n + 16; i++)
                CHECK(isnan(got[v][i]), "axpy, scale wrote past n (%d, at %d)", n, i);
        free(x), free(y), free(want), free(got[0]), free(got[1]);
    }
    dev->long_runs = native;
    CHECK(fn_axpy(dev, -1, 1.0f, NULL, NULL) == FN_ERR_ARG || !native, "axpy: negative size");
    fn_device_free(dev);
    return check_summary("test_axpy");
}
