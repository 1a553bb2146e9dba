/* Max, average and global average pooling on the device against the plain-C
 * twins, and the twins' backward against finite differences. */
#include "check.h"
#include "ref/ref.h"

static size_t in_size(const fn_pool_shape *s)
{
    return (size_t)s->n * s->c * s->h * s->w;
}

static size_t out_size(const fn_pool_shape *s)
{
    return (size_t)s->n * s->c * fn_pool_out_h(s) * fn_pool_out_w(s);
}

/* Allocates a device buffer full of NaN, so an op that adds to dx instead of
 * overwriting it shows. */
static cl_mem garbage(fn_device *dev, size_t n)
{
    cl_mem m = dev_upload(dev, NULL, n);
    fn_buffer_fill(dev, m, 0, n * sizeof(float), NAN);
    return m;
}

static void check_shape_on_device(fn_device *dev, fn_rng *r, const fn_pool_shape *s,
                                  int integer_values)
{
    size_t ni = in_size(s), no = out_size(s);
    float *x = malloc(ni * sizeof *x), *dy = malloc(no * sizeof *dy);
    float *y = malloc(no * sizeof *y), *dx = malloc(ni * sizeof *dx);
    float *got_y = malloc(no * sizeof *got_y), *got_dx = malloc(ni * sizeof *got_dx);
    int *am = malloc(no * sizeof *am), *got_am = malloc(no * sizeof *got_am);
    fill_uniform(r, x, ni, -1, 1);
    /* Few distinct values: many ties, which must break the same way. */
    if (integer_values)
        for (size_t i = 0; i < ni; i++)
            x[i] = floorf(x[i] * 1.5f);
    /* Mode 2 adds NaNs, which must win their windows (the first one). */
    if (integer_values == 2)
        for (size_t i = 0; i < ni; i += 7)
            x[i] = NAN;
    fill_uniform(r, dy, no, -1, 1);
    char what[160];
    snprintf(what, sizeof what, "n=%d c=%d %dx%d k=%d s=%d p=%d%s", s->n, s->c, s->h, s->w, s->k,
             s->stride, s->pad,
             integer_values == 2 ? " nan"
             : integer_values    ? " ties"
                                 : "");

    cl_mem d_x = dev_upload(dev, x, ni), d_dy = dev_upload(dev, dy, no);
    cl_mem d_y = garbage(dev, no), d_dx = garbage(dev, ni), d_am = NULL;
    CHECK_OK(fn_buffer_new(dev, no * sizeof(int), &d_am));

    /* Max pooling, with and without argmax. */
    fn_ref_maxpool_forward(y, am, x, s);
    CHECK_OK(fn_maxpool_forward(dev, d_y, d_am, d_x, s));
    dev_download(dev, d_y, got_y, no);
    CHECK_OK(fn_buffer_read(dev, d_am, 0, no * sizeof(int), got_am));
    check_close(what, got_y, y, no, 0, 0);
    size_t bad = 0;
    for (size_t i = 0; i < no; i++)
        bad += got_am[i] != am[i];
    CHECK(bad == 0, "%s: %zu of %zu argmax differ", what, bad, no);
    fn_buffer_fill(dev, d_y, 0, no * sizeof(float), NAN);
    CHECK_OK(fn_maxpool_forward(dev, d_y, NULL, d_x, s));
    dev_download(dev, d_y, got_y, no);
    check_close(what, got_y, y, no, 0, 0);

    fn_ref_maxpool_backward(dx, dy, am, s);
    CHECK_OK(fn_maxpool_backward(dev, d_dx, d_dy, d_am, s));
    dev_download(dev, d_dx, got_dx, ni);
    check_close(what, got_dx, dx, ni, 1e-6f, 1e-6f);

    /* Average pooling. */
    fn_ref_avgpool_forward(y, x, s);
    CHECK_OK(fn_avgpool_forward(dev, d_y, d_x, s));
    dev_download(dev, d_y, got_y, no);
    check_close(what, got_y, y, no, 1e-6f, 1e-5f);
    fn_buffer_fill(dev, d_dx, 0, ni * sizeof(float), NAN);
    fn_ref_avgpool_backward(dx, dy, s);
    CHECK_OK(fn_avgpool_backward(dev, d_dx, d_dy, s));
    dev_download(dev, d_dx, got_dx, ni);
    check_close(what, got_dx, dx, ni, 1e-6f, 1e-5f);

    fn_buffer_free(d_x);
    fn_buffer_free(d_dy);
    fn_buffer_free(d_y);
    fn_buffer_free(d_dx);
    fn_buffer_free(d_am);
    free(x);
    free(dy);
    free(y);
    free(dx);
    free(got_y);
    free(got_dx);
    free(am);
    free(got_am);
}

static void check_gap_on_device(fn_device *dev, fn_rng *r, int n, int c, int hw)
{
    size_t ni = (size_t)n * c * hw, no = (size_t)n * c;
    float *x = malloc(ni * sizeof *x), *dy = malloc(no * sizeof *dy);
    float *y = malloc(no * sizeof *y), *dx = malloc(ni * sizeof *dx);
    float *got_y = malloc(no * sizeof *got_y), *got_dx = malloc(ni * sizeof *got_dx);
    fill_uniform(r, x, ni, -1, 1);
    fill_uniform(r, dy, no, -1, 1);
    cl_mem d_x = dev_upload(dev, x, ni), d_dy = dev_upload(dev, dy, no);
    cl_mem d_y = garbage(dev, no), d_dx = garbage(dev, ni);
    char what[64];
    snprintf(what, sizeof what, "gap n=%d c=%d hw=%d", n, c, hw);
    fn_ref_gap_forward(y, x, n, c, hw);
    CHECK_OK(fn_gap_forward(dev, d_y, d_x, n, c, hw));
    dev_download(dev, d_y, got_y, no);
    check_close(what, got_y, y, no, 1e-6f, 1e-4f);
    fn_ref_gap_backward(dx, dy, n, c, hw);
    CHECK_OK(fn_gap_backward(dev, d_dx, d_dy, n, c, hw));
    dev_download(dev, d_dx, got_dx, ni);
    check_close(what, got_dx, dx, ni, 0, 1e-6f);
    fn_buffer_free(d_x);
    fn_buffer_free(d_dy);
    fn_buffer_free(d_y);
    fn_buffer_free(d_dx);
    free(x);
    free(dy);
    free(y);
    free(dx);
    free(got_y);
    free(got_dx);
}

/* ---- Finite differences of f(x) = sum(pool(x) * r) on the references ---- */

typedef struct {
    const fn_pool_shape *s;
    int kind; /* 0 max, 1 average, 2 global average (s->h*s->w is HW) */
    float *x, *y;
    const float *r;
} fd_ctx;

static double pooled_dot(void *p)
{
    fd_ctx *c = p;
    const fn_pool_shape *s = c->s;
    size_t no = c->kind == 2 ? (size_t)s->n * s->c : out_size(s);
    if (c->kind == 0)
        fn_ref_maxpool_forward(c->y, NULL, c->x, s);
    else if (c->kind == 1)
        fn_ref_avgpool_forward(c->y, c->x, s);
    else
        fn_ref_gap_forward(c->y, c->x, s->n, s->c, s->h * s->w);
    double sum = 0;
    for (size_t i = 0; i < no; i++)
        sum += (double)c->y[i] * c->r[i];
    return sum;
}

static void check_reference_gradients(fn_rng *r, const fn_pool_shape *s, int kind)
{
    size_t ni = in_size(s), no = kind == 2 ? (size_t)s->n * s->c : out_size(s);
    float *x = malloc(ni * sizeof *x), *y = malloc(no * sizeof *y);
    float *rr = malloc(no * sizeof *rr), *dx = malloc(ni * sizeof *dx);
    int *am = malloc(no * sizeof *am);
    /* Distinct values 0.01 apart in random order: with eps = 1e-3 no nudge
     * changes which element wins a window, so max pooling has no kink here. */
    for (size_t i = 0; i < ni; i++)
        x[i] = 0.01f * (float)i - 0.005f * (float)ni;
    for (size_t i = ni; i > 1; i--) {
        size_t j = fn_rng_below(r, (uint32_t)i);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
    fill_uniform(r, rr, no, -1, 1);
    for (size_t i = 0; i < ni; i++)
        dx[i] = NAN; /* the reference must overwrite too */
    if (kind == 0) {
        fn_ref_maxpool_forward(y, am, x, s);
        fn_ref_maxpool_backward(dx, rr, am, s);
    } else if (kind == 1) {
        fn_ref_avgpool_backward(dx, rr, s);
    } else {
        fn_ref_gap_backward(dx, rr, s->n, s->c, s->h * s->w);
    }
    fd_ctx c = {s, kind, x, y, rr};
    static const char *names[] = {"maxpool fd", "avgpool fd", "gap fd"};
    check_fd(names[kind], x, dx, ni, pooled_dot, &c, 1e-3, 2e-3);
    free(x);
    free(y);
    free(rr);
    free(dx);
    free(am);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);

    const fn_pool_shape shapes[] = {
        {2, 6, 28, 28, 2, 2, 0},   /* LeNet, first pooling */
        {3, 16, 10, 10, 2, 2, 0},  /* LeNet, second pooling */
        {2, 3, 7, 7, 3, 2, 1},     /* ResNet's stem pooling on odd ... */
        {2, 3, 8, 8, 3, 2, 1},     /* ... and even inputs */
        {2, 4, 112, 112, 3, 2, 1}, /* ... at full size */
        {1, 1, 5, 5, 2, 2, 0},     /* batch 1, odd input: the last row is dropped */
        {2, 5, 1, 1, 1, 1, 0},     /* 1x1 input */
        {1, 3, 1, 1, 2, 2, 1},     /* 1x1 input, window mostly padding */
        {1, 3, 1, 1, 3, 2, 1},     {3, 2, 13, 11, 3, 2, 1}, /* not square */
        {1, 2, 9, 9, 3, 3, 0},                              /* windows that do not overlap */
        {2, 3, 10, 10, 5, 1, 2},                            /* large window, stride 1 */
        {2, 3, 40, 40, 2, 2, 0},                            /* 16 windows at a time */
        {1, 2, 41, 67, 2, 2, 0},                            /* ... odd sizes */
        {5, 13, 6, 6, 2, 2, 0}, /* CPUs: 3 small planes per item, the last item 2 */
    };
    /* Both backward forms: by rows (GPUs) and by planes (CPUs). */
    for (int long_runs = 0; long_runs <= 1; long_runs++) {
        dev->long_runs = long_runs;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            fn_pool_shape s = shapes[i];
            if (test_small() && s.h == 112) continue; /* the same branches as 7x7 and 8x8 */
            check_shape_on_device(dev, &r, &s, 0);
            check_shape_on_device(dev, &r, &s, 1);
            check_shape_on_device(dev, &r, &s, 2);
        }
    }
    fn_pool_shape s = {2, 3, 7, 7, 3, 2, 1};
    CHECK(fn_pool_out_h(&s) == 4 && fn_pool_out_w(&s) == 4, "7x7 k3 s2 p1 gives 4x4");
    s.h = s.w = 112;
    CHECK(fn_pool_out_h(&s) == 56, "112 k3 s2 p1 gives 56");
    s.h = 5, s.k = 2, s.stride = 2, s.pad = 0;
    CHECK(fn_pool_out_h(&s) == 2, "5 k2 s2 gives 2 (floor)");

    const int gap_shapes[][3] = {{2, 3, 49}, {1, 1, 1}, {3, 64, 49}, {1, 5, 12544}, {4, 7, 3}};
    for (size_t i = 0; i < sizeof gap_shapes / sizeof gap_shapes[0]; i++)
        if (!test_small() || gap_shapes[i][2] < 1000)
            check_gap_on_device(dev, &r, gap_shapes[i][0], gap_shapes[i][1], gap_shapes[i][2]);

    const fn_pool_shape fd_shapes[] = {
        {2, 2, 7, 7, 3, 2, 1}, {1, 2, 8, 8, 2, 2, 0}, {1, 1, 1, 1, 3, 2, 1}, {2, 1, 6, 5, 3, 1, 1}};
    for (size_t i = 0; i < sizeof fd_shapes / sizeof fd_shapes[0]; i++) {
        check_reference_gradients(&r, &fd_shapes[i], 0);
        check_reference_gradients(&r, &fd_shapes[i], 1);
        check_reference_gradients(&r, &fd_shapes[i], 2);
    }

    /* Bad shapes are refused, not launched. */
    cl_mem m = dev_upload(dev, NULL, 16);
    fn_pool_shape bad = {1, 1, 4, 4, 2, 2, 2}; /* pad > k/2 */
    CHECK(fn_maxpool_forward(dev, m, NULL, m, &bad) == FN_ERR_ARG, "pad > k/2 is refused");
    bad = (fn_pool_shape){1, 1, 2, 2, 5, 1, 1}; /* window larger than the padded input */
    CHECK(fn_avgpool_forward(dev, m, m, &bad) == FN_ERR_ARG, "oversized window is refused");
    CHECK(fn_gap_forward(dev, m, m, 1, 1, 0) == FN_ERR_ARG, "empty plane is refused");
    CHECK(fn_maxpool_backward(dev, m, m, NULL, &shapes[0]) == FN_ERR_ARG,
          "max backward without argmax is refused");
    CHECK_OK(fn_maxpool_backward(dev, NULL, m, NULL, &shapes[0])); /* dx not needed */
    fn_buffer_free(m);

    fn_device_free(dev);
    return check_summary("test_pool");
}
