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
    /* What decides the update of every step; not device, progress, stop
     * (where and how it is watched) nor max_steps and save_every, which
     * are equal anyway when the ranks come from one command line. */
    uint64_t h = FN_HASH_INIT;
    h = hash_str(h, c->arch);
    h = hash_str(h, c->data);
    h = hash_str(h, c->baseline);
    h = hash_str(h, c->init);
    h = hash_str(h, c->out_dir);
    h = HASH(h, c->small_stem);
    h = HASH(h, c->width);
    h = HASH(h, c->limit_train);
    h = HASH(h, c->limit_test);
    h = HASH(h, c->loss); /* ten 4-byte fields: no padding */
    h = HASH(h, c->epochs);
    h = HASH(h, c->batch);
    h = HASH(h, c->sgd); /* 4-byte fields only: no padding */
    h = HASH(h, c->sched);
    h = HASH(h, c->seed);
    h = HASH(h, c->max_steps);
    h = HASH(h, c->save_every);
    h = HASH(h, c->augment);
    h = HASH(h, c->shuffle);
    h = HASH(h, c->sync_bn);
    return h;
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

fn_status fn_dp_init(fn_dp *dp, const fn_comm *comm, fn_trainer *t)
{
    memset(dp, 0, sizeof *dp);
    dp->comm = comm;
    dp->rank = comm->rank(comm);
    dp->size = comm->size(comm);
    dp->n = fn_trainer_grad_count(t);
    if (dp->size == 1) return FN_OK;
    /* One fused buffer: every gradient, then the stop flag, so that the
     * ranks decide to stop at the same step without a second message. */
    dp->buf = malloc((dp->n + 1) * sizeof *dp->buf);
    return dp->buf ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory for the gradients");
}

void fn_dp_free(fn_dp *dp)
{
    free(dp->buf);
    dp->buf = NULL;
}

void fn_dp_shard(const fn_dp *dp, int n, int *first, int *count)
{
    int a = (int)((long)n * dp->rank / dp->size), b = (int)((long)n * (dp->rank + 1) / dp->size);
    *first = a;
    *count = b - a;
}

fn_status fn_dp_step(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y, int n,
                     volatile int *flag, int *stop)
{
    if (dp->size == 1) {
        FN_TRY(fn_trainer_step(t, x, y, n));
        *stop = flag && *flag;
        return FN_OK;
    }
    int first, count;
    fn_dp_shard(dp, n, &first, &count);
    const fn_model_config *mc = fn_model_get_config(t->model);
    size_t per = (size_t)mc->channels * mc->height * mc->width_px;
    t->model->bn_rows = n; /* synchronized batch norm: the global batch's rows */
    if (count > 0) {
        FN_TRY(fn_trainer_grads(t, x + (size_t)first * per, y + first, count));
        /* The loss is a mean over this rank's rows: weighted by its share
         * of the global batch, the sum over the ranks is the mean over the
         * global batch (the weight is 1/N, exact for N a power of two). */
        FN_TRY(fn_trainer_grads_read(t, dp->buf));
        float w = (float)count / (float)n;
        for (size_t i = 0; i < dp->n; i++)
            dp->buf[i] *= w;
    } else {
        FN_TRY(fn_model_sync_bn_idle(t->model));
        memset(dp->buf, 0, dp->n * sizeof *dp->buf);
    }
    dp->buf[dp->n] = flag && *flag ? 1.0f : 0.0f;
    FN_TRY(dp->comm->allreduce_f32(dp->comm, dp->buf, dp->n + 1));
    *stop = dp->buf[dp->n] > 0;
    FN_TRY(fn_trainer_grads_write(t, dp->buf));
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
