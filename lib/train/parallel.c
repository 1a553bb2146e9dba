/* Data parallelism without MPI: the trivial communicator of one process, the
 * agreement of the ranks at start, the gradient allreduce between backward
 * and the update, and the reduction of evaluation sums. The communicator
 * itself is the caller's (focusnet.h fn_comm); everything here is collective
 * and runs in the same order on every rank. */
#include <stdlib.h>
#include <string.h>

#include "train.h"

static int self_rank(const fn_comm *c)
{
    (void)c;
    return 0;
}

static int self_size(const fn_comm *c)
{
    (void)c;
    return 1;
}

static fn_status self_f32(const fn_comm *c, float *d, size_t n)
{
    (void)c, (void)d, (void)n;
    return FN_OK;
}

static fn_status self_i64(const fn_comm *c, int64_t *d, size_t n)
{
    (void)c, (void)d, (void)n;
    return FN_OK;
}

static fn_status self_f64(const fn_comm *c, double *d, size_t n)
{
    (void)c, (void)d, (void)n;
    return FN_OK;
}

static fn_status self_bcast(const fn_comm *c, void *d, size_t n, int root)
{
    (void)c, (void)d, (void)n, (void)root;
    return FN_OK;
}

static fn_status self_barrier(const fn_comm *c)
{
    (void)c;
    return FN_OK;
}

static void self_abort(const fn_comm *c, int code)
{
    (void)c, (void)code; /* one process: the failure is simply returned */
}

static const fn_comm self_comm = {.rank = self_rank,
                                  .size = self_size,
                                  .allreduce_f32 = self_f32,
                                  .allreduce_i64 = self_i64,
                                  .allreduce_f64 = self_f64,
                                  .broadcast = self_bcast,
                                  .barrier = self_barrier,
                                  .abort = self_abort};

const fn_comm *fn_comm_self(void)
{
    return &self_comm;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    s = s ? s : "";
    return fn_hash64(h, s, strlen(s) + 1);
}

#define HASH(h, v) fn_hash64(h, &(v), sizeof(v))

uint64_t fn_train_config_hash(const fn_train_config *c)
{
    /* What decides the update of every step: the saved options of
     * options.def (not device, progress, stop: where and how it is
     * watched), plus what the table does not save: the output folder,
     * max_steps (equal anyway when the ranks come from one command line)
     * and SGD's dampening, which has no option. */
    uint64_t h = FN_HASH_INIT;
    h = hash_str(h, c->out_dir);
    h = HASH(h, c->max_steps);
    h = HASH(h, c->sgd); /* 4-byte fields only: no padding */
    return fn_train_options_hash(h, c);
}

fn_status fn_dp_agree(const fn_comm *comm, fn_status st, uint64_t hash)
{
    if (comm->size(comm) == 1) return st;
    /* First whether every rank got this far: a rank that failed alone (no
     * device, no data on its machine) must not leave the others waiting in
     * the first allreduce. Its own message stays its own. */
    int64_t failed = st != FN_OK;
    fn_status cst = comm->allreduce_i64(comm, &failed, 1);
    if (cst != FN_OK) return cst;
    if (st != FN_OK) return st;
    if (failed)
        return fn_error(FN_ERR_ARG,
                        "rank %d: %lld other rank(s) failed to start (see their "
                        "messages); not training",
                        comm->rank(comm), (long long)failed);
    uint64_t root = hash;
    FN_TRY(comm->broadcast(comm, &root, sizeof root, 0));
    int64_t differ = root != hash;
    FN_TRY(comm->allreduce_i64(comm, &differ, 1));
    if (differ)
        return fn_error(FN_ERR_ARG,
                        "rank %d: %lld rank(s) were started with other options or other "
                        "training data than rank 0 (%s); every rank must run the same command "
                        "on the same data",
                        comm->rank(comm), (long long)differ,
                        root != hash ? "this one among them" : "not this one");
    return FN_OK;
}

/* Trainer tensors in the order backward finishes them: by their layer,
 * last first (ties: the tensor's order). */
typedef struct {
    int j, layer;
} ready_at;

static int later_first(const void *a, const void *b)
{
    const ready_at *x = a, *y = b;
    if (x->layer != y->layer) return y->layer - x->layer;
    return x->j - y->j;
}

fn_status fn_dp_init(fn_dp *dp, const fn_comm *comm, fn_trainer *t, size_t bucket_bytes)
{
    memset(dp, 0, sizeof *dp);
    dp->comm = comm;
    dp->rank = comm->rank(comm);
    dp->size = comm->size(comm);
    dp->n = fn_trainer_grad_count(t);
    dp->dev = t->dev;
    dp->bucket_bytes = bucket_bytes ? bucket_bytes : FN_DP_BUCKET_BYTES;
    if (dp->size == 1) return FN_OK;
    /* Pinned: the reads from the device land where MPI sends from, with no
     * bounce copy in the driver (and no extra host copy of ours). */
    fn_status st =
        fn_pinned_new(t->dev, (dp->n + 1) * sizeof *dp->buf, &dp->pinned, (void **)&dp->buf);
    if (st != FN_OK) return st;
    ready_at *order = calloc((size_t)t->n + 1, sizeof *order);
    dp->offset = calloc((size_t)t->n + 1, sizeof *dp->offset);
    dp->buckets = calloc((size_t)t->n + 1, sizeof *dp->buckets);
    if (!order || !dp->offset || !dp->buckets) {
        free(order);
        return fn_error(FN_ERR_NOMEM, "out of host memory for the gradient buckets");
    }
    for (int j = 0; j < t->n; j++) {
        order[j].j = j;
        order[j].layer = fn_model_param_layer(t->model, t->param[j]);
    }
    qsort(order, (size_t)t->n, sizeof *order, later_first);
    size_t at = 0, cap = dp->bucket_bytes / sizeof(float);
    fn_dp_bucket *b = NULL;
    for (int k = 0; k < t->n; k++) {
        int j = order[k].j;
        if (!b || b->count >= cap) {
            b = &dp->buckets[dp->n_buckets++];
            b->first = at;
        }
        dp->offset[j] = at;
        at += t->opt->numel[j];
        b->count = at - b->first;
        b->ready = order[k].layer;
    }
    if (b) b->count++; /* the stop flag rides in the last bucket */
    free(order);
    return FN_OK;
}

void fn_dp_free(fn_dp *dp)
{
    if (dp->pinned)
        fn_pinned_free(dp->dev, dp->pinned, dp->buf);
    else
        free(dp->buf);
    for (int k = 0; k < dp->n_buckets; k++)
        fn_event_release(dp->buckets[k].read);
    free(dp->offset);
    free(dp->buckets);
    memset(dp, 0, sizeof *dp);
}

void fn_dp_shard(const fn_dp *dp, int n, int *first, int *count)
{
    fn_shard_rows(n, dp->rank, dp->size, first, count);
}

/* Enqueues the reads of bucket k's tensors into the staging buffer. */
static fn_status bucket_read(fn_dp *dp, fn_trainer *t, int k)
{
    fn_dp_bucket *b = &dp->buckets[k];
    size_t end = b->first + b->count;
    for (int j = 0; j < t->n; j++) {
        size_t o = dp->offset[j];
        if (o < b->first || o >= end) continue;
        fn_event_release(b->read); /* in-order queue: the last read's event says all */
        b->read = NULL;
        FN_TRY(fn_buffer_read_async(t->dev, t->pgrad[j], 0, t->opt->numel[j] * sizeof(float),
                                    dp->buf + o, &b->read));
    }
    return fn_flush(t->dev);
}

/* Waits for bucket k's reads, weights its gradients and starts its sum. */
static fn_status bucket_start(fn_dp *dp, int k, float w, int rows)
{
    fn_dp_bucket *b = &dp->buckets[k];
    float *d = dp->buf + b->first;
    size_t n = b->count - (k == dp->n_buckets - 1); /* not the stop flag */
    if (rows > 0) {
        int done;
        FN_TRY(fn_event_done(b->read, 1, &done));
        for (size_t i = 0; i < n; i++)
            d[i] *= w;
    } else {
        memset(d, 0, n * sizeof *d);
    }
    return dp->comm->iallreduce_f32(dp->comm, d, b->count, &b->req);
}

/* Moves the sums in flight along (MPI_Test); wait: until all are done. */
static fn_status buckets_poke(fn_dp *dp, int started, int wait)
{
    for (int k = 0; k < started; k++) {
        if (!dp->buckets[k].req) continue;
        int done;
        FN_TRY(dp->comm->test(dp->comm, dp->buckets[k].req, wait, &done));
        if (done) dp->buckets[k].req = NULL;
    }
    return FN_OK;
}

/* The gradients of this rank's rows (none: count 0), summed over the ranks
 * bucket by bucket while backward runs. A rank without rows makes the
 * same collectives in the same order, with zeros. */
static fn_status grads_overlapped(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y,
                                  int first, int count, int n, float stop_flag)
{
    fn_model *m = t->model;
    size_t per = (size_t)m->cfg.channels * m->cfg.height * m->cfg.width_px;
    if (count > 0) {
        FN_TRY(fn_trainer_forward(t, x + (size_t)first * per, y + first, count));
        FN_TRY(fn_model_backward_begin(m, count));
    } else {
        FN_TRY(fn_model_sync_bn_idle(m, -1));
    }
    /* The loss is a mean over this rank's rows: weighted by its share of
     * the global batch, the sum over the ranks is the mean over the global
     * batch (the weight is 1/N, exact for N a power of two). */
    float w = (float)count / (float)n;
    dp->buf[dp->n] = stop_flag;
    int queued = 0, started = 0;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        if (count > 0)
            FN_TRY(fn_model_layer_backward(m, i, count));
        else
            FN_TRY(fn_model_sync_bn_idle(m, i));
        /* Buckets whose reads went in before this layer: their reads ran
         * (or run) ahead of it on the in-order queue; start their sums now,
         * at the same layer on every rank. */
        while (started < queued && dp->buckets[started].ready > i)
            FN_TRY(bucket_start(dp, started++, w, count));
        while (queued < dp->n_buckets && dp->buckets[queued].ready >= i) {
            if (count > 0) FN_TRY(bucket_read(dp, t, queued));
            queued++;
        }
        FN_TRY(buckets_poke(dp, started, 0));
    }
    while (started < dp->n_buckets)
        FN_TRY(bucket_start(dp, started++, w, count));
    return buckets_poke(dp, started, 1);
}

/* Before buckets: backward whole, then one blocking sum of everything. */
static fn_status grads_blocking(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y,
                                int first, int count, int n, float stop_flag)
{
    fn_model *m = t->model;
    size_t per = (size_t)m->cfg.channels * m->cfg.height * m->cfg.width_px;
    if (count > 0) {
        FN_TRY(fn_trainer_grads(t, x + (size_t)first * per, y + first, count));
        for (int j = 0; j < t->n; j++)
            FN_TRY(fn_buffer_read(t->dev, t->pgrad[j], 0, t->opt->numel[j] * sizeof(float),
                                  dp->buf + dp->offset[j]));
        float w = (float)count / (float)n;
        for (size_t i = 0; i < dp->n; i++)
            dp->buf[i] *= w;
    } else {
        FN_TRY(fn_model_sync_bn_idle(m, -1));
        for (int i = m->n_layers - 1; i >= 0; i--)
            FN_TRY(fn_model_sync_bn_idle(m, i));
        memset(dp->buf, 0, dp->n * sizeof *dp->buf);
    }
    dp->buf[dp->n] = stop_flag;
    return dp->comm->allreduce_f32(dp->comm, dp->buf, dp->n + 1);
}

fn_status fn_dp_grads(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y, int n,
                      int overlap, volatile int *flag, int *stop)
{
    if (dp->size == 1) {
        FN_TRY(fn_trainer_grads(t, x, y, n));
        *stop = flag && *flag;
        return FN_OK;
    }
    int first, count;
    fn_dp_shard(dp, n, &first, &count);
    t->model->bn_rows = n; /* synchronized batch norm: the global batch's rows */
    float f = flag && *flag ? 1.0f : 0.0f;
    if (overlap && dp->comm->iallreduce_f32 && dp->comm->test)
        FN_TRY(grads_overlapped(dp, t, x, y, first, count, n, f));
    else
        FN_TRY(grads_blocking(dp, t, x, y, first, count, n, f));
    *stop = dp->buf[dp->n] > 0;
    /* Back to the device from the staging buffer; the update after these
     * writes on the in-order queue sees them, and the next step's reads
     * into the same memory come after them too. */
    for (int j = 0; j < t->n; j++)
        FN_TRY(fn_buffer_write_async(t->dev, t->pgrad[j], 0, t->opt->numel[j] * sizeof(float),
                                     dp->buf + dp->offset[j]));
    return FN_OK;
}

fn_status fn_dp_step(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y, int n,
                     volatile int *flag, int *stop)
{
    if (dp->size == 1) {
        FN_TRY(fn_trainer_step(t, x, y, n));
        *stop = flag && *flag;
        return FN_OK;
    }
    FN_TRY(fn_dp_grads(dp, t, x, y, n, 1, flag, stop));
    return fn_trainer_apply(t);
}

fn_status fn_dp_stats(const fn_dp *dp, float stats[4])
{
    if (dp->size == 1) return FN_OK;
    return dp->comm->allreduce_f32(dp->comm, stats, 4);
}

fn_status fn_dp_eval_reduce(const fn_comm *comm, fn_eval_report *r)
{
    if (!comm || comm->size(comm) == 1) return FN_OK;
    size_t kk = (size_t)r->classes * r->classes;
    int64_t *c = malloc((kk + 3) * sizeof *c);
    if (!c) return fn_error(FN_ERR_NOMEM, "out of host memory");
    memcpy(c, r->confusion, kk * sizeof *c);
    c[kk] = r->n;
    c[kk + 1] = (int64_t)r->top1; /* counts until fn_eval_end */
    c[kk + 2] = (int64_t)r->top5;
    float loss = (float)r->loss; /* a float sum: the mean loss to about 1e-7 */
    fn_status st = comm->allreduce_i64(comm, c, kk + 3);
    if (st == FN_OK) st = comm->allreduce_f32(comm, &loss, 1);
    if (st == FN_OK) {
        memcpy(r->confusion, c, kk * sizeof *c);
        r->n = (int)c[kk];
        r->top1 = (double)c[kk + 1];
        r->top5 = (double)c[kk + 2];
        r->loss = loss;
    }
    free(c);
    return st;
}

struct fn_parallel {
    fn_dp dp;
    fn_trainer *t;
};

fn_status fn_parallel_create(fn_trainer *t, const fn_comm *comm, size_t bucket_bytes,
                             fn_parallel **out)
{
    *out = NULL;
    fn_parallel *p = calloc(1, sizeof *p);
    if (!p) return fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_status st = fn_dp_init(&p->dp, comm ? comm : fn_comm_self(), t, bucket_bytes);
    if (st != FN_OK) {
        fn_parallel_free(p);
        return st;
    }
    p->t = t;
    *out = p;
    return FN_OK;
}

void fn_parallel_free(fn_parallel *p)
{
    if (!p) return;
    fn_dp_free(&p->dp);
    free(p);
}

int fn_parallel_buckets(const fn_parallel *p)
{
    return p->dp.size > 1 ? p->dp.n_buckets : 0;
}

fn_status fn_parallel_grads(fn_parallel *p, const float *images, const int32_t *labels, int n,
                            int overlap)
{
    int stop;
    return fn_dp_grads(&p->dp, p->t, images, labels, n, overlap, NULL, &stop);
}
