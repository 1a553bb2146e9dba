/* Softmax and log-softmax on the device against the plain-C twins, large
 * logits, and the twins' backward against finite differences. */
#include "check.h"
#include "ref/ref.h"

typedef void (*ref_fwd)(float *y, const float *x, int rows, int cols);
typedef void (*ref_bwd)(float *dx, const float *dy, const float *y, int rows, int cols);
typedef fn_status (*dev_fwd)(fn_device *, cl_mem y, cl_mem x, int rows, int cols);
typedef fn_status (*dev_bwd)(fn_device *, cl_mem dx, cl_mem dy, cl_mem y, int rows, int cols);

typedef struct {
    const char *name;
    ref_fwd rf;
    ref_bwd rb;
    dev_fwd df;
    dev_bwd db;
    int is_log;
} variant;

static const variant variants[] = {
    {"softmax", fn_ref_softmax_forward, fn_ref_softmax_backward, fn_softmax_forward,
     fn_softmax_backward, 0},
    {"log_softmax", fn_ref_log_softmax_forward, fn_ref_log_softmax_backward, fn_log_softmax_forward,
     fn_log_softmax_backward, 1},
};

static cl_mem garbage(fn_device *dev, size_t n)
{
    cl_mem m = dev_upload(dev, NULL, n);
    fn_buffer_fill(dev, m, 0, n * sizeof(float), NAN);
    return m;
}

/* scale sets the logits' magnitude: 1e4 would overflow a naive exp. */
static void check_on_device(fn_device *dev, fn_rng *r, const variant *v, int rows, int cols,
                            float scale)
{
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy), *y = malloc(n * sizeof *y);
    float *dx = malloc(n * sizeof *dx), *got = malloc(n * sizeof *got);
    fill_uniform(r, x, n, -scale, scale);
    fill_uniform(r, dy, n, -1, 1);
    char what[96];
    snprintf(what, sizeof what, "%s rows=%d cols=%d scale=%g", v->name, rows, cols, scale);
    cl_mem d_x = dev_upload(dev, x, n), d_dy = dev_upload(dev, dy, n);
    cl_mem d_y = garbage(dev, n), d_dx = garbage(dev, n);

    v->rf(y, x, rows, cols);
    CHECK_OK(v->df(dev, d_y, d_x, rows, cols));
    dev_download(dev, d_y, got, n);
    check_close(what, got, y, n, 1e-6f, 1e-5f);
    size_t nonfinite = 0, bad_rows = 0;
    for (int i = 0; i < rows; i++) {
        double sum = 0;
        for (int j = 0; j < cols; j++) {
            float g = got[(size_t)i * cols + j];
            nonfinite += !isfinite(g);
            sum += v->is_log ? exp(g) : g;
        }
        bad_rows += !(fabs(sum - 1) <= 1e-5);
    }
    CHECK(nonfinite == 0, "%s: %zu values not finite", what, nonfinite);
    CHECK(bad_rows == 0, "%s: %zu rows do not sum to 1", what, bad_rows);

    /* Backward from the device's own y, into a dx full of NaN. */
    v->rb(dx, dy, got, rows, cols);
    CHECK_OK(v->db(dev, d_dx, d_dy, d_y, rows, cols));
    dev_download(dev, d_dx, got, n);
    check_close(what, got, dx, n, 1e-6f, 1e-5f);

    fn_buffer_free(d_x);
    fn_buffer_free(d_dy);
    fn_buffer_free(d_y);
    fn_buffer_free(d_dx);
    free(x);
    free(dy);
    free(y);
    free(dx);
    free(got);
}

/* ---- Finite differences of f = sum(softmax(x) * r) on the references ---- */

typedef struct {
    const variant *v;
    float *x, *y;
    const float *r;
    int rows, cols;
} fd_ctx;

static double softmax_dot(void *p)
{
    fd_ctx *c = p;
    c->v->rf(c->y, c->x, c->rows, c->cols);
    double sum = 0;
    for (int i = 0; i < c->rows * c->cols; i++)
        sum += (double)c->y[i] * c->r[i];
    return sum;
}

static void check_reference_gradients(fn_rng *r, const variant *v, int rows, int cols)
{
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *rr = malloc(n * sizeof *rr);
    float *dx = malloc(n * sizeof *dx);
    fill_uniform(r, x, n, -3, 3);
    fill_uniform(r, rr, n, -1, 1);
    for (size_t i = 0; i < n; i++)
        dx[i] = NAN; /* overwritten */
    v->rf(y, x, rows, cols);
    v->rb(dx, rr, y, rows, cols);
    fd_ctx c = {v, x, y, rr, rows, cols};
    char what[64];
    snprintf(what, sizeof what, "%s fd rows=%d cols=%d", v->name, rows, cols);
    check_fd(what, x, dx, n, softmax_dot, &c, 3e-3, 2e-3);
    free(x);
    free(y);
    free(rr);
    free(dx);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 11);
    const int cols[] = {1, 2, 10, 1000, 1001, 257};
    const int rows[] = {1, 3, 64};
    for (int vi = 0; vi < 2; vi++) {
        const variant *v = &variants[vi];
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
            for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
                check_on_device(dev, &r, v, rows[ri], cols[c], 5.0f);
        check_on_device(dev, &r, v, 3, 10, 1e4f);
        check_on_device(dev, &r, v, 64, 1000, 1e4f);
        check_on_device(dev, &r, v, 1, 1, 1e4f);

        check_reference_gradients(&r, v, 1, 1);
        check_reference_gradients(&r, v, 3, 10);
        check_reference_gradients(&r, v, 2, 33);
    }
    cl_mem m = dev_upload(dev, NULL, 4);
    CHECK(fn_softmax_forward(dev, m, m, 1, 0) == FN_ERR_ARG, "cols = 0 is refused");
    CHECK_OK(fn_softmax_backward(dev, NULL, m, m, 1, 4)); /* dx not needed */
    fn_buffer_free(m);
    fn_device_free(dev);
    return check_summary("test_softmax");
}
