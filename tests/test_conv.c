/* conv by im2col + CLBlast GEMM (the GPU path, and groups > 1 everywhere)
 * against the plain-C twin, through the dispatching entry points; the twin's
 * backward against finite differences; bad shapes; a ResNet-18 layer at a
 * real batch on the device's own path. */
#include "conv_check.h"

/* ---- Finite differences of the reference --------------------------------- */

typedef struct {
    fn_conv_shape s;
    float *x, *w, *b, *y, *r; /* r: the fixed random weights of the scalar */
} fd_ctx;

/* sum(y * r) */
static double fd_loss(void *p)
{
    fd_ctx *c = p;
    fn_ref_conv_forward(c->y, c->x, c->w, c->b, &c->s);
    double acc = 0;
    for (size_t i = 0; i < y_len(&c->s); i++)
        acc += (double)c->y[i] * c->r[i];
    return acc;
}

static void check_ref_fd(fn_rng *r, fn_conv_shape s)
{
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    fd_ctx c = {.s = s};
    c.x = malloc(nx * sizeof(float)), c.w = malloc(nw * sizeof(float));
    c.b = malloc(s.oc * sizeof(float)), c.y = malloc(ny * sizeof(float));
    c.r = malloc(ny * sizeof(float));
    fill_uniform(r, c.x, nx, -1, 1);
    fill_uniform(r, c.w, nw, -1, 1);
    fill_uniform(r, c.b, s.oc, -1, 1);
    fill_uniform(r, c.r, ny, -1, 1);
    float *dx = malloc(nx * sizeof(float)), *dw = calloc(nw, sizeof(float));
    float *db = calloc(s.oc, sizeof(float));
    fn_ref_conv_backward(dx, dw, db, c.r, c.x, c.w, &s);
    char name[160], what[200];
    shape_name(name, sizeof name, &s, 1);
    /* Convolution is linear in each argument, so the only error is float
     * rounding of y: a wide step keeps it small relative to the quotient. */
    snprintf(what, sizeof what, "fd dx %s", name);
    check_fd(what, c.x, dx, nx, fd_loss, &c, 0.05, 1e-3);
    snprintf(what, sizeof what, "fd dw %s", name);
    check_fd(what, c.w, dw, nw, fd_loss, &c, 0.05, 1e-3);
    snprintf(what, sizeof what, "fd db %s", name);
    check_fd(what, c.b, db, s.oc, fd_loss, &c, 0.05, 1e-3);
    free(c.x), free(c.w), free(c.b), free(c.y), free(c.r), free(dx), free(dw), free(db);
}

/* ---- A ResNet-18 layer at a real batch ------------------------------------
 * N = 64, 64 -> 64 channels, 32x32, 3x3 s1 p1. The batch repeats `base`
 * distinct images (and output gradients), so the reference runs on `base`
 * images only: per-image outputs and dx match them, and dw, db are
 * N/base times the reference's. */
static void check_resnet_layer(fn_device *dev, fn_rng *r)
{
    const int base = 2;
    fn_conv_shape s = {64, 64, 32, 32, 64, 3, 3, 1, 1, 1}, sb = s;
    sb.n = base;
    size_t nx = x_len(&s), nw = w_len(&s), ny = y_len(&s);
    size_t bx = x_len(&sb), by = y_len(&sb);
    float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float));
    float *w = malloc(nw * sizeof(float)), b[64];
    fill_uniform(r, x, bx, -1, 1);
    fill_uniform(r, dy, by, -1, 1);
    fill_uniform(r, w, nw, -0.1f, 0.1f);
    fill_uniform(r, b, 64, -1, 1);
    for (int n = base; n < s.n; n++) {
        memcpy(x + n * bx / base, x + (n % base) * bx / base, bx / base * sizeof(float));
        memcpy(dy + n * by / base, dy + (n % base) * by / base, by / base * sizeof(float));
    }
    cl_mem gx = dev_upload(dev, x, nx), gw = dev_upload(dev, w, nw), gb = dev_upload(dev, b, 64);
    cl_mem gy = dev_upload(dev, NULL, ny), gdy = dev_upload(dev, dy, ny);
    cl_mem gdx = dev_upload(dev, NULL, nx), gdw = dev_upload(dev, NULL, nw);
    cl_mem gdb = dev_upload(dev, NULL, 64);

    /* The first calls compile kernels; time the second. */
    double t_fwd = 0, t_bwd = 0;
    for (int rep = 0; rep < 2; rep++) {
        fn_buffer_fill(dev, gdw, 0, nw * sizeof(float), 0.0f);
        fn_buffer_fill(dev, gdb, 0, 64 * sizeof(float), 0.0f);
        CHECK_OK(fn_finish(dev));
        double t0 = now();
        CHECK_OK(fn_conv_forward(dev, gy, gx, gw, gb, &s));
        CHECK_OK(fn_finish(dev));
        double t1 = now();
        CHECK_OK(fn_conv_backward(dev, gdx, gdw, gdb, gdy, gx, gw, &s));
        CHECK_OK(fn_finish(dev));
        t_fwd = t1 - t0, t_bwd = now() - t1;
    }
    printf("resnet layer n64 c64 32x32 oc64 3x3: forward %.3f s, backward %.3f s\n", t_fwd, t_bwd);

    float *ry = malloc(by * sizeof(float)), *rdx = malloc(bx * sizeof(float));
    float *rdw = calloc(nw, sizeof(float)), rdb[64] = {0};
    fn_ref_conv_forward(ry, x, w, b, &sb);
    fn_ref_conv_backward(rdx, rdw, rdb, dy, x, w, &sb);
    for (size_t i = 0; i < nw; i++)
        rdw[i] *= s.n / base;
    for (int i = 0; i < 64; i++)
        rdb[i] *= s.n / base;
    float *got = malloc(ny * sizeof(float));
    dev_download(dev, gy, got, ny);
    for (int n = 0; n < s.n; n += 21) /* a few images of the batch, last included */
        check_close("resnet forward", got + (n / base * base) * by / base, ry, by, 1e-4f, 1e-4f);
    check_close("resnet forward (last images)", got + ny - by, ry, by, 1e-4f, 1e-4f);
    dev_download(dev, gdx, got, nx);
    check_close("resnet dx (last images)", got + nx - bx, rdx, bx, 1e-4f, 1e-4f);
    dev_download(dev, gdw, got, nw);
    check_close("resnet dw", got, rdw, nw, 1e-2f, 1e-3f);
    dev_download(dev, gdb, got, 64);
    check_close("resnet db", got, rdb, 64, 1e-2f, 1e-4f);

    free(x), free(dy), free(w), free(ry), free(rdx), free(rdw), free(got);
    cl_mem m[] = {gx, gw, gb, gy, gdy, gdx, gdw, gdb};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
}

static void check_errors(fn_device *dev)
{
    cl_mem m = dev_upload(dev, NULL, 16);
    fn_conv_shape bad_groups = {1, 6, 4, 4, 4, 3, 3, 1, 1, 4};
    CHECK(fn_conv_forward(dev, m, m, m, NULL, &bad_groups) == FN_ERR_ARG, "groups must divide");
    fn_conv_shape too_big = {1, 1, 2, 2, 1, 5, 5, 1, 1, 1};
    CHECK(fn_conv_out_h(&too_big) == 0, "out_h of a kernel larger than the input");
    CHECK(fn_conv_backward(dev, m, m, m, m, m, m, &too_big) == FN_ERR_ARG, "kernel too large");
    fn_buffer_free(m);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);

    check_gemm_path(dev, &r, FN_GEMM_CLBLAST);
    dev->gemm_path = FN_GEMM_AUTO;

    check_ref_fd(&r, (fn_conv_shape){2, 3, 5, 5, 4, 3, 3, 2, 1, 1});
    check_ref_fd(&r, (fn_conv_shape){1, 2, 4, 5, 3, 1, 1, 1, 0, 1});
    check_ref_fd(&r, (fn_conv_shape){1, 4, 5, 4, 6, 3, 3, 1, 1, 2});
    check_ref_fd(&r, (fn_conv_shape){2, 3, 5, 6, 3, 3, 3, 2, 1, 3});

    check_errors(dev);
    if (!test_small()) check_resnet_layer(dev, &r);

    fn_device_free(dev);
    return check_summary("test_conv");
}
