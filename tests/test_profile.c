/* Per-kernel profiling (lib/core/profile.c): what is recorded, by name, only
 * while recording, and the error without a profiling queue. */
#include "check.h"
#include "ops/ops.h"

static const fn_profile_entry *find(fn_device *dev, const char *name)
{
    const fn_profile_entry *e;
    int n = fn_profile_entries(dev, &e);
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0) return &e[i];
    return NULL;
}

int main(void)
{
    fn_device *plain = test_device();
    CHECK(fn_profile_start(plain) == FN_ERR_ARG, "profiling without a profiling queue is refused");
    CHECK(fn_prof_begin(plain, 0) == NULL, "nothing is recorded without recording");
    fn_device_free(plain);

    fn_device *dev = NULL;
    CHECK_OK(fn_device_open_ex(NULL, 1, &dev));
    if (!dev) return check_summary("test_profile");
    cl_mem x = dev_upload(dev, NULL, 1000), y = dev_upload(dev, NULL, 1000);

    /* Before recording: not counted. */
    CHECK_OK(fn_axpy(dev, 1000, 1.0f, x, y));
    CHECK_OK(fn_profile_start(dev));
    for (int i = 0; i < 3; i++)
        CHECK_OK(fn_axpy(dev, 1000, 2.0f, x, y));
    CHECK_OK(fn_buffer_fill(dev, x, 0, 1000 * sizeof(float), 1.0f));
    CHECK_OK(fn_profile_stop(dev));
    /* After stopping: not counted either. */
    CHECK_OK(fn_axpy(dev, 1000, 1.0f, x, y));
    CHECK_OK(fn_finish(dev));

    const fn_profile_entry *a = find(dev, "axpy"), *f = find(dev, "fill buffer");
    CHECK(a && a->calls == 3, "axpy counted 3 times, not %ld", a ? a->calls : -1L);
    CHECK(a && a->ms >= 0 && a->ms < 10000, "axpy time %g ms", a ? a->ms : -1.0);
    CHECK(f && f->calls == 1, "one fill");
    const fn_profile_entry *e;
    int n = fn_profile_entries(dev, &e);
    for (int i = 1; i < n; i++)
        CHECK(e[i - 1].ms >= e[i].ms, "entries sorted by time");

    /* A new start clears the totals. */
    CHECK_OK(fn_profile_start(dev));
    CHECK_OK(fn_axpy(dev, 1000, 1.0f, x, y));
    CHECK_OK(fn_profile_stop(dev));
    a = find(dev, "axpy");
    CHECK(a && a->calls == 1, "totals start again");
    CHECK(find(dev, "fill buffer") == NULL, "the old fill is gone");

    /* More events than are held at once are summed as they go. */
    CHECK_OK(fn_profile_start(dev));
    for (int i = 0; i < 5000; i++)
        CHECK_OK(fn_scale(dev, 1000, 1.0f, x));
    CHECK_OK(fn_profile_stop(dev));
    a = find(dev, "scale");
    CHECK(a && a->calls == 5000, "5000 scales counted, not %ld", a ? a->calls : -1L);

    fn_buffer_free(x);
    fn_buffer_free(y);
    fn_device_free(dev);
    return check_summary("test_profile");
}
