/* fn_gemm on the device against the plain-C twin, with the tiles for
 * 16-float SIMD (16, 8 and 4 rows; weight-gradient tiles 4 x 6) and for
 * 8-float SIMD (6 and 4 rows; 3 x 4) whatever the device (dev->simd_floats):
 * every tile height, views of NCHW tensors whose columns cross images (q not
 * a multiple of 16, q < 16, q = 1), transposed and padded views, ragged ends,
 * bias, accumulation, B given packed, and K split into slices (few tiles). */
#include "check.h"
#include "ref/ref.h"

/* The view an (M, N) matrix gets in a buffer: NCHW-like image columns when
 * q < n (rows of q floats, images of rows*q), else row-major or, when
 * transposed, column-major; pad adds gaps between rows and images. */
static fn_ref_view make_view(int rows, int cols, int q, int transposed, int pad, size_t *len)
{
    fn_ref_view v;
    if (transposed) { /* element (row, col) at col * ld + row */
        int ld = rows + pad;
        v = (fn_ref_view){cols, 0, 1, ld, pad};
        *len = (size_t)cols * ld + pad;
        return v;
    }
    int s_row = q + pad, sn = rows * s_row + pad, images = (cols + q - 1) / q;
    v = (fn_ref_view){q, sn, s_row, 1, pad}; /* and pad floats before it all */
    *len = (size_t)images * sn + pad;
    return v;
}

static fn_view on_device(cl_mem m, fn_ref_view v)
{
    return (fn_view){m, v.q, v.sn, v.s_row, v.s_col, v.off};
}

typedef struct {
    int m, n, k;
    int bq, cq; /* image width of B's and C's columns (n: plain) */
    int at, bt; /* A, B transposed (column-major) */
    int pad;    /* gaps between rows and images */
    int bias, acc, packed;
} gemm_case;

static void run_case(fn_device *dev, fn_rng *r, const gemm_case *t)
{
    size_t na, nb, nc;
    fn_ref_view av = make_view(t->m, t->k, t->k, t->at, t->pad, &na);
    fn_ref_view bv = make_view(t->k, t->n, t->bq, t->bt, t->pad, &nb);
    fn_ref_view cv = make_view(t->m, t->n, t->cq, 0, t->pad, &nc);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    float *bias = malloc((size_t)t->m * sizeof *bias), *got = malloc(nc * sizeof *got);
    fill_uniform(r, a, na, -1, 1);
    fill_uniform(r, b, nb, -1, 1);
    fill_uniform(r, c, nc, -1, 1);
    fill_uniform(r, bias, (size_t)t->m, -1, 1);
    cl_mem da = dev_upload(dev, a, na), db = dev_upload(dev, b, nb), dc = dev_upload(dev, c, nc);
    cl_mem dbias = dev_upload(dev, bias, (size_t)t->m), dbp = NULL;
    if (t->packed) { /* B in 16-column panels, zero past n */
        int panels = (t->n + 15) / 16;
        size_t np = (size_t)panels * t->k * 16;
        float *bp = calloc(np, sizeof *bp);
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < t->k; kk++)
                for (int l = 0; l < 16 && p * 16 + l < t->n; l++) {
                    int j = p * 16 + l;
                    bp[((size_t)p * t->k + kk) * 16 + l] =
                        b[bv.off + (size_t)(j / bv.q) * bv.sn + (size_t)kk * bv.s_row +
                          (size_t)(j % bv.q) * bv.s_col];
                }
        dbp = dev_upload(dev, bp, np);
        free(bp);
    }
    fn_gemm_args g = {.m = t->m,
                      .n = t->n,
                      .k = t->k,
                      .a = on_device(da, av),
                      .b = on_device(t->packed ? NULL : db, bv),
                      .c = on_device(dc, cv),
                      .b_packed = dbp,
                      .bias = t->bias ? dbias : NULL,
                      .accumulate = t->acc};
    CHECK_OK(fn_gemm(dev, &g));
    fn_ref_gemm(t->m, t->n, t->k, a, av, b, bv, c, cv, t->bias ? bias : NULL, t->acc);
    dev_download(dev, dc, got, nc);
    char what[128];
    snprintf(what, sizeof what,
             "gemm m=%d n=%d k=%d bq=%d cq=%d at=%d bt=%d pad=%d bias=%d acc=%d%s", t->m, t->n,
             t->k, t->bq, t->cq, t->at, t->bt, t->pad, t->bias, t->acc, t->packed ? " packed" : "");
    /* Over all of C: the gaps between rows and images must keep their values. */
    check_close(what, got, c, nc, 2e-6f * (float)t->k, 1e-5f);
    cl_mem m[] = {da, db, dc, dbias, dbp};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        fn_buffer_free(m[i]);
    free(a), free(b), free(c), free(bias), free(got);
}

/* A (rows, cols) host matrix in 16-column panels: out[(t*rows + r)*16 + l]. */
static float *panels(const float *m, int rows, int cols, size_t *len)
{
    int t_n = (cols + 15) / 16;
    *len = (size_t)t_n * rows * 16;
    float *out = calloc(*len, sizeof *out);
    for (int t = 0; t < t_n; t++)
        for (int r = 0; r < rows; r++)
            for (int l = 0; l < 16 && t * 16 + l < cols; l++)
                out[((size_t)t * rows + r) * 16 + l] = m[(size_t)r * cols + t * 16 + l];
    return out;
}

/* fn_gemm_pack_b from a padded NCHW-like view, and fn_gemm_nt:
 * C (M, N) [+]= A (M, P) . B (N, P)^T from packed panels. */
static void run_nt(fn_device *dev, fn_rng *r, int m, int n, int p, int acc)
{
    size_t na = (size_t)m * p, nb = (size_t)n * p, nc = (size_t)m * (n + 3), la, lb;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    float *got = malloc(nc * sizeof *got);
    fill_uniform(r, a, na, -1, 1);
    fill_uniform(r, b, nb, -1, 1);
    fill_uniform(r, c, nc, -1, 1);
    float *ap = panels(a, m, p, &la), *bp = panels(b, n, p, &lb), *gotp = malloc(la * sizeof *gotp);
    /* Packing: A as images of q = 7 columns with gaps between rows. */
    int q = 7, images = (p + q - 1) / q, s_row = q + 2, sn = m * s_row + 1;
    size_t nv = (size_t)images * sn;
    float *av = calloc(nv, sizeof *av);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < p; j++)
            av[(size_t)(j / q) * sn + (size_t)i * s_row + j % q] = a[(size_t)i * p + j];
    cl_mem dav = dev_upload(dev, av, nv), dap = dev_upload(dev, NULL, la);
    fn_buffer_fill(dev, dap, 0, la * sizeof(float), NAN);
    fn_view view = {dav, q, sn, s_row, 1, 0};
    CHECK_OK(fn_gemm_pack_b(dev, m, p, &view, dap));
    dev_download(dev, dap, gotp, la);
    char what[96];
    snprintf(what, sizeof what, "gemm_pack_b k=%d n=%d q=%d", m, p, q);
    check_close(what, gotp, ap, la, 0, 0);

    cl_mem dbp = dev_upload(dev, bp, lb), dc = dev_upload(dev, c, nc);
    fn_gemm_nt_args g = {.m = m, .n = n, .p = p, .a = dap, .b = dbp, .accumulate = acc};
    g.c = (fn_view){dc, n, 0, n + 3, 1, 0}; /* rows padded by 3 */
    CHECK_OK(fn_gemm_nt(dev, &g));
    fn_ref_gemm(m, n, p, a, (fn_ref_view){p, 0, p, 1, 0}, b, (fn_ref_view){n, 0, 1, p, 0}, c,
                (fn_ref_view){n, 0, n + 3, 1, 0}, NULL, acc);
    dev_download(dev, dc, got, nc);
    snprintf(what, sizeof what, "gemm_nt m=%d n=%d p=%d acc=%d", m, n, p, acc);
    check_close(what, got, c, nc, 2e-6f * (float)p, 1e-5f);
    cl_mem mm[] = {dav, dap, dbp, dc};
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++)
        fn_buffer_free(mm[i]);
    free(a), free(b), free(c), free(got), free(ap), free(bp), free(gotp), free(av);
}

int main(void)
{
    fn_device *dev = test_device();
    fn_rng r;
    fn_rng_seed(&r, 7);
    /* m, n, k, bq, cq, at, bt, pad, bias, acc, packed */
    const gemm_case cases[] = {
        {1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
        {6, 3 * 784, 25, 784, 784, 0, 0, 0, 1, 0, 0},   /* LeNet conv1: 8-row tiles */
        {16, 5 * 100, 150, 100, 100, 1, 0, 0, 0, 0, 1}, /* images inside a tile; packed B */
        {17, 2 * 7, 33, 7, 7, 0, 0, 3, 1, 1, 0},        /* q < 16, padded views */
        {40, 37, 70, 37, 37, 1, 1, 1, 0, 1, 0},         /* plain, ragged end, B transposed */
        {64, 2 * 64, 300, 64, 64, 0, 0, 0, 1, 0, 1},    /* 16-row tiles */
        {3, 4, 5, 1, 1, 1, 0, 2, 1, 1, 0},              /* 4-row tiles; q = 1 */
        {9, 3 * 48, 2, 48, 48, 0, 1, 5, 0, 1, 0},
        {130, 2 * 33, 17, 33, 33, 1, 0, 0, 1, 0, 0},
        {10, 20, 3000, 20, 20, 0, 0, 0, 1, 0, 0},    /* few tiles: K split into slices */
        {5, 7, 5000, 7, 7, 1, 0, 2, 1, 1, 0},        /* slices, accumulate, padded C */
        {120, 128, 400, 128, 128, 0, 1, 0, 1, 0, 0}, /* a linear layer: y^T = W . x^T */
        {33, 50, 20, 10, 25, 0, 0, 1, 0, 0, 0},      /* B and C with different images */
        {20, 3 * 32, 40, 32, 32, 0, 0, 3, 1, 1, 0},  /* B read in place, padded */
        {7, 2 * 16, 9, 16, 16, 1, 0, 0, 0, 0, 0},    /* B in place, images of one tile */
    };
    const int simd[] = {16, 8}, native = dev->simd_floats;
    for (int si = 0; si < 2; si++) {
        dev->simd_floats = simd[si];
        /* Small-shape mode drops the two products over 2M multiply-adds: 16-row
         * tiles stay in the 130-row case. */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (!test_small() || (double)cases[i].m * cases[i].n * cases[i].k < 2e6)
                run_case(dev, &r, &cases[i]);

        /* m, n, p: tiles with ragged edges, one panel, many slices */
        run_nt(dev, &r, 1, 1, 1, 0);
        run_nt(dev, &r, 6, 25, 100, 1);
        if (!test_small()) run_nt(dev, &r, 16, 150, 3000, 1);
        run_nt(dev, &r, 7, 5, 20000, 0);
        run_nt(dev, &r, 33, 18, 16, 1);  /* gemm_nt8: 4 column tiles per item, the last short */
        if (!test_small()) run_nt(dev, &r, 40, 61, 300, 0); /* 8 per item, a partial tile */
    }
    dev->simd_floats = native;

    fn_gemm_args bad = {.m = 0, .n = 1, .k = 1};
    CHECK(fn_gemm(dev, &bad) == FN_ERR_ARG, "m = 0 accepted");
    fn_device_free(dev);
    return check_summary("test_gemm");
}
