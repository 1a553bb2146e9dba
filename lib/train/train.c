/* The trainer: stage 1 (a baseline with cross-entropy, label smoothing or KD)
 * or stage 2 (FocusNet against a frozen baseline), epochs of SGD with
 * evaluation, checkpoints and a JSON log in a run directory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../optim/sgd.h"
#include "rundir.h"
#include "train.h"

#define STATS_EVERY 10 /* steps between read-backs of the running loss */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Everything one run holds; freed in one place. */
typedef struct {
    const fn_train_config *c;
    fn_device *dev;
    fn_dataset *train, *test;
    fn_loader *loader;
    fn_model *model, *ref; /* ref: the frozen baseline or teacher */
    fn_trainer *step;      /* the training step and its optimizer */
    fn_lr_schedule sched;
    cJSON *history; /* the records of completed epochs */
    fn_rundir dir;
    uint64_t data_hash;
    const fn_comm *comm; /* never NULL: fn_comm_self for one process */
    int rank;            /* rank 0 alone writes the run directory */
    fn_dp dp;
    uint64_t file_hash[2]; /* of the --baseline and --init files */
    int has_file_hash[2];
    int last_saved_epoch; /* the epoch last.safetensors holds (0: none from this run) */
    int at_chance;        /* the run's first epoch ended at chance */
    double chance;        /* training accuracy of always guessing the commonest class */
} run;

static void run_free(run *r)
{
    fn_loader_free(r->loader);
    fn_dp_free(&r->dp);
    fn_trainer_free(r->step);
    fn_model_free(r->model);
    fn_model_free(r->ref);
    fn_dataset_free(r->train);
    fn_dataset_free(r->test);
    cJSON_Delete(r->history);
    fn_device_free(r->dev);
    fn_rundir_close(&r->dir);
}

static int mnist_like(const fn_dataset *d)
{
    return fn_dataset_channels(d) == 1 && fn_dataset_height(d) == 28 && fn_dataset_width(d) == 28;
}

uint64_t fn_train_data_hash(const fn_dataset *d)
{
    int dims[4] = {fn_dataset_count(d), fn_dataset_channels(d), fn_dataset_height(d),
                   fn_dataset_width(d)};
    size_t per = (size_t)dims[1] * dims[2] * dims[3];
    uint64_t h = fn_hash64(FN_HASH_INIT, dims, sizeof dims);
    for (int i = 0; i < dims[0]; i++) {
        int32_t label = fn_dataset_label(d, i);
        h = fn_hash64(h, fn_dataset_image(d, i), per);
        h = fn_hash64(h, &label, sizeof label);
    }
    return h;
}

/* resume: the weights will come from the state, so --init is not read. */
static fn_status setup(run *r, int resume)
{
    const fn_train_config *c = r->c;
    if (c->epochs < 1 || c->batch < 1)
        return fn_error(FN_ERR_ARG, "epochs and batch must be at least 1");
    if (c->max_steps < 0 || c->save_every < 0 || c->keep_epochs < 0)
        return fn_error(FN_ERR_ARG, "max_steps, save_every and keep_epochs must not be negative");
    int ranks = r->comm->size(r->comm);
    if (c->batch % ranks != 0)
        return fn_error(FN_ERR_ARG,
                        "--batch %d (the global batch) does not split into %d equal shards, one "
                        "per rank; take a multiple of %d",
                        c->batch, ranks, ranks);
    int shard = c->batch / ranks; /* the most rows a rank's model sees at once */
    if ((c->loss.kind == FN_LOSS_FOCUS || c->loss.kind == FN_LOSS_KD) && !c->baseline)
        return fn_error(FN_ERR_ARG, "--loss %s needs --baseline CHECKPOINT (the frozen %s)",
                        fn_loss_kind_name(c->loss.kind),
                        c->loss.kind == FN_LOSS_KD ? "teacher" : "baseline");
    fn_model_config probe; /* an unknown model is reported before any data is read */
    FN_TRY(fn_model_config_default(&probe, c->arch ? c->arch : "", 1, 1, 1, 1));
    FN_TRY(fn_device_open(c->device, &r->dev));
    FN_TRY(fn_dataset_open(c->data, "train", c->limit_train, &r->train));
    FN_TRY(fn_dataset_open_sized(c->data, "test", c->limit_test, fn_dataset_channels(r->train),
                                 fn_dataset_height(r->train), fn_dataset_width(r->train),
                                 &r->test));
    const fn_dataset *d = r->train;
    fn_model_config mc;
    FN_TRY(fn_model_config_default(&mc, c->arch, fn_dataset_classes(d), fn_dataset_channels(d),
                                   fn_dataset_height(d), fn_dataset_width(d)));
    if (c->small_stem >= 0) mc.small_stem = c->small_stem;
    if (c->width > 0) mc.width = c->width;
    if (c->init && !resume) {
        FN_TRY(fn_checkpoint_load(r->dev, c->init, &mc, shard, 1, &r->model));
        free(r->model->meta.history); /* a new run starts its own history */
        r->model->meta.history = NULL;
        FN_TRY(fn_model_check_dataset_classes(r->model, c->init, d, c->data));
    } else {
        FN_TRY(fn_model_create(r->dev, &mc, shard, 1, &r->model));
        if (!resume) FN_TRY(fn_model_init(r->model, c->seed));
    }
    fn_model *m = r->model;
    fn_model_meta *meta = &m->meta;
    r->data_hash = fn_train_data_hash(d);
    FN_TRY(fn_train_commonest_class(d, &r->chance));
    FN_TRY(
        fn_train_fingerprint_files(c->baseline, c->init, resume, r->file_hash, r->has_file_hash));
    fn_dataset_default_norm(d, meta->mean, meta->std);
    snprintf(meta->dataset, sizeof meta->dataset, "%s", fn_dataset_name(d));
    fn_model_set_data_spec(m, c->data);
    snprintf(meta->loss, sizeof meta->loss, "%s", fn_loss_kind_name(c->loss.kind));
    if (!meta->class_names) {
        meta->class_names = calloc((size_t)mc.classes, sizeof *meta->class_names);
        if (!meta->class_names) return fn_error(FN_ERR_NOMEM, "out of host memory");
        for (int i = 0; i < mc.classes; i++) {
            const char *n = fn_dataset_class_name(d, i);
            meta->class_names[i] = strdup(n ? n : "?");
        }
    }
    if (c->baseline) {
        /* The baseline may be another architecture; it must see the same
         * images and know the same classes. */
        fn_status st = fn_checkpoint_load(r->dev, c->baseline, NULL, shard, 0, &r->ref);
        if (st != FN_OK) return st;
        const fn_model_config *b = &r->ref->cfg;
        if (b->classes != mc.classes || b->channels != mc.channels || b->height != mc.height ||
            b->width_px != mc.width_px)
            return fn_error(FN_ERR_MISMATCH,
                            "%s is a baseline for %d classes of %dx%dx%d images; %s has %d "
                            "classes of %dx%dx%d",
                            c->baseline, b->classes, b->channels, b->height, b->width_px, c->data,
                            mc.classes, mc.channels, mc.height, mc.width_px);
        FN_TRY(fn_model_check_dataset_classes(r->ref, c->baseline, d, c->data));
        for (int i = 0; i < 3; i++)
            if (fabsf(r->ref->meta.mean[i] - meta->mean[i]) > 1e-4f ||
                fabsf(r->ref->meta.std[i] - meta->std[i]) > 1e-4f)
                return fn_error(FN_ERR_MISMATCH,
                                "%s was trained with another normalization than %s uses",
                                c->baseline, c->data);
    }
    fn_loader_opts lo = {0};
    lo.batch = c->batch;
    lo.shuffle = c->shuffle;
    lo.augment = c->augment < 0 ? !mnist_like(d) : c->augment;
    lo.seed = c->seed;
    lo.rank = r->rank;
    lo.ranks = r->comm->size(r->comm);
    memcpy(lo.mean, meta->mean, sizeof lo.mean);
    memcpy(lo.std, meta->std, sizeof lo.std);
    FN_TRY(fn_loader_create(d, &lo, &r->loader));

    if (c->sync_bn) FN_TRY(fn_model_sync_bn(m, r->comm));
    FN_TRY(fn_trainer_create(m, r->ref, &c->loss, &c->sgd, &r->step));
    FN_TRY(fn_dp_init(&r->dp, r->comm, r->step, 0));
    if (c->sched.cosine) {
        FN_TRY(fn_lr_cosine(&r->sched, c->sgd.lr, 0.0f, c->epochs, 0));
    } else if (c->sched.n_milestones > 0) {
        FN_TRY(fn_lr_step(&r->sched, c->sgd.lr, c->sched.gamma, c->sched.milestones,
                          c->sched.n_milestones));
    } else {
        /* The paper divides by 10 at 50% and 75% of the epochs (100 and 150 of 200). */
        int ms[2] = {c->epochs / 2, c->epochs * 3 / 4};
        int n = 0, uniq[2];
        for (int i = 0; i < 2; i++)
            if (ms[i] > 0 && (n == 0 || uniq[n - 1] != ms[i])) uniq[n++] = ms[i];
        if (n)
            FN_TRY(fn_lr_step(&r->sched, c->sgd.lr, c->sched.gamma, uniq, n));
        else
            fn_lr_constant(&r->sched, c->sgd.lr);
    }
    /* -1: the stage's default; a fresh focus or kd stage at the paper's lr
     * otherwise sits at chance for some batch orders (issue 16). */
    int stage2 = c->loss.kind == FN_LOSS_FOCUS || c->loss.kind == FN_LOSS_KD;
    float wu = c->sched.warmup_epochs;
    FN_TRY(fn_lr_warmup(&r->sched, wu == -1 ? (float)stage2 : wu));
    if (r->rank == 0) FN_TRY(fn_rundir_open(&r->dir, c->out_dir, !resume, c->overwrite));
    r->history = cJSON_CreateArray();
    if (!r->history) return fn_error(FN_ERR_NOMEM, "out of host memory");
    return FN_OK;
}

static fn_status diverged_loss(const run *r, long step, int epoch)
{
    char k[1400];
    fn_rundir_kept(&r->dir, r->last_saved_epoch, k, sizeof k);
    return fn_error(FN_ERR_NUMERIC,
                    "training diverged: the loss became NaN or infinite by step %ld (epoch %d; "
                    "the loss is checked every %d steps); stopped without saving, %s",
                    step, epoch, STATS_EVERY, k);
}

/* Host copies of every parameter and momentum buffer, all finite. */
typedef struct {
    float **params, **mom;
} snapshot;

static void snapshot_free(const run *r, snapshot *s)
{
    fn_host_params_free(r->model, s->params);
    fn_host_params_free(r->model, s->mom);
    memset(s, 0, sizeof *s);
}

static fn_status take_snapshot(run *r, long step, int epoch, snapshot *s)
{
    fn_model *m = r->model;
    memset(s, 0, sizeof *s);
    FN_TRY(fn_checkpoint_read_params(m, &s->params));
    fn_status st = FN_OK;
    s->mom = calloc((size_t)m->n_params + 1, sizeof *s->mom);
    if (!s->mom) st = fn_error(FN_ERR_NOMEM, "out of host memory");
    const fn_sgd *opt = r->step->opt; /* tensor j: the j-th trainable parameter */
    for (int j = 0; st == FN_OK && j < opt->n; j++) {
        int i = r->step->param[j];
        size_t bytes = opt->numel[j] * sizeof(float);
        s->mom[i] = malloc(bytes + 1);
        st = s->mom[i] ? fn_buffer_read(r->dev, opt->mom[j], 0, bytes, s->mom[i])
                       : fn_error(FN_ERR_NOMEM, "out of host memory");
    }
    /* A gradient that blew up shows in the weights or momentum before the
     * loss: nothing non-finite is ever written. */
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        for (size_t j = 0; j < p->numel && st == FN_OK; j++) {
            if (isfinite(s->params[i][j]) && (!s->mom[i] || isfinite(s->mom[i][j]))) continue;
            char k[1400];
            fn_rundir_kept(&r->dir, r->last_saved_epoch, k, sizeof k);
            st = fn_error(FN_ERR_NUMERIC,
                          "training diverged: %s became NaN or infinite by step %ld (epoch %d); "
                          "stopped without saving, %s",
                          p->name, step, epoch, k);
        }
    }
    if (st != FN_OK) snapshot_free(r, s);
    return st;
}

static fn_status write_log(run *r, cJSON *extra)
{
    if (r->rank != 0) return FN_OK;
    return fn_rundir_write_log(&r->dir, r->history, extra);
}

/* Sets the model's history metadata: completed epochs, plus extra. */
static fn_status set_history(run *r, cJSON *extra)
{
    fn_model_meta *meta = &r->model->meta;
    free(meta->history);
    meta->history = NULL;
    if (extra) cJSON_AddItemReferenceToArray(r->history, extra);
    meta->history = cJSON_PrintUnformatted(r->history);
    if (extra)
        cJSON_Delete(cJSON_DetachItemFromArray(r->history, cJSON_GetArraySize(r->history) - 1));
    return meta->history ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory");
}

static fn_status save_state(run *r, const snapshot *s, int epoch, long step, long steps_done,
                            const fn_train_result *res, const float stats[4])
{
    if (r->rank != 0) return FN_OK;
    fn_train_state st;
    memset(&st, 0, sizeof st);
    st.c = *r->c;
    st.epoch = epoch;
    st.step = step;
    st.steps_done = steps_done;
    st.sgd_steps = (int)fn_trainer_steps(r->step);
    st.best_top1 = res->best_top1;
    st.best_epoch = res->best_epoch;
    memcpy(st.stats, stats, sizeof st.stats);
    st.data_hash = r->data_hash;
    st.baseline_hash = r->file_hash[0];
    st.has_baseline_hash = r->has_file_hash[0];
    st.init_hash = r->file_hash[1];
    st.has_init_hash = r->has_file_hash[1];
    FN_TRY(set_history(r, NULL));
    return fn_train_state_write(r->model, s->params, s->mom, &st, r->dir.state);
}

static cJSON *epoch_record(const run *r, int epoch, long steps_done, const float stats[4],
                           const fn_eval_report *rep, double secs, long images, int partial)
{
    cJSON *rec = cJSON_CreateObject();
    if (!rec) return NULL;
    cJSON_AddNumberToObject(rec, "epoch", epoch + 1);
    cJSON_AddNumberToObject(rec, "steps", (double)steps_done);
    cJSON_AddNumberToObject(rec, "lr", fn_trainer_lr(r->step));
    cJSON_AddNumberToObject(rec, "train_loss", stats[3] > 0 ? stats[0] / stats[3] : 0);
    cJSON_AddNumberToObject(rec, "train_acc", stats[3] > 0 ? stats[1] / stats[3] : 0);
    cJSON_AddNumberToObject(rec, "test_loss", rep->loss);
    cJSON_AddNumberToObject(rec, "test_top1", rep->top1);
    cJSON_AddNumberToObject(rec, "test_top5", rep->top5);
    cJSON_AddNumberToObject(rec, "seconds", secs);
    cJSON_AddNumberToObject(rec, "images_per_s", secs > 0 ? images / secs : 0);
    cJSON_AddBoolToObject(rec, "partial", partial);
    cJSON_AddBoolToObject(rec, "at_chance", fn_train_at_chance(stats, r->chance));
    return rec;
}

/* Evaluates and writes what the end of an epoch leaves, or a stop inside
 * one. partial NULL: the epoch is complete; its record joins the history,
 * then best.safetensors (when better), last.safetensors, the resume state
 * and the log. partial: the host copies of a stop inside the epoch, whose
 * resume state is saved already; last.safetensors and the log then show the
 * partial epoch after the completed ones. */
static fn_status end_epoch(run *r, fn_train_result *res, int epoch, const float stats[4],
                           double secs, long images, const snapshot *partial)
{
    fn_eval_report rep;
    FN_TRY(fn_evaluate_dataset_comm(r->model, r->test, r->comm, &rep));
    cJSON *rec =
        epoch_record(r, epoch, res->steps_done, stats, &rep, secs, images, partial != NULL);
    fn_status st = rec ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory");
    snapshot own = {0};
    const snapshot *s = partial ? partial : &own;
    int better = 0;
    if (!partial) {
        if (st == FN_OK) st = take_snapshot(r, res->steps_done, epoch + 1, &own);
        if (st == FN_OK) {
            cJSON_AddItemToArray(r->history, rec);
            rec = NULL;
        }
        better = rep.top1 > res->best_top1;
        if (better) {
            res->best_top1 = rep.top1;
            res->best_epoch = epoch + 1;
        }
    }
    if (st == FN_OK) st = set_history(r, rec); /* rec: the partial epoch, shown last */
    if (st == FN_OK && better && r->rank == 0)
        st = fn_checkpoint_write(r->model, s->params, NULL, 0, NULL, NULL, 0, r->dir.best);
    if (st == FN_OK && r->rank == 0)
        st = fn_checkpoint_write(r->model, s->params, NULL, 0, NULL, NULL, 0, r->dir.last);
    /* Kept epochs go before the state, the commit point: a run killed in
     * between redoes the epoch and writes the same file again. */
    int keep = !partial && r->c->keep_epochs > 0 && (epoch + 1) % r->c->keep_epochs == 0;
    if (st == FN_OK && keep && r->rank == 0) {
        char path[1300];
        st = fn_rundir_epoch_path(&r->dir, epoch + 1, path, sizeof path);
        if (st == FN_OK)
            st = fn_checkpoint_write(r->model, s->params, NULL, 0, NULL, NULL, 0, path);
    }
    if (!partial) {
        if (st == FN_OK) r->last_saved_epoch = epoch + 1;
        float zero[4] = {0, 0, 0, 0};
        if (st == FN_OK) st = save_state(r, s, epoch + 1, 0, res->steps_done, res, zero);
        res->epochs_done = epoch + 1;
    }
    if (st == FN_OK) st = write_log(r, rec);
    snapshot_free(r, &own);
    cJSON_Delete(rec);
    fn_eval_report_free(&res->report);
    res->report = rep;
    return st;
}

/* The epochs from `from` (NULL: a fresh start). */
static fn_status train_epochs(run *r, fn_train_result *res, const fn_train_state *from)
{
    const fn_train_config *c = r->c;
    fn_status st = FN_OK;
    double t0 = now_s();
    int steps = fn_loader_batches(r->loader);
    int first_epoch = from ? from->epoch : 0;
    long first_step = from ? from->step : 0;
    float stats[4] = {0, 0, 0, 0};
    if (from) {
        memcpy(stats, from->stats, sizeof stats);
        res->steps_done = from->steps_done;
        res->best_top1 = from->best_top1;
        res->best_epoch = from->best_epoch;
        res->epochs_done = from->epoch;
        fn_trainer_set_steps(r->step, from->sgd_steps);
    }
    /* This call's steps: to the end of the run, or max_steps. */
    long todo = (long)steps * c->epochs - (long)first_epoch * steps - first_step, done = 0;
    if (todo < 0) todo = 0;
    if (c->max_steps > 0 && c->max_steps < todo) todo = c->max_steps;
    for (int epoch = first_epoch; epoch < c->epochs && !res->stopped; epoch++) {
        long step0 = epoch == first_epoch ? first_step : 0;
        if (epoch != first_epoch || !from) memset(stats, 0, sizeof stats);
        fn_trainer_set_lr(r->step, fn_lr_at(&r->sched, epoch, 0, steps));
        /* The trainer holds this rank's sums; a resumed epoch's sums so far
         * (global ones) count once, on rank 0. */
        float zero[4] = {0, 0, 0, 0};
        st = fn_trainer_stats_set(r->step, r->rank == 0 ? stats : zero);
        if (st == FN_OK) st = fn_loader_start(r->loader, epoch, (int)step0);
        double te = now_s();
        long images = 0, step = step0;
        int stop = 0;
        while (st == FN_OK && step < steps && !stop) {
            const float *x;
            const int32_t *y;
            int n = 0;
            st = fn_loader_next(r->loader, &x, &y, &n);
            if (st != FN_OK || n == 0) break;
            fn_trainer_set_lr(r->step, fn_lr_at(&r->sched, epoch, (int)step, steps));
            int asked = 0; /* agreed by all ranks in the step's allreduce */
            st = fn_dp_step(&r->dp, r->step, x, y, n, c->stop, &asked);
            if (st != FN_OK) break;
            images += n;
            step++;
            res->steps_done++;
            done++;
            stop = asked || done >= todo;
            int save_now = c->save_every > 0 && res->steps_done % c->save_every == 0;
            if (step % STATS_EVERY == 0 || step == steps || stop || save_now) {
                st = fn_trainer_stats_read(r->step, stats);
                if (st == FN_OK) st = fn_dp_stats(&r->dp, stats);
                if (st == FN_OK && stats[2] > 0) st = diverged_loss(r, res->steps_done, epoch + 1);
                if (st == FN_OK && c->progress && r->rank == 0) {
                    double el = now_s() - te, all = now_s() - t0;
                    fn_train_progress p = {epoch + 1,
                                           c->epochs,
                                           step,
                                           steps,
                                           stats[3] > 0 ? stats[0] / stats[3] : 0,
                                           stats[3] > 0 ? stats[1] / stats[3] : 0,
                                           el > 0 ? images / el : 0,
                                           all / done * (todo - done),
                                           0};
                    p.at_chance = r->at_chance || (epoch == 0 && step == steps &&
                                                   fn_train_at_chance(stats, r->chance));
                    c->progress(&p, c->user);
                    /* A stop asked for from the callback; with several ranks
                     * the next step's allreduce carries it to the others. */
                    if (r->dp.size == 1) stop |= c->stop && *c->stop;
                }
            }
            if (st == FN_OK && step < steps && (save_now || stop)) {
                /* Mid-epoch: the resume point, and on a stop what was reached. */
                snapshot s;
                st = take_snapshot(r, res->steps_done, epoch + 1, &s);
                if (st == FN_OK) st = save_state(r, &s, epoch, step, res->steps_done, res, stats);
                if (st == FN_OK && stop) {
                    st = end_epoch(r, res, epoch, stats, now_s() - te, images, &s);
                    res->stopped = 1;
                }
                snapshot_free(r, &s);
            }
        }
        if (st != FN_OK || res->stopped) break;
        st = end_epoch(r, res, epoch, stats, now_s() - te, images, NULL);
        if (st == FN_OK && epoch == 0) r->at_chance = fn_train_at_chance(stats, r->chance);
        if (st == FN_OK && stop && epoch + 1 < c->epochs) res->stopped = 1;
        if (st != FN_OK) break;
    }
    res->seconds = now_s() - t0;
    return st;
}

static fn_status finish(run *r, fn_status st, fn_train_result *res)
{
    if (st != FN_OK) fn_rundir_failed(&r->dir);
    run_free(r);
    if (st != FN_OK) fn_eval_report_free(&res->report);
    return st;
}

static void run_comm(run *r, const fn_comm *comm)
{
    r->comm = comm ? comm : fn_comm_self();
    r->rank = r->comm->rank(r->comm);
}

fn_status fn_train(const fn_train_config *c, fn_train_result *res)
{
    run r = {0};
    r.c = c;
    run_comm(&r, c->comm);
    fn_train_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->best_top1 = -1;
    /* Rank 0 alone looks at and writes the run directory: the others would
     * find the run it has just begun there. */
    fn_status st = r.rank == 0 ? fn_train_check_out_dir(c->out_dir, c->overwrite) : FN_OK;
    if (st == FN_OK) st = setup(&r, 0);
    st = fn_dp_agree(r.comm, st, fn_train_config_hash(c) ^ r.data_hash);
    res->started = st == FN_OK;
    if (st == FN_OK) st = train_epochs(&r, res, NULL);
    return finish(&r, st, res);
}

fn_status fn_train_resume(const char *dir, const fn_train_config *o, fn_train_result *res)
{
    fn_train_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->best_top1 = -1;
    if (!dir) return fn_error(FN_ERR_ARG, "fn_train_resume: no run directory");
    /* A rank that cannot read the state still joins the agreement, so that
     * the others do not wait for it. */
    const fn_comm *comm = o && o->comm ? o->comm : fn_comm_self();
    char path[1200];
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    if (access(path, F_OK) != 0)
        return fn_dp_agree(comm,
                           fn_error(FN_ERR_IO,
                                    "%s: no state.safetensors to resume from (is it a run "
                                    "directory? a run saves its first state at the end of its "
                                    "first epoch, or every --save-every steps)",
                                    dir),
                           0);
    fn_st_file *f = NULL;
    fn_status st = fn_st_open(path, &f);
    if (st != FN_OK) return fn_dp_agree(comm, st, 0);
    fn_train_state s;
    st = fn_train_state_read(f, path, &s);
    if (st != FN_OK) {
        fn_st_close(f);
        return fn_dp_agree(comm, st, 0);
    }
    s.c.out_dir = dir;
    if (o) {
        s.c.device = o->device;
        if (o->epochs > 0) s.c.epochs = o->epochs;
        s.c.max_steps = o->max_steps;
        if (o->save_every > 0) s.c.save_every = o->save_every;
        s.c.progress = o->progress;
        s.c.user = o->user;
        s.c.stop = o->stop;
        s.c.comm = o->comm;
    }
    run r = {0};
    r.c = &s.c;
    run_comm(&r, s.c.comm);
    st = setup(&r, 1);
    fn_model_config want;
    /* The data must be what the run started with, down to the pixel: the
     * same batches are what makes a resumed run end where it would have. */
    if (st == FN_OK && r.data_hash != s.data_hash)
        st = fn_error(FN_ERR_MISMATCH,
                      "%s: the training data of %s differs from the data the run started "
                      "with; start a new run to train on it",
                      path, s.c.data);
    if (st == FN_OK)
        st = fn_train_check_fingerprints(&s, path, s.c.baseline, s.c.init, r.file_hash,
                                         r.has_file_hash);
    if (st == FN_OK) st = fn_checkpoint_file_config(f, path, &r.model->cfg, &want);
    if (st == FN_OK) st = fn_train_state_load_tensors(r.model, r.step->opt, f, path);
    fn_st_close(f);
    st = fn_dp_agree(r.comm, st, fn_train_config_hash(&s.c) ^ r.data_hash);
    res->started = st == FN_OK;
    cJSON *h = st == FN_OK ? cJSON_Parse(s.history) : NULL;
    if (st == FN_OK && !h) st = fn_error(FN_ERR_FORMAT, "%s: unreadable history", path);
    if (st == FN_OK) {
        cJSON_Delete(r.history);
        r.history = h;
        r.last_saved_epoch = s.epoch;
        const cJSON *f0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 0), "at_chance");
        r.at_chance = cJSON_IsTrue(f0);
        if (s.epoch > 0 && s.step == 0 && access(r.dir.last, F_OK) != 0) r.last_saved_epoch = 0;
        /* The log ends where the state does: a line written after the state
         * (or a partial one of a stop) goes. */
        st = write_log(&r, NULL);
    }
    if (st == FN_OK && s.epoch >= s.c.epochs) {
        /* Nothing left: report the model as it is. */
        res->steps_done = s.steps_done;
        res->best_top1 = s.best_top1;
        res->best_epoch = s.best_epoch;
        res->epochs_done = s.epoch;
        st = fn_evaluate_dataset_comm(r.model, r.test, r.comm, &res->report);
    } else if (st == FN_OK) {
        st = train_epochs(&r, res, &s);
    }
    st = finish(&r, st, res);
    fn_train_state_free(&s);
    return st;
}
