/* The trainer: stage 1 (a baseline with cross-entropy, label smoothing or KD)
 * or stage 2 (FocusNet against a frozen baseline), epochs of SGD with
 * evaluation, checkpoints and a JSON log in a run directory. */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../loss/loss.h"
#include "../optim/sgd.h"
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
    c->out_dir = "runs/train";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static fn_status make_dir(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
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
    cJSON *history;
    char path_last[1200], path_best[1200], path_log[1200];
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
}

static int mnist_like(const fn_dataset *d)
{
    return fn_dataset_channels(d) == 1 && fn_dataset_height(d) == 28 && fn_dataset_width(d) == 28;
}

static fn_status setup(run *r)
{
    const fn_train_config *c = r->c;
    if (c->epochs < 1 || c->batch < 1)
        return fn_error(FN_ERR_ARG, "epochs and batch must be at least 1");
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
    if (c->init) {
        FN_TRY(fn_checkpoint_load(r->dev, c->init, &mc, c->batch, 1, &r->model));
        free(r->model->history); /* a new run starts its own history */
        r->model->history = NULL;
    } else {
        FN_TRY(fn_model_create(r->dev, &mc, c->batch, 1, &r->model));
        FN_TRY(fn_model_init(r->model, c->seed));
    }
    fn_model *m = r->model;
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
    FN_TRY(make_dir(c->out_dir));
    snprintf(r->path_last, sizeof r->path_last, "%s/last.safetensors", c->out_dir);
    snprintf(r->path_best, sizeof r->path_best, "%s/best.safetensors", c->out_dir);
    snprintf(r->path_log, sizeof r->path_log, "%s/log.jsonl", c->out_dir);
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

static fn_status save(run *r, const char *path)
{
    fn_model *m = r->model;
    free(m->history);
    m->history = cJSON_PrintUnformatted(r->history);
    if (!m->history) return fn_error(FN_ERR_NOMEM, "out of host memory");
    return fn_checkpoint_save(m, path);
}

static fn_status log_epoch(run *r, cJSON *rec)
{
    char *line = cJSON_PrintUnformatted(rec);
    if (!line) return fn_error(FN_ERR_NOMEM, "out of host memory");
    FILE *f = fopen(r->path_log, "a");
    int ok = f && fprintf(f, "%s\n", line) > 0;
    if (f) ok = (fclose(f) == 0) && ok;
    free(line);
    return ok ? FN_OK : fn_error(FN_ERR_IO, "%s: cannot append: %s", r->path_log, strerror(errno));
}

fn_status fn_train(const fn_train_config *c, fn_train_result *res)
{
    run r = {0};
    r.c = c;
    fn_train_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->best_top1 = -1;
    fn_status st = setup(&r);
    double t0 = now_s();
    int steps = st == FN_OK ? fn_loader_batches(r.loader) : 0;
    long total_steps = (long)steps * c->epochs;
    if (c->max_steps > 0 && c->max_steps < total_steps) total_steps = c->max_steps;
    for (int epoch = 0; st == FN_OK && epoch < c->epochs && !res->stopped; epoch++) {
        r.sgd.lr = fn_lr_at(&r.sched, epoch, 0, steps);
        float zero4[4] = {0, 0, 0, 0}, stats[4] = {0, 0, 0, 0};
        st = fn_buffer_write(r.dev, r.stats, 0, sizeof zero4, zero4);
        if (st == FN_OK) st = fn_loader_start(r.loader, epoch, 0);
        double te = now_s();
        long images = 0;
        for (long step = 0; st == FN_OK; step++) {
            const float *x;
            const int32_t *y;
            int n = 0;
            st = fn_loader_next(r.loader, &x, &y, &n);
            if (st != FN_OK || n == 0) break;
            st = train_step(&r, x, y, n);
            images += n;
            res->steps_done++;
            int last = step + 1 == steps || res->steps_done == total_steps || (c->stop && *c->stop);
            if (st == FN_OK && ((step + 1) % STATS_EVERY == 0 || last)) {
                st = fn_buffer_read(r.dev, r.stats, 0, sizeof stats, stats);
                if (st == FN_OK && stats[2] > 0)
                    st = fn_error(FN_ERR_NUMERIC,
                                  "the loss became NaN or infinite at step %ld (epoch %d); the "
                                  "last good checkpoint is kept: %s",
                                  res->steps_done, epoch + 1, r.path_last);
                if (st == FN_OK && c->progress) {
                    double el = now_s() - te, all = now_s() - t0;
                    fn_train_progress p = {epoch + 1,
                                           c->epochs,
                                           step + 1,
                                           steps,
                                           stats[3] > 0 ? stats[0] / stats[3] : 0,
                                           stats[3] > 0 ? stats[1] / stats[3] : 0,
                                           el > 0 ? images / el : 0,
                                           0};
                    p.eta_s = all / res->steps_done * (total_steps - res->steps_done);
                    c->progress(&p, c->user);
                }
            }
            if (st == FN_OK && ((c->stop && *c->stop) || res->steps_done >= total_steps)) {
                res->stopped = res->steps_done < (long)steps * c->epochs;
                break;
            }
        }
        if (st != FN_OK) break;
        /* Evaluate, record, save. A stopped run still saves where it got to. */
        fn_eval_report rep;
        st = fn_evaluate_dataset(r.model, r.test, &rep);
        if (st != FN_OK) break;
        double secs = now_s() - te;
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddNumberToObject(rec, "epoch", epoch + 1);
        cJSON_AddNumberToObject(rec, "steps", (double)res->steps_done);
        cJSON_AddNumberToObject(rec, "lr", r.sgd.lr);
        cJSON_AddNumberToObject(rec, "train_loss", stats[3] > 0 ? stats[0] / stats[3] : 0);
        cJSON_AddNumberToObject(rec, "train_acc", stats[3] > 0 ? stats[1] / stats[3] : 0);
        cJSON_AddNumberToObject(rec, "test_loss", rep.loss);
        cJSON_AddNumberToObject(rec, "test_top1", rep.top1);
        cJSON_AddNumberToObject(rec, "test_top5", rep.top5);
        cJSON_AddNumberToObject(rec, "seconds", secs);
        cJSON_AddNumberToObject(rec, "images_per_s", secs > 0 ? images / secs : 0);
        cJSON_AddBoolToObject(rec, "partial", res->stopped);
        st = log_epoch(&r, rec);
        cJSON_AddItemToArray(r.history, rec);
        if (st == FN_OK) st = save(&r, r.path_last);
        if (st == FN_OK && rep.top1 > res->best_top1) {
            res->best_top1 = rep.top1;
            res->best_epoch = epoch + 1;
            st = save(&r, r.path_best);
        }
        res->epochs_done = epoch + 1;
        fn_eval_report_free(&res->report);
        res->report = rep;
    }
    res->seconds = now_s() - t0;
    run_free(&r);
    if (st != FN_OK) fn_eval_report_free(&res->report);
    return st;
}
