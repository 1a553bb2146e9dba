/* add on the device against the plain-C twin, including y aliasing a or b,
 * in both kernel forms (dev->long_runs: CPU runs, GPU one float per item). */
#include "check.h"
#include "ref/ref.h"

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 3);
    const int sizes[] = {1, 63, 64, 65, 1000, 4099, 3 * 4096 + 17};
    const int nsizes = sizeof sizes / sizeof sizes[0], native = dev->long_runs;
    for (int t = 0; t < 2 * nsizes; t++) {
        int n = sizes[t % nsizes];
        dev->long_runs = t < nsizes ? native : !native;
        size_t bytes = n * sizeof(float);
        float *a = malloc(bytes), *b = malloc(bytes), *y = malloc(bytes), *got = malloc(bytes);
        fill_uniform(&r, a, n, -1, 1);
        fill_uniform(&r, b, n, -1, 1);
        fn_ref_add(y, a, b, n);
        for (int i = 0; i < n; i++)
            CHECK(y[i] == a[i] + b[i], "ref add[%d]", i);

        cl_mem ma = dev_upload(dev, a, n), mb = dev_upload(dev, b, n),
               my = dev_upload(dev, NULL, n);
        CHECK_OK(fn_add(dev, my, ma, mb, n));
        dev_download(dev, my, got, n);
        check_close("add", got, y, n, 0, 0);

        /* y aliases a: a becomes a + b. */
        CHECK_OK(fn_add(dev, ma, ma, mb, n));
        dev_download(dev, ma, got, n);
        check_close("add into a", got, y, n, 0, 0);

        /* y aliases b: b becomes (a + b) + b. */
        float *want = malloc(bytes);
        fn_ref_add(want, y, b, n);
        CHECK_OK(fn_add(dev, mb, ma, mb, n));
        dev_download(dev, mb, got, n);
        check_close("add into b", got, want, n, 0, 0);

        /* All three the same buffer: doubling. */
        fn_ref_add(want, want, want, n);
        CHECK_OK(fn_add(dev, mb, mb, mb, n));
        dev_download(dev, mb, got, n);
        check_close("add doubling", got, want, n, 0, 0);

        fn_buffer_free(ma);
        fn_buffer_free(mb);
        fn_buffer_free(my);
        free(a);
        free(b);
        free(y);
        free(got);
        free(want);
    }
    dev->long_runs = native;
    fn_device_free(dev);
    return check_summary("test_add");
}
