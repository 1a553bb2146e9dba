/* The trainer: stage 1 (a baseline with cross-entropy, label smoothing or KD)
 * or stage 2 (FocusNet against a frozen baseline), epochs of SGD with
 * evaluation, checkpoints and a JSON log in a run directory. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "../io/file.h"
#include "../loss/loss.h"
#include "../optim/sgd.h"
#include "rundir.h"
#include "train.h"

#define STATS_EVERY 10 /* steps between read-backs of the running loss */

void fn_train_config_default(fn_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->arch = "lenet5";
    c->small_stem = -1;
    c->data = "fashion-mnist";
    fn_loss_opts_default(&c->loss, FN_LOSS_CE);
    c->epochs = 10;
    c->batch = 128;
    c->lr = 0.1f;
    c->momentum = 0.9f;
    c->weight_decay = 1e-4f;
    c->gamma = 0.1f;
    c->seed = 1;
    c->augment = -1;
    c->shuffle = 1;
    c->warmup_epochs = -1;
    c->out_dir = "runs/train";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Creates path and its parents; *created says whether path itself is new. */
static fn_status make_dir(const char *path, int *created)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    *created = mkdir(tmp, 0755) == 0;
    if (!*created && errno != EEXIST)
        return fn_error(FN_ERR_IO, "%s: cannot create the run directory: %s", path,
                        strerror(errno));
    return FN_OK;
}

/* Everything one run holds; freed in one place. */
typedef struct {
    const fn_train_config *c;
    fn_device *dev;
    fn_dataset *train, *test;
    fn_loader *loader;
    fn_model *model, *ref; /* ref: the frozen baseline or teacher */
    cl_mem labels, loss, stats;
    fn_sgd_opts sgd;
    fn_lr_schedule sched;
    cJSON *history; /* the records of completed epochs */
    int created_dir;
    int lock_fd; /* the run lock (rundir.c), -1: none */
    uint64_t data_hash;
    uint64_t file_hash[2]; /* of the --baseline and --init files */
    int has_file_hash[2];
    int last_saved_epoch; /* the epoch last.safetensors holds (0: none from this run) */
    int at_chance;        /* the run's first epoch ended at chance */
    double chance;        /* training accuracy of always guessing the commonest class */
    char path_last[1200], path_best[1200], path_log[1200], path_state[1200];
} run;

static void run_free(run *r)
{
    fn_loader_free(r->loader);
    fn_model_free(r->model);
    fn_model_free(r->ref);
    fn_buffer_free(r->labels);
    fn_buffer_free(r->loss);
    fn_buffer_free(r->stats);
    fn_dataset_free(r->train);
    fn_dataset_free(r->test);
    cJSON_Delete(r->history);
    fn_device_free(r->dev);
    fn_rundir_unlock(r->lock_fd);
    r->lock_fd = -1;
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
    if (c->max_steps < 0 || c->save_every < 0)
        return fn_error(FN_ERR_ARG, "max_steps and save_every must not be negative");
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
        FN_TRY(fn_checkpoint_load(r->dev, c->init, &mc, c->batch, 1, &r->model));
        free(r->model->history); /* a new run starts its own history */
        r->model->history = NULL;
        FN_TRY(fn_model_check_dataset_classes(r->model, c->init, d, c->data));
    } else {
        FN_TRY(fn_model_create(r->dev, &mc, c->batch, 1, &r->model));
        if (!resume) FN_TRY(fn_model_init(r->model, c->seed));
    }
    fn_model *m = r->model;
    /* Momentum buffers are only written from the first step on; zeros keep
     * a state saved with momentum 0 (or a finiteness check) meaningful. */
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].mom)
            FN_TRY(fn_buffer_fill(r->dev, m->params[i].mom, 0, m->params[i].numel * sizeof(float),
                                  0.0f));
    r->data_hash = fn_train_data_hash(d);
    FN_TRY(fn_train_commonest_class(d, &r->chance));
    FN_TRY(fn_train_fingerprint_files(c->baseline, c->init, resume, r->file_hash,
                                      r->has_file_hash));
    fn_dataset_default_norm(d, m->mean, m->std);
    snprintf(m->dataset, sizeof m->dataset, "%s", fn_dataset_name(d));
    snprintf(m->loss, sizeof m->loss, "%s", fn_loss_kind_name(c->loss.kind));
    if (!m->class_names) {
        m->class_names = calloc((size_t)mc.classes, sizeof *m->class_names);
        if (!m->class_names) return fn_error(FN_ERR_NOMEM, "out of host memory");
        for (int i = 0; i < mc.classes; i++) {
            const char *n = fn_dataset_class_name(d, i);
            m->class_names[i] = strdup(n ? n : "?");
        }
    }
    if (c->baseline) {
        /* The baseline may be another architecture; it must see the same
         * images and know the same classes. */
        fn_status st = fn_checkpoint_load(r->dev, c->baseline, NULL, c->batch, 0, &r->ref);
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
            if (fabsf(r->ref->mean[i] - m->mean[i]) > 1e-4f ||
                fabsf(r->ref->std[i] - m->std[i]) > 1e-4f)
                return fn_error(FN_ERR_MISMATCH,
                                "%s was trained with another normalization than %s uses",
                                c->baseline, c->data);
    }
    fn_loader_opts lo = {0};
    lo.batch = c->batch;
    lo.shuffle = c->shuffle;
    lo.augment = c->augment < 0 ? !mnist_like(d) : c->augment;
    lo.seed = c->seed;
    memcpy(lo.mean, m->mean, sizeof lo.mean);
    memcpy(lo.std, m->std, sizeof lo.std);
    FN_TRY(fn_loader_create(d, &lo, &r->loader));
    FN_TRY(fn_buffer_new(r->dev, (size_t)c->batch * sizeof(int32_t), &r->labels));
    FN_TRY(fn_buffer_new(r->dev, (size_t)c->batch * sizeof(float), &r->loss));
    FN_TRY(fn_buffer_new(r->dev, 4 * sizeof(float), &r->stats));

    fn_sgd_opts_default(&r->sgd);
    r->sgd.lr = c->lr;
    r->sgd.momentum = c->momentum;
    r->sgd.weight_decay = c->weight_decay;
    r->sgd.nesterov = c->nesterov;
    if (c->cosine) {
        FN_TRY(fn_lr_cosine(&r->sched, c->lr, 0.0f, c->epochs, 0));
    } else if (c->n_milestones > 0) {
        FN_TRY(fn_lr_step(&r->sched, c->lr, c->gamma, c->milestones, c->n_milestones));
    } else {
        /* The paper divides by 10 at 50% and 75% of the epochs (100 and 150 of 200). */
        int ms[2] = {c->epochs / 2, c->epochs * 3 / 4};
        int n = 0, uniq[2];
        for (int i = 0; i < 2; i++)
            if (ms[i] > 0 && (n == 0 || uniq[n - 1] != ms[i])) uniq[n++] = ms[i];
        if (n)
            FN_TRY(fn_lr_step(&r->sched, c->lr, c->gamma, uniq, n));
        else
            fn_lr_constant(&r->sched, c->lr);
    }
    /* -1: the stage's default; a fresh focus or kd stage at the paper's lr
     * otherwise sits at chance for some batch orders (issue 16). */
    int stage2 = c->loss.kind == FN_LOSS_FOCUS || c->loss.kind == FN_LOSS_KD;
    FN_TRY(fn_lr_warmup(&r->sched, c->warmup_epochs == -1 ? (float)stage2 : c->warmup_epochs));
    FN_TRY(fn_file_check_out_dir(c->out_dir));
    FN_TRY(make_dir(c->out_dir, &r->created_dir));
    FN_TRY(fn_rundir_lock(c->out_dir, &r->lock_fd));
    snprintf(r->path_last, sizeof r->path_last, "%s/last.safetensors", c->out_dir);
    snprintf(r->path_best, sizeof r->path_best, "%s/best.safetensors", c->out_dir);
    snprintf(r->path_log, sizeof r->path_log, "%s/log.jsonl", c->out_dir);
    snprintf(r->path_state, sizeof r->path_state, "%s/state.safetensors", c->out_dir);
    fn_rundir_remove_stale_temps(c->out_dir);
    if (!resume) {
        /* Checked again under the lock: another run may have written here
         * since fn_train looked. With overwrite the old run goes, all of it
         * (its state would resume the wrong run, its best checkpoint would
         * pose as this run's). */
        FN_TRY(fn_train_check_out_dir(c->out_dir, c->overwrite));
        fn_rundir_remove_run(c->out_dir);
    }
    r->history = cJSON_CreateArray();
    if (!r->history) return fn_error(FN_ERR_NOMEM, "out of host memory");
    return FN_OK;
}

/* One SGD step on every trainable tensor. */
static fn_status sgd_step(run *r)
{
    fn_model *m = r->model;
    int first = m->sgd_steps == 0;
    for (int i = 0; i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        if (p->trainable)
            FN_TRY(fn_sgd_step(r->dev, &r->sgd, p->data, p->grad, p->mom, (int)p->numel, first));
    }
    m->sgd_steps++;
    return FN_OK;
}

static fn_status train_step(run *r, const float *x, const int32_t *y, int n)
{
    fn_model *m = r->model;
    int k = m->cfg.classes;
    size_t in_bytes = (size_t)n * m->cfg.channels * m->cfg.height * m->cfg.width_px * sizeof(float);
    FN_TRY(fn_buffer_write(r->dev, m->acts[m->input].data, 0, in_bytes, x));
    FN_TRY(fn_buffer_write(r->dev, r->labels, 0, (size_t)n * sizeof(int32_t), y));
    cl_mem ref = NULL;
    if (r->ref) {
        FN_TRY(fn_buffer_copy(r->dev, r->ref->acts[r->ref->input].data, 0, m->acts[m->input].data,
                              0, in_bytes));
        FN_TRY(fn_model_forward(r->ref, n, 0));
        ref = r->ref->acts[r->ref->logits].data;
    }
    FN_TRY(fn_model_forward(m, n, 1));
    cl_mem logits = m->acts[m->logits].data;
    FN_TRY(fn_loss_compute(r->dev, &r->c->loss, r->loss, m->acts[m->logits].grad, NULL, logits,
                           r->labels, ref, n, k));
    FN_TRY(fn_batch_stats(r->dev, r->stats, logits, r->labels, r->loss, n, k));
    FN_TRY(fn_model_zero_grad(m));
    FN_TRY(fn_model_backward(m, n));
    return sgd_step(r);
}

/* What the files keep when the run stops on a non-finite value. */
static void kept(const run *r, char *out, size_t n)
{
    if (r->last_saved_epoch > 0)
        snprintf(out, n, "%s keeps epoch %d", r->path_last, r->last_saved_epoch);
    else if (access(r->path_state, F_OK) == 0)
        snprintf(out, n, "%s keeps the last good state", r->path_state);
    else
        snprintf(out, n, "no checkpoint had been saved yet");
}

static fn_status diverged_loss(const run *r, long step, int epoch)
{
    char k[1400];
    kept(r, k, sizeof k);
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
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        fn_param *p = &m->params[i];
        if (!p->trainable) continue;
        s->mom[i] = malloc(p->numel * sizeof(float) + 1);
        st = s->mom[i] ? fn_buffer_read(r->dev, p->mom, 0, p->numel * sizeof(float), s->mom[i])
                       : fn_error(FN_ERR_NOMEM, "out of host memory");
    }
    /* A gradient that blew up shows in the weights or momentum before the
     * loss: nothing non-finite is ever written. */
    for (int i = 0; st == FN_OK && i < m->n_params; i++) {
        const fn_param *p = &m->params[i];
        for (size_t j = 0; j < p->numel && st == FN_OK; j++) {
            if (isfinite(s->params[i][j]) && (!s->mom[i] || isfinite(s->mom[i][j]))) continue;
            char k[1400];
            kept(r, k, sizeof k);
            st = fn_error(FN_ERR_NUMERIC,
                          "training diverged: %s became NaN or infinite by step %ld (epoch %d); "
                          "stopped without saving, %s",
                          p->name, step, epoch, k);
        }
    }
    if (st != FN_OK) snapshot_free(r, s);
    return st;
}

/* The log is the history, one record a line, replaced atomically. extra: a
 * record of a partial epoch to show after them, or NULL. */
typedef struct {
    cJSON *history, *extra;
} log_ctx;

static fn_status write_log_lines(FILE *f, void *arg)
{
    log_ctx *c = arg;
    for (int pass = 0; pass < 2; pass++) {
        cJSON *e = pass == 0 ? (c->history ? c->history->child : NULL) : c->extra;
        for (; e; e = pass == 0 ? e->next : NULL) {
            char *line = cJSON_PrintUnformatted(e);
            if (!line) return fn_error(FN_ERR_NOMEM, "out of host memory");
            int ok = fprintf(f, "%s\n", line) > 0;
            free(line);
            if (!ok) return fn_error(FN_ERR_IO, "log: write failed");
        }
    }
    return FN_OK;
}

static fn_status write_log(run *r, cJSON *extra)
{
    log_ctx c = {r->history, extra};
    return fn_file_write_atomic(r->path_log, write_log_lines, &c);
}

/* Sets the model's history metadata: completed epochs, plus extra. */
static fn_status set_history(run *r, cJSON *extra)
{
    fn_model *m = r->model;
    free(m->history);
    m->history = NULL;
    if (extra) cJSON_AddItemReferenceToArray(r->history, extra);
    m->history = cJSON_PrintUnformatted(r->history);
    if (extra)
        cJSON_Delete(cJSON_DetachItemFromArray(r->history, cJSON_GetArraySize(r->history) - 1));
    return m->history ? FN_OK : fn_error(FN_ERR_NOMEM, "out of host memory");
}

static fn_status save_state(run *r, const snapshot *s, int epoch, long step, long steps_done,
                            const fn_train_result *res, const float stats[4])
{
    fn_train_state st;
    memset(&st, 0, sizeof st);
    st.c = *r->c;
    st.epoch = epoch;
    st.step = step;
    st.steps_done = steps_done;
    st.sgd_steps = r->model->sgd_steps;
    st.best_top1 = res->best_top1;
    st.best_epoch = res->best_epoch;
    memcpy(st.stats, stats, sizeof st.stats);
    st.data_hash = r->data_hash;
    st.baseline_hash = r->file_hash[0];
    st.has_baseline_hash = r->has_file_hash[0];
    st.init_hash = r->file_hash[1];
    st.has_init_hash = r->has_file_hash[1];
    FN_TRY(set_history(r, NULL));
    return fn_train_state_write(r->model, s->params, s->mom, &st, r->path_state);
}

static cJSON *epoch_record(const run *r, int epoch, long steps_done, const float stats[4],
                           const fn_eval_report *rep, double secs, long images, int partial)
{
    cJSON *rec = cJSON_CreateObject();
    if (!rec) return NULL;
    cJSON_AddNumberToObject(rec, "epoch", epoch + 1);
    cJSON_AddNumberToObject(rec, "steps", (double)steps_done);
    cJSON_AddNumberToObject(rec, "lr", r->sgd.lr);
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
        r->model->sgd_steps = from->sgd_steps;
    }
    /* This call's steps: to the end of the run, or max_steps. */
    long todo = (long)steps * c->epochs - (long)first_epoch * steps - first_step, done = 0;
    if (todo < 0) todo = 0;
    if (c->max_steps > 0 && c->max_steps < todo) todo = c->max_steps;
    for (int epoch = first_epoch; epoch < c->epochs && !res->stopped; epoch++) {
        long step0 = epoch == first_epoch ? first_step : 0;
        if (epoch != first_epoch || !from) memset(stats, 0, sizeof stats);
        r->sgd.lr = fn_lr_at(&r->sched, epoch, 0, steps);
        st = fn_buffer_write(r->dev, r->stats, 0, sizeof stats, stats);
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
            r->sgd.lr = fn_lr_at(&r->sched, epoch, (int)step, steps); /* warm-up moves it */
            st = train_step(r, x, y, n);
            if (st != FN_OK) break;
            images += n;
            step++;
            res->steps_done++;
            done++;
            stop = (c->stop && *c->stop) || done >= todo;
            int save_now = c->save_every > 0 && res->steps_done % c->save_every == 0;
            if (step % STATS_EVERY == 0 || step == steps || stop || save_now) {
                st = fn_buffer_read(r->dev, r->stats, 0, sizeof stats, stats);
                if (st == FN_OK && stats[2] > 0) st = diverged_loss(r, res->steps_done, epoch + 1);
                if (st == FN_OK && c->progress) {
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
                    stop |= c->stop && *c->stop; /* a stop asked for from the callback */
                }
            }
            if (st == FN_OK && step < steps && (save_now || stop)) {
                /* Mid-epoch: the resume point, and on a stop what was reached. */
                snapshot s;
                st = take_snapshot(r, res->steps_done, epoch + 1, &s);
                if (st == FN_OK) st = save_state(r, &s, epoch, step, res->steps_done, res, stats);
                if (st == FN_OK && stop) {
                    fn_eval_report rep;
                    st = fn_evaluate_dataset(r->model, r->test, &rep);
                    if (st == FN_OK) {
                        fn_eval_report_free(&res->report);
                        res->report = rep;
                    }
                    cJSON *rec = st == FN_OK ? epoch_record(r, epoch, res->steps_done, stats, &rep,
                                                            now_s() - te, images, 1)
                                             : NULL;
                    if (st == FN_OK && !rec) st = fn_error(FN_ERR_NOMEM, "out of host memory");
                    if (st == FN_OK) st = set_history(r, rec);
                    if (st == FN_OK)
                        st = fn_checkpoint_write(r->model, s.params, NULL, 0, NULL, NULL, 0,
                                                 r->path_last);
                    if (st == FN_OK) st = write_log(r, rec);
                    cJSON_Delete(rec);
                    res->stopped = 1;
                }
                snapshot_free(r, &s);
            }
        }
        if (st != FN_OK) break;
        if (res->stopped) break;
        /* The epoch is complete: evaluate, record, save, then the log. */
        fn_eval_report rep;
        st = fn_evaluate_dataset(r->model, r->test, &rep);
        if (st != FN_OK) break;
        cJSON *rec = epoch_record(r, epoch, res->steps_done, stats, &rep, now_s() - te, images, 0);
        snapshot s = {0};
        if (!rec) st = fn_error(FN_ERR_NOMEM, "out of host memory");
        if (st == FN_OK) st = take_snapshot(r, res->steps_done, epoch + 1, &s);
        if (st == FN_OK) {
            cJSON_AddItemToArray(r->history, rec);
            rec = NULL;
        }
        int better = rep.top1 > res->best_top1;
        if (better) {
            res->best_top1 = rep.top1;
            res->best_epoch = epoch + 1;
        }
        if (st == FN_OK) st = set_history(r, NULL);
        if (st == FN_OK && better)
            st = fn_checkpoint_write(r->model, s.params, NULL, 0, NULL, NULL, 0, r->path_best);
        if (st == FN_OK)
            st = fn_checkpoint_write(r->model, s.params, NULL, 0, NULL, NULL, 0, r->path_last);
        if (st == FN_OK) r->last_saved_epoch = epoch + 1;
        if (epoch == 0) r->at_chance = fn_train_at_chance(stats, r->chance);
        float zero[4] = {0, 0, 0, 0};
        if (st == FN_OK) st = save_state(r, &s, epoch + 1, 0, res->steps_done, res, zero);
        if (st == FN_OK) st = write_log(r, NULL);
        snapshot_free(r, &s);
        cJSON_Delete(rec);
        res->epochs_done = epoch + 1;
        fn_eval_report_free(&res->report);
        res->report = rep;
        if (st == FN_OK && stop && epoch + 1 < c->epochs) res->stopped = 1;
    }
    res->seconds = now_s() - t0;
    return st;
}

static fn_status finish(run *r, fn_status st, fn_train_result *res)
{
    /* A run that failed before writing anything leaves no empty folder. */
    if (st != FN_OK && r->created_dir && r->c->out_dir) {
        char lock[1200];
        snprintf(lock, sizeof lock, "%s/run.lock", r->c->out_dir);
        unlink(lock);
        rmdir(r->c->out_dir);
    }
    run_free(r);
    if (st != FN_OK) fn_eval_report_free(&res->report);
    return st;
}

fn_status fn_train(const fn_train_config *c, fn_train_result *res)
{
    run r = {0};
    r.c = c;
    fn_train_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->best_top1 = -1;
    r.lock_fd = -1;
    FN_TRY(fn_train_check_out_dir(c->out_dir, c->overwrite));
    fn_status st = setup(&r, 0);
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
    char path[1200];
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    if (access(path, F_OK) != 0)
        return fn_error(FN_ERR_IO,
                        "%s: no state.safetensors to resume from (is it a run directory? a run "
                        "saves its first state at the end of its first epoch, or every "
                        "--save-every steps)",
                        dir);
    fn_st_file *f = NULL;
    FN_TRY(fn_st_open(path, &f));
    fn_train_state s;
    fn_status st = fn_train_state_read(f, path, &s);
    if (st != FN_OK) {
        fn_st_close(f);
        return st;
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
    }
    run r = {0};
    r.c = &s.c;
    r.lock_fd = -1;
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
    if (st == FN_OK) st = fn_train_state_load_tensors(r.model, f, path);
    fn_st_close(f);
    cJSON *h = st == FN_OK ? cJSON_Parse(s.history) : NULL;
    if (st == FN_OK && !h) st = fn_error(FN_ERR_FORMAT, "%s: unreadable history", path);
    if (st == FN_OK) {
        cJSON_Delete(r.history);
        r.history = h;
        r.last_saved_epoch = s.epoch;
        const cJSON *f0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(h, 0), "at_chance");
        r.at_chance = cJSON_IsTrue(f0);
        if (s.epoch > 0 && s.step == 0 && access(r.path_last, F_OK) != 0) r.last_saved_epoch = 0;
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
        st = fn_evaluate_dataset(r.model, r.test, &res->report);
    } else if (st == FN_OK) {
        st = train_epochs(&r, res, &s);
    }
    st = finish(&r, st, res);
    fn_train_state_free(&s);
    return st;
}
