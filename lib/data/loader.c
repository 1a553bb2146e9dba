/* The batch loader: a background thread fills the next batch while the caller
 * works on the current one.
 *
 * Two slots alternate: batch b lives in slot b % 2. The caller holds the slot
 * of the batch it was last given until its next call; meanwhile the worker
 * fills the other one. Everything a batch contains is a function of (seed,
 * epoch, batch index) alone, so timing never changes the data. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "internal.h"

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct {
    float *images;   /* (B, C, H, W) */
    int32_t *labels; /* (B) */
    int state, batch, count;
} slot;

struct fn_loader {
    const fn_dataset *d;
    int batch, shuffle, drop_last, batches, pad, flip, rank, ranks;
    uint64_t seed;
    float scale[3], shift[3]; /* x * scale - shift == (x / 255 - mean) / std */
    int *perm;                /* this epoch's order of dataset indices */
    int epoch;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int has_sync, has_thread; /* what fn_loader_free must undo */
    int quit, producing, started;
    int next_produce, next_consume, held;
    slot slots[2];
};

/* Independent streams for the order of an epoch and for each sample. */
static void seed_stream(fn_rng *r, uint64_t seed, uint64_t epoch, uint64_t index, uint64_t tag)
{
    uint64_t key[4] = {seed, epoch, index, tag};
    fn_rng_seed(r, fn_hash64(FN_HASH_INIT, key, sizeof key));
}

static void fill_batch(fn_loader *l, slot *s, int b)
{
    const fn_dataset *d = l->d;
    int C = d->c, H = d->h, W = d->w, start = b * l->batch;
    int count = d->n - start < l->batch ? d->n - start : l->batch;
    size_t plane = (size_t)H * W;
    /* Under data parallelism only this rank's rows: decoding and augmenting
     * the others' would cost every rank the whole batch's host time. */
    int lo = 0, rows = count;
    if (l->ranks > 1) fn_shard_rows(count, l->rank, l->ranks, &lo, &rows);
    for (int i = lo; i < lo + rows; i++) {
        int idx = l->perm[start + i];
        const uint8_t *img = d->images + (size_t)idx * C * plane;
        float *out = s->images + (size_t)i * C * plane;
        s->labels[i] = d->labels[idx];
        /* RandomCrop(padding) then RandomHorizontalFlip, as torchvision draws them. */
        int oy = l->pad, ox = l->pad, flip = 0;
        if (l->pad > 0 || l->flip) {
            fn_rng r;
            seed_stream(&r, l->seed, (uint64_t)l->epoch, (uint64_t)idx, 1);
            if (l->pad > 0) {
                oy = (int)fn_rng_below(&r, (uint32_t)(2 * l->pad + 1));
                ox = (int)fn_rng_below(&r, (uint32_t)(2 * l->pad + 1));
            }
            if (l->flip) flip = (int)(fn_rng_u64(&r) >> 63);
        }
        for (int ch = 0; ch < C; ch++) {
            const uint8_t *src = img + ch * plane;
            float *dst = out + ch * plane;
            float sc = l->scale[ch], sh = l->shift[ch];
            for (int y = 0; y < H; y++) {
                int py = y + oy - l->pad;
                for (int x = 0; x < W; x++) {
                    int px = (flip ? W - 1 - x : x) + ox - l->pad;
                    /* Padding is raw pixel value 0, normalized like any pixel. */
                    int v = (py >= 0 && py < H && px >= 0 && px < W) ? src[(size_t)py * W + px] : 0;
                    dst[(size_t)y * W + x] = (float)v * sc - sh;
                }
            }
        }
    }
    s->count = count;
}

static void *worker(void *arg)
{
    fn_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->quit) {
        if (l->producing && l->next_produce < l->batches) {
            slot *s = &l->slots[l->next_produce % 2];
            if (s->state == SLOT_FREE) {
                int b = l->next_produce++;
                s->state = SLOT_FILLING;
                s->batch = b;
                pthread_mutex_unlock(&l->mu);
                fill_batch(l, s, b);
                pthread_mutex_lock(&l->mu);
                s->state = SLOT_READY;
                pthread_cond_broadcast(&l->cv);
                continue;
            }
        }
        pthread_cond_wait(&l->cv, &l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

fn_status fn_loader_create(const fn_dataset *d, const fn_loader_opts *o, fn_loader **out)
{
    *out = NULL;
    if (!d || !o) return fn_error(FN_ERR_ARG, "fn_loader_create: NULL argument");
    if (o->batch < 1)
        return fn_error(FN_ERR_ARG, "loader: batch size %d, must be at least 1", o->batch);
    if (o->ranks > 1 && (o->rank < 0 || o->rank >= o->ranks))
        return fn_error(FN_ERR_ARG, "loader: rank %d of %d", o->rank, o->ranks);
    if (o->pad > FN_MAX_IMAGE_SIDE)
        return fn_error(FN_ERR_ARG, "loader: padding %d is too large", o->pad);
    float mean[3], std[3];
    if (o->std[0] == 0) {
        fn_dataset_default_norm(d, mean, std);
    } else {
        memcpy(mean, o->mean, sizeof mean);
        memcpy(std, o->std, sizeof std);
    }
    for (int k = 0; k < d->c && k < 3; k++)
        if (!(std[k] > 0))
            return fn_error(FN_ERR_ARG, "loader: std[%d] = %g, must be positive", k, std[k]);
    fn_loader *l = calloc(1, sizeof *l);
    if (!l) return fn_error(FN_ERR_NOMEM, "loader: no memory");
    l->d = d;
    l->batch = o->batch;
    l->shuffle = o->shuffle;
    l->drop_last = o->drop_last;
    l->rank = o->rank;
    l->ranks = o->ranks;
    l->seed = o->seed;
    l->pad = o->pad > 0 ? o->pad : (o->pad == 0 && o->augment ? d->h / 8 : 0);
    l->flip = o->flip > 0 || (o->flip == 0 && o->augment);
    for (int k = 0; k < 3; k++) {
        int m = k < d->c ? k : 0;
        l->scale[k] = 1.0f / (255.0f * std[m]);
        l->shift[k] = mean[m] / std[m];
    }
    l->batches = o->drop_last ? d->n / o->batch : (d->n + o->batch - 1) / o->batch;
    l->held = -1;
    /* A slot never needs more than the whole dataset. */
    size_t per = (size_t)d->c * d->h * d->w;
    size_t cap = (size_t)(o->batch < d->n ? o->batch : (d->n > 0 ? d->n : 1));
    int ok = (l->perm = malloc(sizeof(int) * ((size_t)d->n + 1))) != NULL;
    for (int s = 0; s < 2 && ok; s++) {
        l->slots[s].images = malloc(sizeof(float) * per * cap);
        l->slots[s].labels = malloc(sizeof(int32_t) * cap);
        ok = l->slots[s].images && l->slots[s].labels;
    }
    if (!ok) {
        fn_loader_free(l);
        return fn_error(FN_ERR_NOMEM, "loader: no memory for batches of %d", o->batch);
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->has_sync = 1;
    if (pthread_create(&l->thread, NULL, worker, l) != 0) {
        fn_loader_free(l);
        return fn_error(FN_ERR_NOMEM, "loader: cannot start its thread");
    }
    l->has_thread = 1;
    *out = l;
    return FN_OK;
}

int fn_loader_batches(const fn_loader *l)
{
    return l->batches;
}

fn_status fn_loader_start(fn_loader *l, int epoch, int first_batch)
{
    if (epoch < 0 || first_batch < 0 || first_batch > l->batches)
        return fn_error(FN_ERR_ARG, "loader: cannot start epoch %d at batch %d of %d", epoch,
                        first_batch, l->batches);
    pthread_mutex_lock(&l->mu);
    l->producing = 0;
    /* The order may only change once no batch is being filled from it. */
    while (l->slots[0].state == SLOT_FILLING || l->slots[1].state == SLOT_FILLING)
        pthread_cond_wait(&l->cv, &l->mu);
    for (int s = 0; s < 2; s++)
        l->slots[s].state = SLOT_FREE;
    l->held = -1;
    int n = l->d->n;
    for (int i = 0; i < n; i++)
        l->perm[i] = i;
    if (l->shuffle) {
        fn_rng r;
        seed_stream(&r, l->seed, (uint64_t)epoch, 0, 2);
        for (int i = n - 1; i > 0; i--) {
            int j = (int)fn_rng_below(&r, (uint32_t)i + 1);
            int t = l->perm[i];
            l->perm[i] = l->perm[j];
            l->perm[j] = t;
        }
    }
    l->epoch = epoch;
    l->next_produce = l->next_consume = first_batch;
    l->producing = 1;
    l->started = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return FN_OK;
}

fn_status fn_loader_next(fn_loader *l, const float **images, const int32_t **labels, int *count)
{
    *images = NULL;
    *labels = NULL;
    *count = 0;
    pthread_mutex_lock(&l->mu);
    if (!l->started) {
        pthread_mutex_unlock(&l->mu);
        return fn_error(FN_ERR_ARG, "loader: fn_loader_start was not called");
    }
    if (l->held >= 0) {
        l->slots[l->held].state = SLOT_FREE;
        l->held = -1;
        pthread_cond_broadcast(&l->cv);
    }
    if (l->next_consume >= l->batches) {
        pthread_mutex_unlock(&l->mu);
        return FN_OK;
    }
    int k = l->next_consume % 2;
    slot *s = &l->slots[k];
    while (!(s->state == SLOT_READY && s->batch == l->next_consume))
        pthread_cond_wait(&l->cv, &l->mu);
    s->state = SLOT_HELD;
    l->held = k;
    l->next_consume++;
    *images = s->images;
    *labels = s->labels;
    *count = s->count;
    pthread_mutex_unlock(&l->mu);
    return FN_OK;
}

void fn_loader_free(fn_loader *l)
{
    if (!l) return;
    if (l->has_thread) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    if (l->has_sync) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
    }
    free(l->perm);
    for (int s = 0; s < 2; s++) {
        free(l->slots[s].images);
        free(l->slots[s].labels);
    }
    free(l);
}
