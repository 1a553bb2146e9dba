/* 1x1 convolutions with few input channels (lib/ops/conv_pointwise.c,
 * conv_pw_strip; CPUs) against the plain-C twin, whatever the device:
 *  - fn_conv_pointwise_forward on a sweep of shapes: output channels 1 to
 *    70 (whole 6-row tiles, a 4-row remainder, 5 rows: a 6-row remainder),
 *    input channels 1 to 128, planes of 16 to 1024 positions, batch 1 and
 *    more; with bias, a folded batch norm + ReLU6 and bias + ReLU; output
 *    and scratch NaN-poisoned first; y from a batch of images offsets right;
 *  - the same forward equals the GEMM tiles' (dev->pointwise 0) bit for bit
 *    where they sum K in one slice (C < 128);
 *  - the dispatch: fn_conv_forward takes it (conv_pw_strip runs) only where
 *    fn_conv_pointwise_applies (dev->pointwise, 16 | H*W, C <= 128, at
 *    least 32 output channels and 16 panels), and
 *    the entry point refuses shapes it does not take;
 *  - through conv_check.h's checks (forward, every fused epilogue, backward)
 *    with it on: the sweep's 1x1 shapes and two it takes. */
#include "conv_check.h"
#include "launch_count.h"

static int pointwise_shape(const fn_conv_shape *s)
{
    return s->groups == 1 && s->kh == 1 && s->kw == 1;
}

/* Forward of s by the strip kernel and by the GEMM tiles (pointwise off),
 * with each epilogue, against the twin; the two must agree exactly. */
static void check_pw(fn_device *dev, fn_rng *r, fn_conv_shape s)
{
    layer L;
    layer_init(dev, r, &L, s);
    size_t ny = y_len(&s);
    float *want = malloc(ny * sizeof(float)), *got = malloc(ny * sizeof(float)),
          *tiles = malloc(ny * sizeof(float));
    char name[160], what[220];
    shape_name(name, sizeof name, &s, 1);
    fn_ref_conv_forward(want, L.x, L.w, L.b, &s);
    launch_count n;
    launch_count_start(dev, &n, "conv_pw_strip");
    poison_scratch(dev, &s);
    fn_buffer_fill(dev, L.gy, 0, ny * sizeof(float), NAN);
    CHECK_OK(fn_conv_pointwise_forward(dev, L.gy, L.gx, L.gw, L.gb, FN_EPI_BIAS, &s));
    dev_download(dev, L.gy, got, ny);
    snprintf(what, sizeof what, "pointwise forward %s", name);
    check_close(what, got, want, ny, 1e-4f, 1e-4f);
    CHECK(n.hits == 1 && n.total == 1, "pointwise %s: one conv_pw_strip launch (%d of %d)", name,
          n.hits, n.total);
    launch_count_stop(dev);
    /* The tiles' result, bit for bit (with a batch-norm epilogue + ReLU6). */
    cl_mem ab = dev_upload(dev, NULL, 2 * (size_t)s.oc);
    float *abh = malloc(2 * (size_t)s.oc * sizeof(float));
    fill_uniform(r, abh, 2 * (size_t)s.oc, -2, 2);
    fn_buffer_write(dev, ab, 0, 2 * (size_t)s.oc * sizeof(float), abh);
    int epi = fn_conv_epi(NULL, ab, 2), saved = dev->pointwise, same = 1;
    CHECK_OK(fn_conv_pointwise_forward(dev, L.gy, L.gx, L.gw, ab, epi, &s));
    dev_download(dev, L.gy, got, ny);
    dev->pointwise = 0;
    int gp = dev->gemm_path;
    dev->gemm_path = FN_GEMM_OWN;
    fn_buffer_fill(dev, L.gy, 0, ny * sizeof(float), NAN);
    CHECK_OK(fn_conv_forward_fused(dev, L.gy, L.gx, L.gw, NULL, ab, 2, &s));
    dev_download(dev, L.gy, tiles, ny);
    dev->gemm_path = gp;
    dev->pointwise = saved;
    for (size_t i = 0; i < ny; i++)
        same &= memcmp(&got[i], &tiles[i], sizeof(float)) == 0;
    /* From K = 128 the tiles may split K into slices (lib/ops/gemm.c): then
     * only close. */
    if (s.c >= 128) check_close(what, got, tiles, ny, 1e-5f, 1e-5f), same = 1;
    CHECK(same, "pointwise %s +bn relu6: bit-identical to the GEMM tiles", name);
    fn_buffer_free(ab);
    free(abh), free(want), free(got), free(tiles);
    layer_free(&L);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 11);
    int small = test_small();
    /* n, c, h, w, oc: 6-row tiles and remainders of 4 and 5 rows, K 1..128 */
    const int shapes[][5] = {
        {2, 5, 4, 4, 9},     {1, 1, 4, 4, 1},     {3, 16, 8, 8, 4},     {2, 8, 4, 8, 6},
        {2, 12, 8, 8, 5},    {1, 128, 4, 4, 7},   {2, 33, 8, 6, 70},    {1, 96, 8, 8, 16},
        {2, 16, 32, 32, 96}, {2, 96, 32, 32, 16}, {1, 127, 16, 16, 23}, {2, 24, 16, 16, 48},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        fn_conv_shape s = {
            shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4], 1, 1, 1, 0, 1};
        if (small && conv_macs(&s) > SMALL_MACS) continue;
        check_pw(dev, &r, s);
    }

    /* What the entry point refuses, and what the dispatch takes. */
    fn_conv_shape bad[] = {
        {1, 129, 4, 4, 8, 1, 1, 1, 0, 1}, /* C > 128 */
        {1, 8, 5, 5, 8, 1, 1, 1, 0, 1},   /* 25 positions */
        {1, 8, 8, 8, 8, 1, 1, 2, 0, 1},   /* stride 2 */
        {1, 8, 8, 8, 8, 3, 3, 1, 1, 1},   /* 3x3 */
    };
    /* Taken by the entry point, but not dispatched there. */
    fn_conv_shape thin[] = {
        {4, 8, 8, 8, 16, 1, 1, 1, 0, 1},  /* 16 output channels */
        {1, 16, 4, 4, 96, 1, 1, 1, 0, 1}, /* one panel */
    };
    for (size_t i = 0; i < sizeof thin / sizeof thin[0]; i++)
        CHECK(!fn_conv_pointwise_applies(dev, &thin[i]),
              "pointwise: thin shape %zu left to the tiles", i);
    layer L;
    layer_init(dev, &r, &L, (fn_conv_shape){1, 129, 8, 8, 8, 1, 1, 1, 0, 1});
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(fn_conv_pointwise_forward(dev, L.gy, L.gx, L.gw, NULL, 0, &bad[i]) == FN_ERR_ARG,
              "pointwise: shape %zu refused", i);
        CHECK(!fn_conv_pointwise_applies(dev, &bad[i]), "pointwise: shape %zu not dispatched", i);
    }
    layer_free(&L);
    fn_conv_shape ok = {4, 16, 8, 8, 40, 1, 1, 1, 0, 1};
    int saved = dev->pointwise, gp = dev->gemm_path;
    for (int on = 0; on <= 1; on++) {
        dev->pointwise = on;
        dev->gemm_path = FN_GEMM_OWN;
        layer_init(dev, &r, &L, ok);
        launch_count n;
        launch_count_start(dev, &n, "conv_pw_strip");
        CHECK_OK(fn_conv_forward(dev, L.gy, L.gx, L.gw, L.gb, &ok));
        launch_count_stop(dev);
        CHECK(fn_conv_pointwise_applies(dev, &ok) == on, "pointwise applies iff on (%d)", on);
        CHECK((n.hits > 0) == on, "fn_conv_forward runs conv_pw_strip iff on (%d: %d launches)",
              on, n.hits);
        layer_free(&L);
        dev->gemm_path = FN_GEMM_CLBLAST;
        CHECK(!fn_conv_pointwise_applies(dev, &ok), "pointwise: not on the CLBlast path");
    }
    dev->gemm_path = gp;

    /* The shared sweep's 1x1 shapes with it on (forward, fused, backward). */
    dev->pointwise = 1;
    dev->gemm_path = FN_GEMM_OWN;
    for_conv_shapes(dev, &r, pointwise_shape, check_shape);
    /* ... and two it takes (16 panels; 40 and 33 outputs: remainders of 4
     * and 3 rows), through conv_check.h's whole check (every fused case). */
    if (!small) {
        check_shape(dev, &r, (fn_conv_shape){4, 16, 8, 8, 40, 1, 1, 1, 0, 1});
        check_shape(dev, &r, (fn_conv_shape){1, 24, 16, 16, 33, 1, 1, 1, 0, 1});
    }
    dev->gemm_path = gp;
    dev->pointwise = saved;

    fn_device_free(dev);
    return check_summary("test_conv_pointwise");
}
