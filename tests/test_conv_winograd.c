/* Winograd F(2x2, 3x3) (lib/ops/conv_winograd.c) against the plain-C twin
 * (lib/ref/conv.c, which sums in double), whatever the device:
 *  - the three entry points (forward with and without bias, the input
 *    gradient, the weight gradient accumulating) over every 3x3 stride-1 shape of the shared sweep and more:
 *    odd sizes, pads 0 to 2, channels off multiples of the 6 x 16 tiles,
 *    batch 1, one tile, several chunks of images, tile rows of 1, 2, 4, 8,
 *    15, 16 and 32 tiles (the transforms' whole-row paths and the rest); every scratch slot
 *    poisoned with NaN first, dx and y started from garbage;
 *  - the dispatch: fn_conv_forward/backward take it (its kernels run) only
 *    where fn_conv_winograd_applies and dev->winograd is set, and give the
 *    reference's results there (dw, db and the gradient rule included);
 *  - how far it strays from the reference next to the direct path on a
 *    ResNet-18 layer 1 shape (printed: README "Against PyTorch"), within
 *    the tolerance the convolution tests use (1e-4 absolute + relative).
 * Both SIMD tile widths of the products (dev->simd_floats 16 and 8). */
#include "conv_check.h"
#include "launch_count.h"

static int is_wino_shape(const fn_conv_shape *s)
{
    return s->groups == 1 && s->kh == 3 && s->kw == 3 && s->stride == 1 && s->pad <= 2;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* dw (3x3) = base + the weight gradient in double sums: the twin sums in
 * float, which over a batch of 64x64 planes (36864 terms) strays by 2e-3. */
static void ref_dw(float *dw, const float *base, const layer *L)
{
    const fn_conv_shape s = L->s;
    int oh = fn_conv_out_h(&s), ow = fn_conv_out_w(&s);
    for (int o = 0; o < s.oc; o++)
        for (int c = 0; c < s.c; c++)
            for (int k = 0; k < 9; k++) {
                size_t at = ((size_t)o * s.c + c) * 9 + k;
                double acc = base ? base[at] : 0.0;
                for (int n = 0; n < s.n; n++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++) {
                            int ih = i - s.pad + k / 3, iw = j - s.pad + k % 3;
                            if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                            acc += (double)L->dy[(((size_t)n * s.oc + o) * oh + i) * ow + j] *
                                   L->x[(((size_t)n * s.c + c) * s.h + ih) * s.w + iw];
                        }
                dw[at] = (float)acc;
            }
}

/* The entry points on one shape. */
static void check_entry(fn_device *dev, fn_rng *r, fn_conv_shape s)
{
    layer L;
    layer_init(dev, r, &L, s);
    size_t nx = x_len(&s), ny = y_len(&s);
    float *y = malloc(ny * sizeof(float)), *dx = malloc(nx * sizeof(float));
    float *got = malloc((nx > ny ? nx : ny) * sizeof(float));
    float *dw = malloc(w_len(&s) * sizeof(float));
    char name[160], what[200];
    for (int bias = 0; bias <= 1; bias++) {
        shape_name(name, sizeof name, &s, bias);
        fn_ref_conv_forward(y, L.x, L.w, bias ? L.b : NULL, &s);
        poison_scratch(dev, &s);
        fn_buffer_fill(dev, L.gy, 0, ny * sizeof(float), 1e30f);
        CHECK_OK(fn_conv_winograd_forward(dev, L.gy, L.gx, L.gw, bias ? L.gb : NULL, bias, &s));
        dev_download(dev, L.gy, got, ny);
        snprintf(what, sizeof what, "winograd forward %s", name);
        check_close(what, got, y, ny, 1e-4f, 1e-4f);
    }
    /* The epilogue: a folded batch norm's affine (a, b per channel), then
     * ReLU6, against the reference's output put through the same fma. */
    shape_name(name, sizeof name, &s, 0);
    float *ab = malloc(2 * s.oc * sizeof(float));
    fill_uniform(r, ab, 2 * s.oc, -3, 3);
    fn_ref_conv_forward(y, L.x, L.w, NULL, &s);
    int q = fn_conv_out_h(&s) * fn_conv_out_w(&s);
    for (size_t i = 0; i < ny; i++) {
        int o = (int)(i / q % s.oc);
        float v = fmaf(y[i], ab[o], ab[s.oc + o]);
        y[i] = v < 0 ? 0 : v > 6 ? 6 : v;
    }
    cl_mem gab = dev_upload(dev, ab, 2 * s.oc);
    poison_scratch(dev, &s);
    CHECK_OK(fn_conv_winograd_forward(dev, L.gy, L.gx, L.gw, gab, fn_conv_epi(NULL, gab, 2), &s));
    dev_download(dev, L.gy, got, ny);
    snprintf(what, sizeof what, "winograd forward, folded batch norm + ReLU6 %s", name);
    check_close(what, got, y, ny, 3e-4f, 1e-4f);
    fn_buffer_free(gab);
    free(ab);

    fn_ref_conv_backward(dx, NULL, NULL, L.dy, L.x, L.w, &s);
    ref_dw(dw, L.dw0, &L);
    poison_scratch(dev, &s);
    fn_buffer_fill(dev, L.gdx, 0, nx * sizeof(float), 1e30f);
    CHECK_OK(fn_conv_winograd_backward_data(dev, L.gdx, L.gdy, L.gw, &s));
    dev_download(dev, L.gdx, got, nx);
    snprintf(what, sizeof what, "winograd dx %s", name);
    check_close(what, got, dx, nx, 1e-4f, 1e-4f);

    /* dw accumulates onto random values. */
    fn_buffer_write(dev, L.gdw, 0, w_len(&s) * sizeof(float), L.dw0);
    poison_scratch(dev, &s);
    CHECK_OK(fn_conv_winograd_backward_filter(dev, L.gdw, L.gdy, L.gx, &s));
    float *gotw = malloc(w_len(&s) * sizeof(float));
    dev_download(dev, L.gdw, gotw, w_len(&s));
    snprintf(what, sizeof what, "winograd dw %s", name);
    check_close(what, gotw, dw, w_len(&s), 2e-4f, 1e-4f);
    free(gotw);
    free(y), free(dx), free(got), free(dw);
    layer_free(&L);
}

/* Whether fn_conv_forward and fn_conv_backward ran the Winograd kernels. */
static void check_dispatch(fn_device *dev, fn_rng *r, fn_conv_shape s, int want)
{
    layer L;
    layer_init(dev, r, &L, s);
    launch_count l;
    launch_count_start(dev, &l, "wino_input");
    CHECK_OK(fn_conv_forward(dev, L.gy, L.gx, L.gw, L.gb, &s));
    int fwd = l.hits;
    CHECK_OK(fn_conv_backward(dev, L.gdx, L.gdw, L.gdb, L.gdy, L.gx, L.gw, &s));
    int bwd = l.hits - fwd;
    CHECK_OK(fn_conv_backward(dev, NULL, L.gdw, NULL, L.gdy, L.gx, L.gw, &s));
    int dw_only = l.hits - fwd - bwd; /* dw's input transform */
    launch_count_stop(dev);
    char name[160];
    shape_name(name, sizeof name, &s, 1);
    CHECK((fwd > 0) == want && (bwd > 0) == want && (dw_only > 0) == want && l.total > 0,
          "dispatch %s: winograd %d wanted, forward %d, backward %d, dw alone %d launches", name,
          want, fwd, bwd, dw_only);
    CHECK(fn_conv_winograd_applies(dev, &s) == want, "fn_conv_winograd_applies %s", name);
    layer_free(&L);
}

/* Largest difference from the reference, Winograd against the direct path,
 * on one shape (forward and dx). */
static void report_error(fn_device *dev, fn_rng *r, fn_conv_shape s)
{
    layer L;
    layer_init(dev, r, &L, s);
    size_t nx = x_len(&s), ny = y_len(&s), nw = w_len(&s);
    float *y = malloc(ny * sizeof(float)), *dx = malloc(nx * sizeof(float));
    float *dw = calloc(nw, sizeof(float)), *got = malloc((nx > ny ? nx : ny) * sizeof(float));
    fn_ref_conv_forward(y, L.x, L.w, NULL, &s);
    /* dx in double sums too: the forward of dY padded by 2 - pad with the
     * filters rotated and transposed (the backward twin sums in float). */
    fn_conv_shape t = {s.n, s.oc, fn_conv_out_h(&s), fn_conv_out_w(&s), s.c, 3, 3, 1, 2 - s.pad, 1};
    for (int o = 0; o < s.oc; o++)
        for (int c = 0; c < s.c; c++)
            for (int k = 0; k < 9; k++)
                dw[((size_t)c * s.oc + o) * 9 + 8 - k] = L.w[((size_t)o * s.c + c) * 9 + k];
    fn_ref_conv_forward(dx, L.dy, dw, NULL, &t);
    ref_dw(dw, NULL, &L);
    double e[2][3], ry = max_diff(y, y, 0), big = 0;
    for (size_t i = 0; i < ny; i++)
        big = fabs(y[i]) > big ? fabs(y[i]) : big;
    for (int wino = 0; wino <= 1; wino++) {
        dev->winograd = wino;
        CHECK(fn_conv_winograd_applies(dev, &s) == wino, "error shape takes the path it measures");
        CHECK_OK(fn_conv_forward(dev, L.gy, L.gx, L.gw, NULL, &s));
        dev_download(dev, L.gy, got, ny);
        e[wino][0] = max_diff(got, y, ny);
        CHECK_OK(fn_conv_backward(dev, L.gdx, L.gdw, NULL, L.gdy, L.gx, L.gw, &s));
        dev_download(dev, L.gdx, got, nx);
        e[wino][1] = max_diff(got, dx, nx);
        fn_buffer_fill(dev, L.gdw, 0, nw * sizeof(float), 0.0f);
        CHECK_OK(fn_conv_backward(dev, NULL, L.gdw, NULL, L.gdy, L.gx, L.gw, &s));
        dev_download(dev, L.gdw, got, nw);
        e[wino][2] = max_diff(got, dw, nw);
    }
    char name[160];
    shape_name(name, sizeof name, &s, 0);
    printf("error against double sums, %s (|y| up to %.1f): forward direct %.2e winograd %.2e, "
           "dx direct %.2e winograd %.2e, dw direct %.2e winograd %.2e\n",
           name, big + ry, e[0][0], e[1][0], e[0][1], e[1][1], e[0][2], e[1][2]);
    CHECK(e[1][0] <= 1e-4 + 1e-4 * big && e[1][1] < 1e-3 && e[1][2] < 1e-2, "winograd error %s",
          name);
    free(y), free(dx), free(dw), free(got);
    layer_free(&L);
}

/* Shapes beyond the shared sweep: n, c, h, w, oc, kh, kw, stride, pad, groups */
static const fn_conv_shape extra[] = {
    {2, 17, 9, 7, 19, 3, 3, 1, 1, 1},   /* odd planes, channels off the tiles */
    {1, 16, 4, 4, 16, 3, 3, 1, 1, 1},   /* batch 1, one panel of four tiles */
    {3, 5, 6, 5, 7, 3, 3, 1, 0, 1},     /* unpadded: odd outputs */
    {2, 6, 5, 6, 9, 3, 3, 1, 2, 1},     /* pad 2: dx unpadded */
    {1, 3, 3, 3, 2, 3, 3, 1, 0, 1},     /* one output */
    {2, 33, 2, 2, 40, 3, 3, 1, 1, 1},   /* 2x2 planes: one tile per image */
    {9, 16, 64, 64, 16, 3, 3, 1, 1, 1}, /* more images than one chunk holds */
    {2, 16, 6, 6, 16, 3, 3, 1, 2, 1},   /* pad 2, rows of 4 tiles */
    {2, 8, 10, 10, 8, 3, 3, 1, 0, 1},   /* unpadded, rows of 4 tiles */
    {20, 4, 1, 3, 5, 3, 3, 1, 1, 1},    /* one output row: patches half outside */
    {17, 3, 2, 1, 4, 3, 3, 1, 1, 1},    /* rows of one tile */
    {3, 5, 14, 30, 6, 3, 3, 1, 1, 1},   /* rows of 15 tiles: panels across rows */
    /* The row-vector transforms (pad 1, even widths, whole segments): */
    {16, 4, 2, 2, 5, 3, 3, 1, 1, 1},    /* one tile per image: panels across 16 images */
    {5, 3, 4, 4, 4, 3, 3, 1, 1, 1},     /* rows of 2 tiles, a partial last panel */
    {3, 4, 8, 64, 5, 3, 3, 1, 1, 1},    /* rows of 32 tiles: the neighbours' columns */
    {2, 3, 7, 16, 4, 3, 3, 1, 1, 1},    /* odd height: the last tile row half outside */
    {3, 5, 6, 8, 3, 3, 3, 1, 1, 1},     /* rows of 4 tiles, 3 rows per image */
};

static const fn_conv_shape small_extra[] = {
    {2, 3, 5, 3, 4, 3, 3, 1, 1, 1},
    {1, 2, 4, 4, 3, 3, 3, 1, 2, 1},
    {2, 17, 3, 3, 7, 3, 3, 1, 1, 1},
    {1, 2, 8, 8, 3, 3, 3, 1, 1, 1}, /* whole rows of 4 tiles */
    {1, 2, 4, 32, 2, 3, 3, 1, 1, 1}, /* rows of 16 tiles */
    {16, 2, 2, 2, 3, 3, 3, 1, 1, 1}, /* one tile per image: panels across 16 images */
    {1, 2, 5, 64, 2, 3, 3, 1, 1, 1}, /* rows of 32 tiles, odd height */
};

static void run_sweep(fn_device *dev, fn_rng *r)
{
    for_conv_shapes(dev, r, is_wino_shape, check_entry);
    int small = test_small();
    size_t n = small ? sizeof small_extra / sizeof small_extra[0] : sizeof extra / sizeof extra[0];
    for (size_t i = 0; i < n; i++)
        check_entry(dev, r, small ? small_extra[i] : extra[i]);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 18);
    const int native = dev->simd_floats, path = dev->gemm_path, wino = dev->winograd;
    const int rows = dev->wino_rows, dw_rule = dev->wino_dw;
    dev->gemm_path = FN_GEMM_OWN;
    /* Both tile families; on the simulated GPU (small-shape mode) the AVX2
     * one alone, to keep that CI step in its budget (test_gemm runs both
     * there): 156 s per oclgrind pass with both. The transforms' row-vector
     * paths and the weight gradient's products as gemm_mr on V transposed
     * (wino_dw 1), then (AVX2 tiles, not in small-shape mode) the old ways:
     * element-by-element gathers, gemm_nt8 on V in place. Small-shape mode
     * takes the products by the rule, which picks each on some shapes. */
    for (int fast = 1; fast >= 0; fast--)
        for (int simd = 16; simd >= 8; simd /= 2) {
            if ((test_small() || !fast) && simd != 8) continue;
            if (test_small() && !fast) continue;
            dev->simd_floats = simd;
            dev->wino_rows = fast;
            dev->wino_dw = !fast ? 0 : test_small() ? -1 : 1;
            run_sweep(dev, &r);
        }
    dev->simd_floats = native;
    dev->wino_rows = rows;
    dev->wino_dw = dw_rule;

    /* The dispatch, and full forward/backward/rule checks through it. */
    int small = test_small();
    fn_conv_shape big = {2, 24, 24, 24, 20, 3, 3, 1, 1, 1}, thin = {2, 8, 24, 24, 20, 3, 3, 1, 1, 1};
    fn_conv_shape few = {2, 24, 8, 8, 20, 3, 3, 1, 1, 1};  /* 128 positions: direct */
    fn_conv_shape strided = {2, 24, 24, 24, 20, 3, 3, 2, 1, 1};
    /* Small-shape mode (a simulated GPU, where this path runs only when a
     * test forces it) leaves the dispatch out: its smallest eligible shape
     * (1024 output positions) is the test's largest, and the whole test with
     * it took 340 s per oclgrind pass. */
    dev->winograd = 1;
    if (!small) {
        check_dispatch(dev, &r, big, 1);
        check_dispatch(dev, &r, thin, 0);
        check_dispatch(dev, &r, strided, 0);
        check_dispatch(dev, &r, few, 0);
        check_shape(dev, &r, big);
        check_rule(dev, &r, big);
    }
    if (!small) {
        dev->winograd = 0;
        check_dispatch(dev, &r, big, 0);
        dev->gemm_path = FN_GEMM_CLBLAST; /* GPUs' path: never Winograd */
        dev->winograd = 1;
        check_dispatch(dev, &r, big, 0);
        dev->gemm_path = FN_GEMM_OWN;
    }

    if (!small) report_error(dev, &r, (fn_conv_shape){2, 64, 32, 32, 64, 3, 3, 1, 1, 1});
    dev->gemm_path = path;
    dev->winograd = wino;
    fn_device_free(dev);
    return check_summary("test_conv_winograd");
}
