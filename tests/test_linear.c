/* The fully connected layer on the device against the plain-C twin, the
 * twin's backward against finite differences, and the gradient rule. */
#include "check.h"
#include "ref/ref.h"

static float *host(fn_rng *r, size_t n, float lo, float hi)
{
    float *p = malloc(n * sizeof *p);
    fill_uniform(r, p, n, lo, hi);
    return p;
}

static cl_mem garbage(fn_device *dev, size_t n)
{
    cl_mem m = dev_upload(dev, NULL, n);
    fn_buffer_fill(dev, m, 0, n * sizeof(float), NAN);
    return m;
}

static void check_on_device(fn_device *dev, fn_rng *r, int n, int in, int out)
{
    size_t nx = (size_t)n * in, ny = (size_t)n * out, nw = (size_t)out * in;
    float *x = host(r, nx, -1, 1), *w = host(r, nw, -0.5f, 0.5f), *b = host(r, out, -1, 1);
    float *dy = host(r, ny, -1, 1), *dw = host(r, nw, -1, 1), *db = host(r, out, -1, 1);
    float *y = malloc(ny * sizeof *y), *dx = malloc(nx * sizeof *dx);
    float *got = malloc((nx > nw ? (nx > ny ? nx : ny) : (nw > ny ? nw : ny)) * sizeof *got);
    char what[96];
    snprintf(what, sizeof what, "linear n=%d in=%d out=%d", n, in, out);
    /* GEMM sums in float, the reference in double. */
    float tol = 2e-6f * (float)(in > n ? (in > out ? in : out) : (n > out ? n : out)) + 1e-5f;

    cl_mem d_x = dev_upload(dev, x, nx), d_w = dev_upload(dev, w, nw),
           d_b = dev_upload(dev, b, out);
    cl_mem d_dy = dev_upload(dev, dy, ny), d_dw = dev_upload(dev, dw, nw);
    cl_mem d_db = dev_upload(dev, db, out), d_y = garbage(dev, ny), d_dx = garbage(dev, nx);

    fn_ref_linear_forward(y, x, w, b, n, in, out);
    CHECK_OK(fn_linear_forward(dev, d_y, d_x, d_w, d_b, n, in, out));
    dev_download(dev, d_y, got, ny);
    check_close(what, got, y, ny, tol, tol);

    fn_ref_linear_forward(y, x, w, NULL, n, in, out);
    fn_buffer_fill(dev, d_y, 0, ny * sizeof(float), NAN);
    CHECK_OK(fn_linear_forward(dev, d_y, d_x, d_w, NULL, n, in, out));
    dev_download(dev, d_y, got, ny);
    check_close(what, got, y, ny, tol, tol);

    /* Twice: dx (started as NaN) is overwritten both times, dw and db
     * (started random) accumulate both times. */
    for (int t = 0; t < 2; t++) {
        fn_ref_linear_backward(dx, dw, db, dy, x, w, n, in, out);
        CHECK_OK(fn_linear_backward(dev, d_dx, d_dw, d_db, d_dy, d_x, d_w, n, in, out));
    }
    dev_download(dev, d_dx, got, nx);
    check_close("dx", got, dx, nx, tol, tol);
    dev_download(dev, d_dw, got, nw);
    check_close("dw", got, dw, nw, tol, tol);
    dev_download(dev, d_db, got, out);
    check_close("db", got, db, out, tol, tol);

    /* First layer: no dx, no bias; db must stay exactly as it was. */
    float *db_before = malloc(out * sizeof *db_before);
    dev_download(dev, d_db, db_before, out);
    fn_ref_linear_backward(NULL, dw, NULL, dy, x, w, n, in, out);
    CHECK_OK(fn_linear_backward(dev, NULL, d_dw, NULL, d_dy, d_x, d_w, n, in, out));
    dev_download(dev, d_dw, got, nw);
    check_close("dw without dx", got, dw, nw, tol, tol);
    dev_download(dev, d_db, got, out);
    check_close("db untouched", got, db_before, out, 0, 0);
    free(db_before);

    cl_mem bufs[] = {d_x, d_w, d_b, d_dy, d_dw, d_db, d_y, d_dx};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        fn_buffer_free(bufs[i]);
    float *hs[] = {x, w, b, dy, dw, db, y, dx, got};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        free(hs[i]);
}

/* ---- Finite differences of f = sum(linear(x, w, b) * r) on the reference ---- */

typedef struct {
    float *x, *w, *b, *y;
    const float *r;
    int n, in, out;
} fd_ctx;

static double linear_dot(void *p)
{
    fd_ctx *c = p;
    fn_ref_linear_forward(c->y, c->x, c->w, c->b, c->n, c->in, c->out);
    double sum = 0;
    for (int i = 0; i < c->n * c->out; i++)
        sum += (double)c->y[i] * c->r[i];
    return sum;
}

static void check_reference_gradients(fn_rng *r, int n, int in, int out)
{
    size_t nx = (size_t)n * in, ny = (size_t)n * out, nw = (size_t)out * in;
    float *x = host(r, nx, -1, 1), *w = host(r, nw, -1, 1), *b = host(r, out, -1, 1);
    float *rr = host(r, ny, -1, 1), *y = malloc(ny * sizeof *y);
    float *dx = host(r, nx, -1, 1); /* overwritten */
    float *dw = calloc(nw, sizeof *dw), *db = calloc(out, sizeof *db);
    fn_ref_linear_backward(dx, dw, db, rr, x, w, n, in, out);
    fd_ctx c = {x, w, b, y, rr, n, in, out};
    check_fd("linear fd dx", x, dx, nx, linear_dot, &c, 1e-2, 1e-3);
    check_fd("linear fd dw", w, dw, nw, linear_dot, &c, 1e-2, 1e-3);
    check_fd("linear fd db", b, db, out, linear_dot, &c, 1e-2, 1e-3);
    float *hs[] = {x, w, b, rr, y, dx, dw, db};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        free(hs[i]);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 3);
    const int shapes[][3] = {
        {1, 1, 1},   {2, 400, 120}, /* LeNet */
        {3, 84, 10}, {64, 512, 10}, {5, 1280, 200}, {7, 33, 65}, {17, 100, 3}, {1, 3, 129},
    };
    /* Both GEMM paths: CLBlast (GPUs) and our own (CPUs). */
    const int paths[2] = {FN_GEMM_CLBLAST, FN_GEMM_OWN};
    for (int p = 0; p < 2; p++) {
        dev->gemm_path = paths[p];
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            if (!test_small() || (double)shapes[i][0] * shapes[i][1] * shapes[i][2] < 40000)
                check_on_device(dev, &r, shapes[i][0], shapes[i][1], shapes[i][2]);
        if (!test_small()) check_on_device(dev, &r, 128, 400, 120); /* LeNet's batch */
    }

    check_reference_gradients(&r, 3, 7, 5);
    check_reference_gradients(&r, 1, 1, 1);

    /* A CLBlast failure (C too small) is reported with CLBlast's status. */
    dev->gemm_path = FN_GEMM_CLBLAST;
    cl_mem small = dev_upload(dev, NULL, 1), x = dev_upload(dev, NULL, 16);
    fn_status st = fn_linear_forward(dev, small, x, x, NULL, 4, 4, 4);
    CHECK(st == FN_ERR_CL && strstr(fn_last_error(), "CLBlastSgemm failed: status "),
          "CLBlast failure reported: %s", fn_last_error());
    CHECK(fn_linear_forward(dev, x, x, x, NULL, 1, 0, 4) == FN_ERR_ARG, "in = 0 is refused");
    dev->gemm_path = FN_GEMM_AUTO;
    fn_buffer_free(small);
    fn_buffer_free(x);

    fn_device_free(dev);
    return check_summary("test_linear");
}
