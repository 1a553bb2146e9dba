/* The batch loader on tiny synthetic datasets: determinism, resuming,
 * coverage, shuffling, normalization, crop and flip, batch edge cases. */
#include "check.h"
#include "data/data.h"

/* Image i, pixel (c, y, x) = distinct values, so a crop/flip can be recognised. */
static fn_dataset *make(int n, int c, int h, int w, int classes)
{
    uint8_t *img = malloc((size_t)n * c * h * w);
    int32_t *lab = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) {
        lab[i] = i % classes;
        for (int k = 0; k < c * h * w; k++)
            img[(size_t)i * c * h * w + k] = (uint8_t)(1 + (i * 37 + k * 11) % 250);
    }
    fn_dataset *d = NULL;
    CHECK_OK(fn_dataset_from_memory("synthetic", n, c, h, w, classes, img, lab, NULL, &d));
    free(img);
    free(lab);
    if (!d) exit(1);
    return d;
}

static fn_loader_opts plain(int batch)
{
    fn_loader_opts o = {0};
    o.batch = batch;
    o.seed = 1234;
    for (int k = 0; k < 3; k++) {
        o.mean[k] = 0;
        o.std[k] = 1;
    }
    return o;
}

/* Every batch of one epoch, concatenated. */
typedef struct {
    float *x;
    int32_t *y;
    int n, batches, counts[64];
} epoch_data;

static epoch_data run_epoch(fn_loader *l, int epoch, int first, size_t per)
{
    epoch_data e = {0};
    e.x = malloc(sizeof(float) * per * 4096);
    e.y = malloc(sizeof(int32_t) * 4096);
    CHECK_OK(fn_loader_start(l, epoch, first));
    for (;;) {
        const float *x;
        const int32_t *y;
        int count;
        CHECK_OK(fn_loader_next(l, &x, &y, &count));
        if (count == 0) break;
        memcpy(e.x + e.n * per, x, sizeof(float) * per * count);
        memcpy(e.y + e.n, y, sizeof(int32_t) * count);
        if (e.batches < 64) e.counts[e.batches] = count;
        e.batches++;
        e.n += count;
    }
    return e;
}

static void epoch_free(epoch_data *e)
{
    free(e->x);
    free(e->y);
}

static int same_epoch(const epoch_data *a, const epoch_data *b, size_t per)
{
    return a->n == b->n && memcmp(a->x, b->x, sizeof(float) * per * a->n) == 0 &&
           memcmp(a->y, b->y, sizeof(int32_t) * a->n) == 0;
}

/* Which dataset image a non-augmented, mean 0 / std 1 sample is. */
static int which(const fn_dataset *d, const float *x)
{
    size_t per = (size_t)fn_dataset_channels(d) * fn_dataset_height(d) * fn_dataset_width(d);
    for (int i = 0; i < fn_dataset_count(d); i++) {
        const uint8_t *im = fn_dataset_image(d, i);
        int ok = 1;
        for (size_t k = 0; k < per && ok; k++)
            ok = fabsf(x[k] - im[k] / 255.0f) < 1e-6f;
        if (ok) return i;
    }
    return -1;
}

static void test_order(void)
{
    fn_dataset *d = make(10, 1, 4, 4, 3);
    size_t per = 16;
    fn_loader_opts o = plain(4);
    fn_loader *l = NULL;
    CHECK_OK(fn_loader_create(d, &o, &l));
    CHECK(fn_loader_batches(l) == 3, "10 images in batches of 4: 3 batches");
    epoch_data e = run_epoch(l, 0, 0, per);
    CHECK(e.batches == 3 && e.counts[0] == 4 && e.counts[2] == 2, "batch sizes 4, 4, 2");
    int in_order = e.n == 10;
    for (int i = 0; i < e.n; i++)
        in_order &= which(d, e.x + i * per) == i && e.y[i] == i % 3;
    CHECK(in_order, "no shuffle gives dataset order");
    /* Past the end, next keeps answering 0. */
    const float *x;
    const int32_t *y;
    int count = -1;
    CHECK_OK(fn_loader_next(l, &x, &y, &count));
    CHECK(count == 0, "still at the end");
    epoch_free(&e);
    fn_loader_free(l);

    o.shuffle = 1;
    CHECK_OK(fn_loader_create(d, &o, &l));
    epoch_data e0 = run_epoch(l, 0, 0, per), e1 = run_epoch(l, 1, 0, per);
    for (int ep = 0; ep < 2; ep++) {
        epoch_data *ed = ep ? &e1 : &e0;
        int seen[10] = {0}, ok = ed->n == 10;
        for (int i = 0; i < ed->n; i++) {
            int k = which(d, ed->x + i * per);
            ok &= k >= 0 && ed->y[i] == k % 3;
            if (k >= 0) seen[k]++;
        }
        for (int k = 0; k < 10; k++)
            ok &= seen[k] == 1;
        CHECK(ok, "epoch %d: every sample exactly once, labels follow images", ep);
    }
    CHECK(!same_epoch(&e0, &e1, per), "shuffle differs between epochs");
    int shuffled = 0;
    for (int i = 0; i < e0.n; i++)
        shuffled |= which(d, e0.x + i * per) != i;
    CHECK(shuffled, "shuffle changes the order");
    epoch_free(&e0);
    epoch_free(&e1);
    fn_loader_free(l);

    /* drop_last, and a batch larger than the dataset. */
    o.drop_last = 1;
    CHECK_OK(fn_loader_create(d, &o, &l));
    e = run_epoch(l, 0, 0, per);
    CHECK(fn_loader_batches(l) == 2 && e.n == 8 && e.batches == 2, "drop_last drops 2");
    epoch_free(&e);
    fn_loader_free(l);
    o = plain(32);
    CHECK_OK(fn_loader_create(d, &o, &l));
    e = run_epoch(l, 0, 0, per);
    CHECK(fn_loader_batches(l) == 1 && e.batches == 1 && e.n == 10, "one batch of all 10");
    epoch_free(&e);
    fn_loader_free(l);
    o.drop_last = 1;
    CHECK_OK(fn_loader_create(d, &o, &l));
    e = run_epoch(l, 0, 0, per);
    CHECK(fn_loader_batches(l) == 0 && e.n == 0, "drop_last of a too-large batch: nothing");
    epoch_free(&e);
    fn_loader_free(l);

    /* Misuse. */
    o = plain(4);
    CHECK_OK(fn_loader_create(d, &o, &l));
    CHECK(fn_loader_next(l, &x, &y, &count) == FN_ERR_ARG, "next before start");
    CHECK(fn_loader_start(l, 0, 4) == FN_ERR_ARG, "start past the end");
    CHECK(fn_loader_start(l, -1, 0) == FN_ERR_ARG, "negative epoch");
    CHECK_OK(fn_loader_start(l, 0, 3));
    CHECK_OK(fn_loader_next(l, &x, &y, &count));
    CHECK(count == 0, "starting at the last batch + 1 gives the end");
    fn_loader_free(l);
    o.batch = 0;
    CHECK(fn_loader_create(d, &o, &l) == FN_ERR_ARG, "batch 0");
    o = plain(4);
    o.std[0] = -1;
    CHECK(fn_loader_create(d, &o, &l) == FN_ERR_ARG, "negative std");
    fn_dataset_free(d);
}

static void test_determinism(void)
{
    fn_dataset *d = make(300, 3, 8, 8, 10);
    size_t per = 3 * 64;
    fn_loader_opts o = plain(32);
    o.shuffle = 1;
    o.augment = 1;
    fn_loader *a = NULL, *b = NULL;
    CHECK_OK(fn_loader_create(d, &o, &a));
    CHECK_OK(fn_loader_create(d, &o, &b));
    epoch_data ref[3];
    for (int ep = 0; ep < 3; ep++) {
        ref[ep] = run_epoch(a, ep, 0, per);
        epoch_data other = run_epoch(b, ep, 0, per);
        CHECK(same_epoch(&ref[ep], &other, per), "epoch %d identical across two loaders", ep);
        epoch_free(&other);
    }
    /* Resuming at (epoch, batch) reproduces the rest of that epoch, even after
     * restarts in the middle of others. */
    for (int ep = 0; ep < 3; ep++) {
        for (int first = 0; first <= fn_loader_batches(b); first += 3) {
            const float *x;
            const int32_t *y;
            int count;
            CHECK_OK(fn_loader_start(b, (ep + 1) % 3, 1)); /* abandoned half way */
            CHECK_OK(fn_loader_next(b, &x, &y, &count));
            epoch_data r = run_epoch(b, ep, first, per);
            int start = first * 32 < 300 ? first * 32 : 300;
            int ok = r.n == 300 - start &&
                     memcmp(r.x, ref[ep].x + start * per, sizeof(float) * per * r.n) == 0 &&
                     memcmp(r.y, ref[ep].y + start, sizeof(int32_t) * r.n) == 0;
            CHECK(ok, "resume at epoch %d batch %d", ep, first);
            epoch_free(&r);
        }
    }
    /* A different seed changes the data. */
    o.seed = 99;
    fn_loader *c = NULL;
    CHECK_OK(fn_loader_create(d, &o, &c));
    epoch_data other = run_epoch(c, 0, 0, per);
    CHECK(!same_epoch(&ref[0], &other, per), "another seed, another epoch");
    epoch_free(&other);
    fn_loader_free(c);
    /* Freeing while the worker is mid-epoch. */
    CHECK_OK(fn_loader_start(a, 0, 0));
    for (int ep = 0; ep < 3; ep++)
        epoch_free(&ref[ep]);
    fn_loader_free(a);
    fn_loader_free(b);
    fn_dataset_free(d);
}

static void test_normalization(void)
{
    fn_dataset *d = make(5, 3, 2, 3, 2);
    fn_loader_opts o = plain(5);
    const float mean[3] = {0.1f, 0.5f, 0.9f}, std[3] = {0.2f, 0.25f, 2.0f};
    memcpy(o.mean, mean, sizeof mean);
    memcpy(o.std, std, sizeof std);
    fn_loader *l = NULL;
    CHECK_OK(fn_loader_create(d, &o, &l));
    epoch_data e = run_epoch(l, 0, 0, 18);
    float want[5 * 18];
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 18; k++)
            want[i * 18 + k] = (fn_dataset_image(d, i)[k] / 255.0f - mean[k / 6]) / std[k / 6];
    check_close("normalized", e.x, want, 90, 1e-6f, 1e-6f);
    epoch_free(&e);
    fn_loader_free(l);

    /* std[0] == 0 takes the dataset's own normalization. */
    o.std[0] = 0;
    CHECK_OK(fn_loader_create(d, &o, &l));
    e = run_epoch(l, 0, 0, 18);
    float m[3], s[3];
    fn_dataset_default_norm(d, m, s);
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 18; k++)
            want[i * 18 + k] = (fn_dataset_image(d, i)[k] / 255.0f - m[k / 6]) / s[k / 6];
    check_close("default normalized", e.x, want, 90, 1e-5f, 1e-5f);
    double sum = 0, sum2 = 0;
    for (int i = 0; i < 90; i++) {
        sum += e.x[i];
        sum2 += (double)e.x[i] * e.x[i];
    }
    CHECK(fabs(sum / 90) < 0.05 && fabs(sum2 / 90 - 1) < 0.15,
          "default normalization centres the data (mean %g, var %g)", sum / 90, sum2 / 90);
    epoch_free(&e);
    fn_loader_free(l);
    fn_dataset_free(d);
}

/* The sample torchvision's RandomCrop(pad) + RandomHorizontalFlip would give
 * for offsets (oy, ox) and a flip, normalized with mean m / std s. */
static void reference(const uint8_t *img, int C, int H, int W, int pad, int oy, int ox, int flip,
                      float m, float s, float *out)
{
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sx = flip ? W - 1 - x : x;
                int py = y + oy - pad, px = sx + ox - pad;
                int v = py >= 0 && py < H && px >= 0 && px < W ? img[(c * H + py) * W + px] : 0;
                out[(c * H + y) * W + x] = (v / 255.0f - m) / s;
            }
}

static void test_augment(int H, int W, int pad_opt, int want_pad, int flip_opt, int want_flip)
{
    int C = 2, N = 12;
    fn_dataset *d = make(N, C, H, W, 4);
    size_t per = (size_t)C * H * W;
    fn_loader_opts o = plain(5);
    o.augment = 1;
    o.shuffle = 1;
    o.pad = pad_opt;
    o.flip = flip_opt;
    for (int k = 0; k < 3; k++) {
        o.mean[k] = 0.25f;
        o.std[k] = 0.5f;
    }
    fn_loader *l = NULL;
    CHECK_OK(fn_loader_create(d, &o, &l));
    int side = 2 * want_pad + 1;
    int *hits = calloc((size_t)side * side * 2, sizeof(int));
    float *ref = malloc(sizeof(float) * per);
    int unmatched = 0, total = 0, flips = 0;
    for (int ep = 0; ep < 40; ep++) {
        epoch_data e = run_epoch(l, ep, 0, per);
        for (int i = 0; i < e.n; i++) {
            /* Find the image, offsets and flip that explain this sample. */
            int found = 0;
            for (int k = 0; k < N && !found; k++) {
                if (e.y[i] != k % 4) continue;
                for (int oy = 0; oy < side && !found; oy++)
                    for (int ox = 0; ox < side && !found; ox++)
                        for (int f = 0; f < 2 && !found; f++) {
                            reference(fn_dataset_image(d, k), C, H, W, want_pad, oy, ox, f, 0.25f,
                                      0.5f, ref);
                            int ok = 1;
                            for (size_t q = 0; q < per && ok; q++)
                                ok = fabsf(ref[q] - e.x[i * per + q]) < 1e-5f;
                            if (ok) {
                                found = 1;
                                hits[(oy * side + ox) * 2 + f]++;
                                flips += f;
                            }
                        }
            }
            unmatched += !found;
            total++;
        }
        epoch_free(&e);
    }
    CHECK(unmatched == 0, "%dx%d pad %d: %d of %d samples are no crop/flip of any image", H, W,
          want_pad, unmatched, total);
    int missing = 0;
    for (int k = 0; k < side * side * 2; k++)
        if (want_flip || k % 2 == 0) missing += hits[k] == 0;
    CHECK(missing == 0, "%dx%d pad %d: %d crop/flip combinations never drawn", H, W, want_pad,
          missing);
    if (want_flip)
        CHECK(flips > total * 0.35 && flips < total * 0.65, "flip rate %d of %d", flips, total);
    else
        CHECK(flips == 0 || H == 1, "no flips when flip is off");
    free(hits);
    free(ref);
    fn_loader_free(l);
    fn_dataset_free(d);
}

/* Under data parallelism each rank fills only its rows of every batch
 * (fn_shard_rows), and those rows are the single process's, augmentation
 * included; together the ranks cover every row once. 3 ranks, a batch of
 * 7 and a last partial batch of 2 (one rank gets no row of it). */
static void test_shards(void)
{
    fn_dataset *d = make(23, 1, 5, 4, 3);
    size_t per = 20;
    fn_loader_opts o = plain(7);
    o.shuffle = 1;
    o.augment = 1;
    o.pad = 1;
    fn_loader *all = NULL;
    CHECK_OK(fn_loader_create(d, &o, &all));
    epoch_data ref = run_epoch(all, 2, 0, per);
    fn_loader_free(all);
    int covered[23] = {0};
    for (int r = 0; r < 3; r++) {
        o.rank = r;
        o.ranks = 3;
        fn_loader *l = NULL;
        CHECK_OK(fn_loader_create(d, &o, &l));
        CHECK_OK(fn_loader_start(l, 2, 0));
        int b = 0, start = 0, rows_same = 1, counts_same = 1;
        for (;; b++) {
            const float *x;
            const int32_t *y;
            int count;
            CHECK_OK(fn_loader_next(l, &x, &y, &count));
            if (count == 0) break;
            counts_same &= b < ref.batches && count == ref.counts[b];
            int first, rows;
            fn_shard_rows(count, r, 3, &first, &rows);
            for (int i = first; i < first + rows; i++) {
                rows_same &=
                    y[i] == ref.y[start + i] &&
                    memcmp(x + i * per, ref.x + (start + i) * per, per * sizeof(float)) == 0;
                covered[start + i]++;
            }
            start += count;
        }
        CHECK(b == ref.batches && counts_same, "rank %d: the global batches and counts", r);
        CHECK(rows_same, "rank %d: its rows are the single process's", r);
        fn_loader_free(l);
    }
    int once = 1;
    for (int i = 0; i < 23; i++)
        once &= covered[i] == 1;
    CHECK(once, "the 3 ranks fill every row of the epoch exactly once");
    o.rank = 3;
    fn_loader *bad = NULL;
    CHECK(fn_loader_create(d, &o, &bad) == FN_ERR_ARG && !bad, "rank 3 of 3 refused");
    epoch_free(&ref);
    fn_dataset_free(d);
}

int main(void)
{
    test_order();
    test_determinism();
    test_normalization();
    test_augment(4, 5, 1, 1, 0, 1);   /* explicit pad 1, flip on by augment */
    test_augment(16, 3, 0, 2, -1, 0); /* default pad H/8 = 2, flip off */
    test_augment(4, 4, -1, 0, 0, 1);  /* no crop, flip only */
    test_shards();
    return check_summary("loader");
}
