/* The inference thread: see worker.h. Owned by it alone: the device, the
 * models (one built for training with batch 1 per slot, for CAM and Grad-CAM,
 * and one for batched evaluation, made when a dataset is first asked for) and
 * the open dataset. */
#include <math.h>
#include <string.h>

#include "worker.h"

#define EVAL_BATCH 128
/* Epoch checkpoints kept loaded per slot: sliding back and forth over a few
 * epochs loads each once; a ResNet-18 built for Grad-CAM is some 100 MB. */
#define EPOCH_CACHE 4

typedef struct {
    char *path;
    fn_model *m;
    unsigned long used; /* the worker's clock at its last use */
} epoch_model;

struct FnvWorker {
    GThread *thread;
    GAsyncQueue *queue;
    char *device_spec;
    gint latest[FNV_JOB_KINDS]; /* atomic: the newest generation submitted */
    gint next_generation;
    gint stopping; /* atomic */
    /* worker thread only */
    fn_device *dev;
    fn_model *cam[FNV_SLOTS], *eval[FNV_SLOTS];
    char *paths[FNV_SLOTS];
    epoch_model epochs[FNV_SLOTS][EPOCH_CACHE];
    unsigned long clock;
    fn_dataset *data;
};

static FnvJob quit_job; /* a marker, never delivered */

FnvJob *fnv_job_new(FnvJobKind kind, FnvJobDone done, gpointer user)
{
    FnvJob *j = g_new0(FnvJob, 1);
    j->kind = kind;
    j->slot = -1;
    j->index = -1;
    j->cls = -1;
    j->true_class = -1;
    j->shown_class = -1;
    j->pair = -2;
    j->pair_a = j->pair_b = -1;
    for (int s = 0; s < FNV_SLOTS; s++)
        j->mapped_class[s] = -1;
    j->info_slot = -1;
    j->done = done;
    j->user = user;
    return j;
}

void fnv_model_info_clear(FnvModelInfo *info)
{
    if (info->names)
        for (int i = 0; i < info->k; i++)
            g_free(info->names[i]);
    g_free(info->names);
    g_free(info->path);
    g_free(info->arch);
    g_free(info->dataset);
    g_free(info->loss);
    memset(info, 0, sizeof *info);
}

void fnv_job_free(FnvJob *j)
{
    if (!j || j == &quit_job) return;
    g_free(j->path);
    g_free(j->spec);
    g_free(j->split);
    g_free(j->error);
    fnv_model_info_clear(&j->info);
    for (int s = 0; s < FNV_SLOTS; s++) {
        g_free(j->ckpt[s]);
        g_free(j->pixels[s]);
        g_free(j->logits[s]);
        g_free(j->heat[s]);
        g_free(j->pred[s]);
        g_free(j->conf[s]);
        g_free(j->zs[s]);
        for (int m = 0; m < 3; m++)
            g_free(j->pair_heat[s][m]);
    }
    g_free(j->labels);
    if (j->class_names)
        for (int i = 0; i < j->k; i++)
            g_free(j->class_names[i]);
    g_free(j->class_names);
    g_free(j);
}

static gboolean deliver(gpointer data)
{
    FnvJob *j = data;
    if (!j->done || !j->done(j, j->user)) fnv_job_free(j);
    return G_SOURCE_REMOVE;
}

static void fail(FnvJob *j, fn_status st, const char *context)
{
    j->status = st;
    g_free(j->error);
    j->error =
        context ? g_strdup_printf("%s: %s", context, fn_last_error()) : g_strdup(fn_last_error());
}

static fn_status ensure_device(FnvWorker *w, FnvJob *j)
{
    if (w->dev) return FN_OK;
    fn_status st = fn_device_open(w->device_spec, &w->dev);
    if (st != FN_OK) fail(j, st, "opening the OpenCL device");
    return st;
}

static void fill_info(FnvModelInfo *info, const char *path, fn_model *m)
{
    const fn_model_config *c = fn_model_get_config(m);
    info->path = g_strdup(path);
    info->arch = g_strdup(c->arch);
    info->dataset = g_strdup(fn_model_dataset(m));
    info->loss = g_strdup(fn_model_loss(m));
    info->k = c->classes;
    info->c = c->channels;
    info->h = c->height;
    info->w = c->width_px;
    info->names = g_new0(char *, c->classes);
    for (int i = 0; i < c->classes; i++)
        info->names[i] = g_strdup(fn_model_class_name(m, i));
    info->cam_available = fn_cam_available(m);
}

static void drop_epoch(epoch_model *e)
{
    fn_model_free(e->m);
    g_free(e->path);
    memset(e, 0, sizeof *e);
}

static void unload(FnvWorker *w, int slot)
{
    fn_model_free(w->cam[slot]);
    fn_model_free(w->eval[slot]);
    w->cam[slot] = w->eval[slot] = NULL;
    g_clear_pointer(&w->paths[slot], g_free);
    for (int i = 0; i < EPOCH_CACHE; i++) /* they were the old run's */
        drop_epoch(&w->epochs[slot][i]);
}

/* Slot's checkpoint of an epoch, loaded on first use (batch 1, for Grad-CAM
 * too) and cached; it must be a checkpoint of the model opened in the slot. */
static fn_model *epoch_model_get(FnvWorker *w, int slot, const char *path, FnvJob *j)
{
    epoch_model *c = w->epochs[slot], *victim = &c[0];
    for (int i = 0; i < EPOCH_CACHE; i++) {
        if (c[i].path && strcmp(c[i].path, path) == 0) {
            c[i].used = ++w->clock;
            return c[i].m;
        }
        if (c[i].used < victim->used) victim = &c[i];
    }
    fn_model *m = NULL;
    fn_status st = fn_checkpoint_load(w->dev, path, NULL, 1, 1, &m);
    if (st != FN_OK) {
        fail(j, st, NULL);
        return NULL;
    }
    const fn_model_config *a = fn_model_get_config(m), *b = fn_model_get_config(w->cam[slot]);
    if (strcmp(a->arch, b->arch) != 0 || a->classes != b->classes || a->channels != b->channels ||
        a->height != b->height || a->width_px != b->width_px) {
        j->status = FN_ERR_MISMATCH;
        j->error = g_strdup_printf("%s: %s for %d classes is not a checkpoint of the run's %s "
                                   "(%d classes) opened from %s",
                                   path, a->arch, a->classes, b->arch, b->classes, w->paths[slot]);
        fn_model_free(m);
        return NULL;
    }
    if (fn_model_check_classes(m, path, w->cam[slot], w->paths[slot]) != FN_OK) {
        fail(j, FN_ERR_MISMATCH, NULL);
        fn_model_free(m);
        return NULL;
    }
    drop_epoch(victim);
    victim->path = g_strdup(path);
    victim->m = m;
    victim->used = ++w->clock;
    return m;
}

static void run_load(FnvWorker *w, FnvJob *j)
{
    if (ensure_device(w, j) != FN_OK) return;
    fn_model *m = NULL;
    fn_status st = fn_checkpoint_load(w->dev, j->path, NULL, 1, 1, &m);
    if (st != FN_OK) {
        fail(j, st, NULL);
        return;
    }
    int slot = j->slot;
    if (slot < 0) slot = strcmp(fn_model_loss(m), "focus") == 0 ? FNV_FOCUSNET : FNV_BASELINE;
    if (j->replace && w->cam[1 - slot]) {
        unload(w, 1 - slot);
        j->closed_other = 1;
    }
    /* Both columns show one image and one class list: the models must agree. */
    const fn_model *other = w->cam[1 - slot];
    const fn_model_config *a = fn_model_get_config(m);
    if (other) {
        const fn_model_config *b = fn_model_get_config(other);
        if (a->classes != b->classes || a->channels != b->channels || a->height != b->height ||
            a->width_px != b->width_px) {
            j->status = FN_ERR_MISMATCH;
            j->error = g_strdup_printf(
                "%s: %s for %dx%dx%d images with %d classes does not match the %s (%s, "
                "%dx%dx%d, %d classes); open a checkpoint of the same dataset",
                j->path, a->arch, a->channels, a->height, a->width_px, a->classes,
                slot == FNV_BASELINE ? "FocusNet model" : "baseline", b->arch, b->channels,
                b->height, b->width_px, b->classes);
            fn_model_free(m);
            return;
        }
        if (fn_model_check_classes(m, j->path, other,
                                   slot == FNV_BASELINE ? "the FocusNet model" : "the baseline") !=
            FN_OK) {
            j->status = FN_ERR_MISMATCH;
            j->error = g_strdup(fn_last_error());
            fn_model_free(m);
            return;
        }
    }
    unload(w, slot);
    w->cam[slot] = m;
    w->paths[slot] = g_strdup(j->path);
    j->info_slot = slot;
    fill_info(&j->info, j->path, m);
    j->status = FN_OK;
}

static int argmax(const float *x, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* The true class of an image file from its folder's name ("test/cat/0001.jpg"). */
static int class_from_folder(const char *path, fn_model *m)
{
    char *dir = g_path_get_dirname(path);
    char *base = g_path_get_basename(dir);
    int found = -1, k = fn_model_get_config(m)->classes;
    for (int i = 0; i < k && found < 0; i++)
        if (g_ascii_strcasecmp(base, fn_model_class_name(m, i)) == 0) found = i;
    g_free(base);
    g_free(dir);
    return found;
}

/* A dataset image (C, H, W) bytes as pixels in [0, 1] and the model's input. */
static void dataset_input(fn_model *m, const uint8_t *img, float *input, float *pixels)
{
    const fn_model_config *c = fn_model_get_config(m);
    float mean[3], std[3];
    fn_model_normalization(m, mean, std);
    size_t plane = (size_t)c->height * c->width_px;
    for (int ch = 0; ch < c->channels; ch++)
        for (size_t i = 0; i < plane; i++) {
            float p = img[ch * plane + i] / 255.0f;
            if (pixels) pixels[ch * plane + i] = p;
            if (input) input[ch * plane + i] = (p - mean[ch]) / std[ch];
        }
}

/* The confusing pair (issue 17.1): A the true class (else the baseline's
 * top), B the one asked for, or the baseline's most probable class after A
 * (the class FocusNet's multi-warm label most often adds); both models map
 * the same two classes so that their columns compare. */
static fn_status run_pair(FnvJob *j, fn_model *const *ms, float *const *input)
{
    /* ms: the models the image went through (the epoch slider's, or as opened) */
    int ref = ms[FNV_BASELINE] ? FNV_BASELINE : FNV_FOCUSNET, k = j->k;
    const float *z = j->logits[ref];
    int a = j->true_class >= 0 && j->true_class < k ? j->true_class : argmax(z, k);
    int b = -1;
    if (j->pair >= 0 && j->pair < k && j->pair != a)
        b = j->pair;
    else
        for (int c = 0; c < k; c++)
            if (c != a && (b < 0 || z[c] > z[b])) b = c;
    if (b < 0) return FN_OK; /* one class: no pair */
    j->pair_a = a, j->pair_b = b;
    for (int s = 0; s < FNV_SLOTS; s++) {
        if (!ms[s]) continue;
        size_t hw = (size_t)j->h[s] * j->w[s];
        for (int m = 0; m < 3; m++)
            j->pair_heat[s][m] = g_new0(float, hw);
        int g = j->used_grad_cam[s];
        fn_status st = fn_cam_compute(ms[s], input[s], a, g, j->pair_heat[s][0], NULL);
        if (st == FN_OK) st = fn_cam_compute(ms[s], input[s], b, g, j->pair_heat[s][1], NULL);
        if (st == FN_OK) st = fn_cam_contrast(ms[s], input[s], a, b, g, j->pair_heat[s][2], NULL);
        if (st != FN_OK) {
            fail(j, st, "computing the confusing pair's maps");
            return st;
        }
    }
    return FN_OK;
}

static void run_image(FnvWorker *w, FnvJob *j)
{
    float *input[FNV_SLOTS] = {NULL, NULL};
    fn_model *ms[FNV_SLOTS] = {NULL, NULL}; /* the models this image goes through */
    fn_status st = FN_OK;
    if (!j->path && (!w->data || j->index < 0 || j->index >= fn_dataset_count(w->data))) {
        j->status = FN_ERR_ARG;
        j->error = g_strdup_printf("image %d is not in the open dataset", j->index);
        return;
    }
    for (int s = 0; s < FNV_SLOTS; s++) {
        if (!w->cam[s] || j->skip[s]) continue;
        ms[s] = j->ckpt[s] ? epoch_model_get(w, s, j->ckpt[s], j) : w->cam[s];
        if (!ms[s]) return; /* the failure is in j */
    }
    if (!ms[FNV_BASELINE] && !ms[FNV_FOCUSNET]) {
        j->status = FN_ERR_ARG;
        j->error = g_strdup_printf("neither run kept a checkpoint of epoch %d", j->epoch);
        return;
    }
    for (int s = 0; s < FNV_SLOTS && st == FN_OK; s++) {
        fn_model *m = ms[s];
        if (!m) continue;
        const fn_model_config *c = fn_model_get_config(m);
        size_t n = (size_t)c->channels * c->height * c->width_px;
        j->c[s] = c->channels, j->h[s] = c->height, j->w[s] = c->width_px;
        input[s] = g_new(float, n);
        j->pixels[s] = g_new(float, n);
        j->logits[s] = g_new(float, c->classes);
        j->heat[s] = g_new0(float, (size_t)c->height * c->width_px);
        if (j->path) {
            st = fn_model_load_image(m, j->path, input[s], j->pixels[s]);
            if (st != FN_OK) {
                fail(j, st, NULL);
                break;
            }
            j->true_class = class_from_folder(j->path, m);
        } else {
            dataset_input(m, fn_dataset_image(w->data, j->index), input[s], j->pixels[s]);
            j->true_class = fn_dataset_label(w->data, j->index);
        }
    }
    if (st == FN_OK) {
        int ref = ms[FNV_FOCUSNET] ? FNV_FOCUSNET : FNV_BASELINE;
        int k = fn_model_get_config(ms[ref])->classes, chosen = j->cls >= 0 && j->cls < k;
        j->k = k;
        /* One forward per model: the map's pass also gives the logits, and
         * with no class chosen, the map of the model's own prediction. */
        for (int s = 0; s < FNV_SLOTS && st == FN_OK; s++) {
            if (!ms[s]) continue;
            j->used_grad_cam[s] = j->grad_cam || !fn_cam_available(ms[s]);
            j->mapped_class[s] = j->cls;
            st = chosen ? fn_cam_compute(ms[s], input[s], j->cls, j->used_grad_cam[s], j->heat[s],
                                         j->logits[s])
                        : fn_cam_predicted(ms[s], input[s], j->used_grad_cam[s], j->heat[s],
                                           j->logits[s], &j->mapped_class[s]);
            if (st != FN_OK) fail(j, st, "computing the class activation map");
        }
        j->shown_class = chosen ? j->cls : argmax(j->logits[ref], k);
    }
    if (st == FN_OK && j->pair >= -1) st = run_pair(j, ms, input);
    if (st == FN_OK) j->status = FN_OK;
    for (int s = 0; s < FNV_SLOTS; s++)
        g_free(input[s]);
}

static void run_dataset(FnvWorker *w, FnvJob *j)
{
    int ref = w->cam[FNV_BASELINE] ? FNV_BASELINE : FNV_FOCUSNET;
    const fn_model_config *c = fn_model_get_config(w->cam[ref]);
    if (w->data) {
        fn_dataset_free(w->data);
        w->data = NULL;
    }
    fn_status st = fn_dataset_open_sized(j->spec, j->split, j->limit, c->channels, c->height,
                                         c->width_px, &w->data);
    if (st != FN_OK) {
        fail(j, st, NULL);
        return;
    }
    int n = fn_dataset_count(w->data), k = c->classes;
    if (fn_dataset_classes(w->data) != k) {
        j->status = FN_ERR_MISMATCH;
        j->error = g_strdup_printf("%s has %d classes but the models have %d", j->spec,
                                   fn_dataset_classes(w->data), k);
        fn_dataset_free(w->data);
        w->data = NULL;
        return;
    }
    /* Both models were checked against each other when they were opened. */
    const fn_model *any = w->cam[FNV_BASELINE] ? w->cam[FNV_BASELINE] : w->cam[FNV_FOCUSNET];
    if (any && fn_model_check_dataset_classes(any, "the models", w->data, j->spec) != FN_OK) {
        j->status = FN_ERR_MISMATCH;
        j->error = g_strdup(fn_last_error());
        fn_dataset_free(w->data);
        w->data = NULL;
        return;
    }
    j->n = n;
    j->k = k;
    j->labels = g_new(int, n);
    j->class_names = g_new0(char *, k);
    for (int i = 0; i < k; i++)
        j->class_names[i] = g_strdup(fn_dataset_class_name(w->data, i));
    for (int i = 0; i < n; i++)
        j->labels[i] = fn_dataset_label(w->data, i);
    size_t per = (size_t)c->channels * c->height * c->width_px;
    float *x = g_new(float, per *EVAL_BATCH), *z = g_new(float, (size_t)k *EVAL_BATCH);
    for (int s = 0; s < FNV_SLOTS && st == FN_OK; s++) {
        if (!w->cam[s]) continue;
        if (!w->eval[s]) {
            st = fn_checkpoint_load(w->dev, w->paths[s], NULL, EVAL_BATCH, 0, &w->eval[s]);
            if (st != FN_OK) {
                fail(j, st, NULL);
                break;
            }
        }
        j->pred[s] = g_new(int, n);
        j->conf[s] = g_new0(int64_t, (size_t)k * k);
        j->zs[s] = g_new(float, (size_t)n *k);
        for (int i0 = 0; i0 < n && st == FN_OK; i0 += EVAL_BATCH) {
            if (g_atomic_int_get(&w->stopping)) {
                st = FN_ERR_INTERRUPTED;
                fail(j, st, "stopping");
                break;
            }
            int b = n - i0 < EVAL_BATCH ? n - i0 : EVAL_BATCH;
            for (int i = 0; i < b; i++)
                dataset_input(w->eval[s], fn_dataset_image(w->data, i0 + i), x + i * per, NULL);
            st = fn_model_predict(w->eval[s], x, b, z);
            if (st != FN_OK) {
                fail(j, st, "evaluating");
                break;
            }
            memcpy(j->zs[s] + (size_t)i0 * k, z, sizeof(float) * (size_t)b * k);
            for (int i = 0; i < b; i++) {
                int p = argmax(z + (size_t)i * k, k), y = j->labels[i0 + i];
                j->pred[s][i0 + i] = p;
                if (y >= 0 && y < k) j->conf[s][(size_t)y * k + p]++;
            }
        }
    }
    g_free(x);
    g_free(z);
    if (st == FN_OK) j->status = FN_OK;
}

static gpointer worker_main(gpointer data)
{
    FnvWorker *w = data;
    for (;;) {
        FnvJob *j = g_async_queue_pop(w->queue);
        if (j == &quit_job) break;
        if (g_atomic_int_get(&w->stopping) ||
            j->generation != g_atomic_int_get(&w->latest[j->kind])) {
            j->status = FNV_JOB_SKIPPED;
        } else if (j->kind == FNV_JOB_LOAD) {
            run_load(w, j);
        } else if (!w->cam[FNV_BASELINE] && !w->cam[FNV_FOCUSNET]) {
            j->status = FN_ERR_ARG;
            j->error = g_strdup("open a checkpoint first");
        } else if (ensure_device(w, j) == FN_OK) {
            if (j->kind == FNV_JOB_IMAGE)
                run_image(w, j);
            else
                run_dataset(w, j);
        }
        g_idle_add(deliver, j);
    }
    for (int s = 0; s < FNV_SLOTS; s++)
        unload(w, s);
    fn_dataset_free(w->data);
    fn_device_free(w->dev);
    return NULL;
}

FnvWorker *fnv_worker_new(const char *device)
{
    FnvWorker *w = g_new0(FnvWorker, 1);
    w->device_spec = g_strdup(device);
    w->queue = g_async_queue_new();
    w->thread = g_thread_new("focusnet-worker", worker_main, w);
    return w;
}

void fnv_worker_submit(FnvWorker *w, FnvJob *job)
{
    /* LOAD jobs never supersede each other: one per slot may be queued. */
    job->generation = job->kind == FNV_JOB_LOAD ? 0 : g_atomic_int_add(&w->next_generation, 1) + 1;
    if (job->kind != FNV_JOB_LOAD) g_atomic_int_set(&w->latest[job->kind], job->generation);
    g_async_queue_push(w->queue, job);
}

void fnv_worker_free(FnvWorker *w)
{
    if (!w) return;
    g_atomic_int_set(&w->stopping, 1);
    g_async_queue_push_front(w->queue, &quit_job);
    g_thread_join(w->thread);
    /* Jobs left in the queue never ran: hand them back as skipped, so their
     * owners drop what they hold. */
    FnvJob *j;
    while ((j = g_async_queue_try_pop(w->queue)) != NULL) {
        j->status = FNV_JOB_SKIPPED;
        g_idle_add(deliver, j);
    }
    g_async_queue_unref(w->queue);
    g_free(w->device_spec);
    g_free(w);
}
