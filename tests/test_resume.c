/* Interrupted runs: a run stopped (max_steps, the stop flag) or cut off after
 * a periodic save and then resumed ends bit for bit where an uninterrupted
 * run with the same seed ends, with the same log; a diverging run stops with
 * a message naming the step and keeps the last good checkpoint; bad states
 * and run directories are refused with messages naming them. */
#include <cJSON.h>
#include <unistd.h>

#include "check.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "nn/model.h"
#include "train/train.h"
#include "tiny_mnist.h"
#include "tmpdir.h"

/* Every tensor of a and b, bit for bit (metadata, which holds timings, aside). */
static int same_tensors(const char *a, const char *b)
{
    fn_st_file *fa = NULL, *fb = NULL;
    if (fn_st_open(a, &fa) != FN_OK || fn_st_open(b, &fb) != FN_OK) {
        fprintf(stderr, "  %s\n", fn_last_error());
        fn_st_close(fa);
        return 0;
    }
    int ok = fn_st_count(fa) == fn_st_count(fb) && fn_st_count(fa) > 0;
    for (int i = 0; ok && i < fn_st_count(fa); i++) {
        const fn_st_tensor *t = fn_st_tensor_at(fa, i), *u = fn_st_find(fb, t->name);
        ok = u && u->nbytes == t->nbytes && memcmp(u->data, t->data, t->nbytes) == 0;
        if (!ok) fprintf(stderr, "  tensor %s differs between %s and %s\n", t->name, a, b);
    }
    fn_st_close(fa);
    fn_st_close(fb);
    return ok;
}

/* The log's lines, parsed. */
static cJSON *read_log(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    cJSON *all = cJSON_CreateArray();
    if (fn_file_read(path, 1 << 20, &data, &size) != FN_OK) return all;
    char *save = NULL;
    for (char *l = strtok_r((char *)data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        cJSON_AddItemToArray(all, cJSON_Parse(l));
    free(data);
    return all;
}

/* Two logs agree on every line in everything but the timings. */
static int same_logs(const char *a, const char *b)
{
    static const char *const fields[] = {"epoch",     "steps",     "lr",        "train_loss",
                                         "train_acc", "test_loss", "test_top1", "test_top5"};
    cJSON *la = read_log(a), *lb = read_log(b);
    int ok = cJSON_GetArraySize(la) == cJSON_GetArraySize(lb) && cJSON_GetArraySize(la) > 0;
    if (!ok)
        fprintf(stderr, "  %d log lines against %d\n", cJSON_GetArraySize(la),
                cJSON_GetArraySize(lb));
    for (int i = 0; ok && i < cJSON_GetArraySize(la); i++)
        for (size_t k = 0; ok && k < sizeof fields / sizeof *fields; k++) {
            cJSON *x = cJSON_GetObjectItem(cJSON_GetArrayItem(la, i), fields[k]);
            cJSON *y = cJSON_GetObjectItem(cJSON_GetArrayItem(lb, i), fields[k]);
            ok = cJSON_IsNumber(x) && cJSON_IsNumber(y) && x->valuedouble == y->valuedouble;
            if (!ok) fprintf(stderr, "  log line %d: %s differs\n", i + 1, fields[k]);
        }
    cJSON_Delete(la);
    cJSON_Delete(lb);
    return ok;
}

static int log_lines(const char *dir)
{
    cJSON *l = read_log(dir);
    int n = cJSON_GetArraySize(l);
    cJSON_Delete(l);
    return n;
}

static int copy_file(const char *from, const char *to)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (fn_file_read(from, 1 << 26, &data, &size) != FN_OK) return 0;
    int ok = write_bytes(to, data, size);
    free(data);
    return ok;
}

static int exists(const char *dir, const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Stops the run (through the stop flag) once progress reaches stop_at steps
 * in all; with backup_from set, first copies the state file then on disk to
 * backup_to, the moment a kill would have left behind. */
typedef struct {
    volatile int flag;
    long stop_at, seen;
    const char *backup_from, *backup_to;
    int backed_up;
} watcher;

static void on_progress(const fn_train_progress *p, void *user)
{
    watcher *w = user;
    long at = (long)(p->epoch - 1) * p->steps + p->step;
    if (w->backup_from && !w->backed_up && at >= w->stop_at)
        w->backed_up = copy_file(w->backup_from, w->backup_to);
    if (!w->backup_from && at >= w->stop_at) w->flag = 1;
    w->seen = at;
}

/* Line `line` of the log: number (or boolean as 0/1) `field`. */
static double log_number(const char *dir, int line, const char *field)
{
    cJSON *l = read_log(dir);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(l, line), field);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (cJSON_IsBool(v)) x = cJSON_IsTrue(v);
    cJSON_Delete(l);
    return x;
}

/* The gradient-norm clip (issue 16): kd's default is FN_KD_CLIP_NORM, the
 * other stages' none; recorded in the state, so a stopped clipped run
 * resumes bit for bit; states from before it run without one. */
static void clip_resume(const char *dir, const char *data)
{
    char base[700], runs[5][640], path[700], path2[700];
    fn_train_config c;
    fn_train_config_default(&c);
    c.data = data;
    c.epochs = 1;
    c.batch = 32;
    c.sgd.lr = 0.05f;
    snprintf(runs[0], sizeof runs[0], "%s/clip-base", dir);
    c.out_dir = runs[0];
    fn_train_result r;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    snprintf(base, sizeof base, "%s/last.safetensors", runs[0]);

    /* kd by default = kd with the explicit clip, not kd without; ce by
     * default = ce without. */
    const float clip[5] = {-1, FN_KD_CLIP_NORM, 0, -1, 0};
    for (int i = 0; i < 5; i++) {
        snprintf(runs[i], sizeof runs[i], "%s/clip-d%d", dir, i);
        c.out_dir = runs[i];
        c.sgd.clip_norm = clip[i];
        fn_loss_opts_default(&c.loss, i < 3 ? FN_LOSS_KD : FN_LOSS_CE);
        /* On these 240 images the gradients of a warmed-up kd stage stay
         * below the clip; its cross-entropy term alone without the warm-up
         * goes above it (as ce does). */
        if (i < 3) c.loss.kd_weight = 0;
        c.sched.warmup_epochs = 0;
        c.baseline = i < 3 ? base : NULL;
        CHECK_OK(fn_train(&c, &r));
        fn_eval_report_free(&r.report);
        snprintf(runs[i] + strlen(runs[i]), sizeof runs[i] - strlen(runs[i]), "/last.safetensors");
    }
    CHECK(same_tensors(runs[0], runs[1]), "kd by default: the clip of %g", FN_KD_CLIP_NORM);
    CHECK(!same_tensors(runs[0], runs[2]), "... which changes the weights");
    CHECK(same_tensors(runs[3], runs[4]), "ce by default: no clip");

    /* Stopped after 3 of 8 steps and resumed: the run without a stop, bit
     * for bit (state and log); the state says the clip. */
    fn_loss_opts_default(&c.loss, FN_LOSS_KD);
    c.loss.kd_weight = 0.5f;
    c.baseline = base;
    c.epochs = 2;
    c.sgd.clip_norm = 0.5f;
    char f[600], g[600];
    snprintf(f, sizeof f, "%s/clip-f", dir);
    snprintf(g, sizeof g, "%s/clip-g", dir);
    c.out_dir = f;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    c.out_dir = g;
    c.max_steps = 3;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    fn_train_config o;
    memset(&o, 0, sizeof o);
    CHECK_OK(fn_train_resume(g, &o, &r));
    fn_eval_report_free(&r.report);
    snprintf(path, sizeof path, "%s/state.safetensors", f);
    snprintf(path2, sizeof path2, "%s/state.safetensors", g);
    CHECK(same_tensors(path, path2), "stopped and resumed with a clip: the same state");
    CHECK(same_logs(f, g), "... and the same log");
    fn_st_file *sf = NULL;
    CHECK_OK(fn_st_open(path2, &sf));
    fn_train_state s;
    if (sf) {
        CHECK_OK(fn_train_state_read(sf, path2, &s));
        CHECK(s.c.sgd.clip_norm == 0.5f, "the state's clip %g", s.c.sgd.clip_norm);
        fn_train_state_free(&s);
    }
    fn_st_close(sf);

    /* A state written before the field existed: no clip. */
    const char *src = getenv("FOCUSNET_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/corpus/checkpoint/ok-state-lenet.safetensors",
             src ? src : ".");
    sf = NULL;
    CHECK_OK(fn_st_open(path, &sf));
    if (sf && fn_st_meta(sf, "focusnet.config")) {
        CHECK(!strstr(fn_st_meta(sf, "focusnet.config"), "clip"), "an old state (%s)", path);
        CHECK_OK(fn_train_state_read(sf, path, &s));
        CHECK(s.c.sgd.clip_norm == 0, "an old state runs without a clip (%g)", s.c.sgd.clip_norm);
        fn_train_state_free(&s);
    }
    fn_st_close(sf);
}

/* The learning-rate warm-up (issue 16): recorded in the state, so a stopped
 * warm-up run resumes bit for bit; states from before it run without one. */
static void warmup_resume(const char *dir, const char *data)
{
    char f[600], g[600], path[700], path2[700];
    snprintf(f, sizeof f, "%s/warm-f", dir);
    snprintf(g, sizeof g, "%s/warm-g", dir);
    fn_train_config c;
    fn_train_config_default(&c);
    c.data = data;
    c.epochs = 3;
    c.batch = 32;
    c.sgd.lr = 0.05f;
    c.sched.milestones[0] = 2;
    c.sched.n_milestones = 1;
    c.sched.warmup_epochs = 1.5f; /* 12 of the 24 steps: it ends inside epoch 2 */
    c.out_dir = f;
    fn_train_result r;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    /* Epoch 1's last step is step 7 of 12: lr 0.05 * 8 / 12. Epoch 2 ends
     * past the warm-up, at the full rate; epoch 3 has the milestone's. */
    CHECK(fabs(log_number(f, 0, "lr") - 0.05 * 8 / 12) < 1e-7, "warm-up lr after epoch 1: %g",
          log_number(f, 0, "lr"));
    CHECK(fabs(log_number(f, 1, "lr") - 0.05) < 1e-8 && fabs(log_number(f, 2, "lr") - 0.005) < 1e-8,
          "after the warm-up, the schedule: %g, %g", log_number(f, 1, "lr"),
          log_number(f, 2, "lr"));
    CHECK(log_number(f, 2, "at_chance") == 0, "a run that learnt is not at chance: %g %g %g",
          log_number(f, 0, "train_acc"), log_number(f, 1, "train_acc"),
          log_number(f, 2, "train_acc"));
    c.out_dir = g;
    c.max_steps = 5;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    fn_train_config o;
    memset(&o, 0, sizeof o);
    CHECK_OK(fn_train_resume(g, &o, &r));
    CHECK(r.steps_done == 24, "warm-up run resumed to the end (%ld steps)", r.steps_done);
    fn_eval_report_free(&r.report);
    snprintf(path, sizeof path, "%s/state.safetensors", f);
    snprintf(path2, sizeof path2, "%s/state.safetensors", g);
    CHECK(same_tensors(path, path2), "stopped in the warm-up and resumed: the same state");
    CHECK(same_logs(f, g), "... and the same log");

    /* The default (-1): one epoch of warm-up for focus and kd, none for ce.
     * Same weights as the explicit value, other weights than the other. */
    char base[700], runs[4][640];
    snprintf(base, sizeof base, "%s/last.safetensors", f);
    const float wu[4] = {-1, 1, 0, -1};
    for (int i = 0; i < 4; i++) {
        snprintf(runs[i], sizeof runs[i], "%s/warm-d%d", dir, i);
        c.out_dir = runs[i];
        c.epochs = 1;
        c.max_steps = 0;
        c.sched.warmup_epochs = wu[i];
        fn_loss_opts_default(&c.loss, i < 3 ? FN_LOSS_FOCUS : FN_LOSS_CE);
        c.baseline = i < 3 ? base : NULL;
        CHECK_OK(fn_train(&c, &r));
        fn_eval_report_free(&r.report);
        snprintf(runs[i] + strlen(runs[i]), sizeof runs[i] - strlen(runs[i]), "/last.safetensors");
    }
    CHECK(same_tensors(runs[0], runs[1]), "focus by default: a one-epoch warm-up");
    CHECK(!same_tensors(runs[0], runs[2]), "... which changes the weights");
    c.sched.warmup_epochs = 0; /* ce without warm-up, against the default ce run in runs[3] */
    {
        char again[700];
        snprintf(again, sizeof again, "%s/warm-d4", dir);
        c.out_dir = again;
        CHECK_OK(fn_train(&c, &r));
        fn_eval_report_free(&r.report);
        snprintf(again + strlen(again), sizeof again - strlen(again), "/last.safetensors");
        CHECK(same_tensors(runs[3], again), "ce by default: no warm-up");
    }
    c.epochs = 3;
    c.sched.warmup_epochs = 1.5f;

    /* A state written before the field existed: no warm-up. */
    const char *src = getenv("FOCUSNET_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/corpus/checkpoint/ok-state-lenet.safetensors",
             src ? src : ".");
    fn_st_file *sf = NULL;
    CHECK_OK(fn_st_open(path, &sf));
    fn_train_state s;
    if (sf && fn_st_meta(sf, "focusnet.config")) {
        CHECK(!strstr(fn_st_meta(sf, "focusnet.config"), "warmup"), "an old state (%s)", path);
        CHECK_OK(fn_train_state_read(sf, path, &s));
        CHECK(s.c.sched.warmup_epochs == 0, "an old state runs without warm-up (%g)",
              s.c.sched.warmup_epochs);
        fn_train_state_free(&s);
    }
    fn_st_close(sf);

    /* lr 0 learns nothing: the first epoch is flagged at chance in the log
     * and the progress. */
    snprintf(f, sizeof f, "%s/warm-h", dir);
    c.out_dir = f;
    c.max_steps = 0;
    c.epochs = 2;
    c.sgd.lr = 0;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    double acc = log_number(f, 0, "train_acc");
    /* The commonest of TINY_K balanced classes: 1 / TINY_K, and the line
     * 5% of the way from there to 1. */
    double line = 1.0 / TINY_K + 0.05 * (1 - 1.0 / TINY_K);
    CHECK((log_number(f, 0, "at_chance") == 1) == (acc < line),
          "at_chance says whether training accuracy %g is below %g", acc, line);
    CHECK(log_number(f, 0, "at_chance") == 1, "lr 0: at chance (training accuracy %g)", acc);
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "resume");
    tiny_write_split(dir, "train", 240, 1);
    tiny_write_split(dir, "t10k", 90, 2);
    char data[600], a[600], b[600], c_dir[600], d[600], e[600], path[700], path2[700];
    snprintf(data, sizeof data, "mnist:%s", dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c_dir, sizeof c_dir, "%s/c", dir);
    snprintf(d, sizeof d, "%s/d", dir);
    snprintf(e, sizeof e, "%s/e", dir);

    /* The reference: 3 epochs of 8 steps, uninterrupted. Augmentation is on
     * so that the resumed runs must also restore each sample's random crop
     * and flip; milestone 2 makes the learning rate change on the way. */
    fn_train_config c;
    fn_train_config_default(&c);
    c.data = data;
    c.epochs = 3;
    c.batch = 32;
    c.sgd.lr = 0.05f;
    c.augment = 1;
    c.seed = 5;
    c.sched.milestones[0] = 2;
    c.sched.n_milestones = 1;
    c.out_dir = a;
    fn_train_result r;
    CHECK_OK(fn_train(&c, &r));
    CHECK(r.epochs_done == 3 && r.steps_done == 24 && !r.stopped, "reference run: %d epochs",
          r.epochs_done);
    double ref_best = r.best_top1;
    int ref_best_epoch = r.best_epoch;
    fn_eval_report_free(&r.report);

    /* b: stopped by max_steps in epoch 1, resumed across the epoch boundary
     * into epoch 2, stopped again, resumed to the end. */
    c.out_dir = b;
    c.max_steps = 5;
    CHECK_OK(fn_train(&c, &r));
    CHECK(r.stopped && r.steps_done == 5 && r.epochs_done == 0, "stopped after 5 steps (%ld)",
          r.steps_done);
    fn_eval_report_free(&r.report);
    CHECK(log_lines(b) == 1, "a stop logs its partial epoch");
    fn_train_config o;
    memset(&o, 0, sizeof o);
    o.max_steps = 7;
    CHECK_OK(fn_train_resume(b, &o, &r));
    CHECK(r.stopped && r.steps_done == 12 && r.epochs_done == 1,
          "resumed for 7 steps: 12 in all (%ld), 1 epoch done (%d)", r.steps_done, r.epochs_done);
    fn_eval_report_free(&r.report);
    CHECK(log_lines(b) == 2, "epoch 1 and a partial epoch 2 in the log (%d)", log_lines(b));
    CHECK_OK(fn_train_resume(b, NULL, &r));
    CHECK(!r.stopped && r.steps_done == 24 && r.epochs_done == 3, "resumed to the end: %ld steps",
          r.steps_done);
    CHECK(r.best_top1 == ref_best && r.best_epoch == ref_best_epoch,
          "best epoch as uninterrupted: %d (%g) against %d (%g)", r.best_epoch, r.best_top1,
          ref_best_epoch, ref_best);
    fn_eval_report_free(&r.report);
    snprintf(path, sizeof path, "%s/last.safetensors", a);
    snprintf(path2, sizeof path2, "%s/last.safetensors", b);
    CHECK(same_tensors(path, path2), "stopped twice and resumed: the same weights, bit for bit");
    snprintf(path, sizeof path, "%s/state.safetensors", a);
    snprintf(path2, sizeof path2, "%s/state.safetensors", b);
    CHECK(same_tensors(path, path2), "... and the same momentum buffers");
    snprintf(path, sizeof path, "%s/best.safetensors", a);
    snprintf(path2, sizeof path2, "%s/best.safetensors", b);
    CHECK(same_tensors(path, path2), "... and the same best checkpoint");
    CHECK(same_logs(a, b), "... and the same log, without the partial lines");

    /* c: the stop flag at the end of epoch 1 (a stop on an epoch boundary). */
    watcher w = {0};
    w.stop_at = 8;
    c.out_dir = c_dir;
    c.max_steps = 0;
    c.stop = &w.flag;
    c.progress = on_progress;
    c.user = &w;
    CHECK_OK(fn_train(&c, &r));
    CHECK(r.stopped && r.steps_done == 8 && r.epochs_done == 1, "stop flag after epoch 1: %ld",
          r.steps_done);
    fn_eval_report_free(&r.report);
    CHECK_OK(fn_train_resume(c_dir, NULL, &r));
    CHECK(r.steps_done == 24 && !r.stopped, "resumed to the end");
    fn_eval_report_free(&r.report);
    snprintf(path, sizeof path, "%s/last.safetensors", a);
    snprintf(path2, sizeof path2, "%s/last.safetensors", c_dir);
    CHECK(same_tensors(path, path2), "stop flag and resume: the same weights");
    CHECK(same_logs(a, c_dir), "... and the same log");

    /* d: a periodic save every 3 steps, then "killed" after step 10: the
     * state of step 9 is put back over the files the run went on to write
     * (newer last.safetensors and log included), and the run resumes. */
    char backup[700];
    snprintf(backup, sizeof backup, "%s/state-at-9.safetensors", dir);
    snprintf(path, sizeof path, "%s/state.safetensors", d);
    watcher k = {0};
    k.stop_at = 10;
    k.backup_from = path;
    k.backup_to = backup;
    c.out_dir = d;
    c.stop = NULL;
    c.user = &k;
    c.save_every = 3;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    CHECK(k.backed_up, "the state saved at step 9 was seen");
    CHECK(copy_file(backup, path), "put the step-9 state back");
    snprintf(path2, sizeof path2, "%s/last.safetensors.tmp-999999999", d);
    CHECK(write_bytes(path2, "half a file", 11), "a temporary file a killed writer left");
    CHECK_OK(fn_train_resume(d, NULL, &r));
    CHECK(r.steps_done == 24, "resumed from step 9 to the end: %ld", r.steps_done);
    fn_eval_report_free(&r.report);
    CHECK(!exists(d, "last.safetensors.tmp-999999999"), "the stale temporary file is removed");
    snprintf(path, sizeof path, "%s/last.safetensors", a);
    snprintf(path2, sizeof path2, "%s/last.safetensors", d);
    CHECK(same_tensors(path, path2), "resumed from a periodic save: the same weights");
    CHECK(same_logs(a, d), "... and the same log");

    /* A finished run resumes to nothing; --epochs extends it. */
    memset(&o, 0, sizeof o);
    CHECK_OK(fn_train_resume(a, &o, &r));
    CHECK(r.steps_done == 24 && r.epochs_done == 3 && r.report.n == 90,
          "a finished run only reports (%ld steps)", r.steps_done);
    fn_eval_report_free(&r.report);
    CHECK(log_lines(a) == 3, "and its log is unchanged");
    o.epochs = 4;
    CHECK_OK(fn_train_resume(a, &o, &r));
    CHECK(r.steps_done == 32 && r.epochs_done == 4, "--epochs 4 adds an epoch (%ld steps)",
          r.steps_done);
    fn_eval_report_free(&r.report);
    CHECK(log_lines(a) == 4, "a fourth log line");

    /* Divergence: epoch 1 at lr 0.05, then the milestone multiplies it by
     * 1e7. The run stops in epoch 2 naming the step; epoch 1's checkpoint
     * stays, loads and is finite; nothing after it was written. */
    c.out_dir = e;
    c.save_every = 0;
    c.progress = NULL;
    c.user = NULL;
    c.sched.milestones[0] = 1;
    c.sched.gamma = 1e7f;
    fn_status st = fn_train(&c, &r);
    CHECK(st == FN_ERR_NUMERIC, "a diverging run fails with a numeric error: %s",
          fn_status_name(st));
    const char *msg = fn_last_error();
    CHECK(strstr(msg, "by step ") && strstr(msg, "epoch 2") && strstr(msg, "keeps epoch 1") &&
              !strchr(msg, '\n'),
          "the message names the step and the checkpoint kept: %s", msg);
    CHECK(r.epochs_done == 1, "one epoch completed before");
    fn_device *dev = test_device();
    fn_model *m = NULL;
    snprintf(path, sizeof path, "%s/last.safetensors", e);
    CHECK_OK(fn_checkpoint_load(dev, path, NULL, 4, 0, &m));
    if (m) {
        int ok = 1;
        for (int i = 0; i < m->n_params; i++) {
            fn_param *p = &m->params[i];
            float *v = malloc(p->numel * sizeof *v);
            CHECK_OK(fn_buffer_read(dev, p->data, 0, p->numel * sizeof *v, v));
            for (size_t j = 0; j < p->numel; j++)
                ok &= isfinite(v[j]) != 0;
            free(v);
        }
        CHECK(ok, "the kept checkpoint is finite");
        CHECK(m->meta.history && strstr(m->meta.history, "\"epoch\":1") &&
                  !strstr(m->meta.history, "\"epoch\":2"),
              "and holds epoch 1's history");
    }
    fn_model_free(m);
    fn_device_free(dev);
    CHECK(log_lines(e) == 1 && tmpdir_count(e, ".tmp-") == 0, "one log line, no temporary files");

    /* A fresh run into a used directory is refused (nothing touched) unless
     * told to overwrite; then it starts over: no old state or log. */
    c.sched.gamma = 0.1f;
    c.epochs = 1;
    c.max_steps = 2;
    c.out_dir = d;
    int old_lines = log_lines(d);
    st = fn_train(&c, &r);
    CHECK(st == FN_ERR_ARG && strstr(fn_last_error(), "--resume") &&
              strstr(fn_last_error(), "--overwrite") && log_lines(d) == old_lines,
          "a run in the folder is refused and kept: %s", fn_last_error());
    c.overwrite = 1;
    CHECK_OK(fn_train(&c, &r));
    c.overwrite = 0;
    fn_eval_report_free(&r.report);
    CHECK(log_lines(d) == 1, "the old log is gone (%d lines)", log_lines(d));
    c.max_steps = 0;
    c.epochs = 3;

    /* Refusals that name what is wrong. */
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    st = fn_train_resume(path, NULL, &r);
    CHECK(st == FN_ERR_IO && strstr(fn_last_error(), path) &&
              strstr(fn_last_error(), "state.safetensors"),
          "no state: %s", fn_last_error());
    snprintf(path, sizeof path, "%s/state.safetensors", b);
    {
        uint8_t *bytes = NULL;
        size_t size = 0;
        CHECK_OK(fn_file_read(path, 1 << 24, &bytes, &size));
        CHECK(write_bytes(path, bytes, size / 2), "cut the state in half");
        free(bytes);
    }
    st = fn_train_resume(b, NULL, &r);
    CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), path), "a truncated state: %s",
          fn_last_error());
    snprintf(path, sizeof path, "%s/state.safetensors", c_dir);
    snprintf(path2, sizeof path2, "%s/last.safetensors", c_dir);
    CHECK(copy_file(path2, path), "a checkpoint where the state should be");
    st = fn_train_resume(c_dir, NULL, &r);
    CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), "not a focusnet training state"),
          "a checkpoint is not a state: %s", fn_last_error());

    warmup_resume(dir, data);
    clip_resume(dir, data);

    /* The data changed under the run: refused, since the batches would differ. */
    tiny_write_split(dir, "train", 240, 9);
    st = fn_train_resume(a, NULL, &r);
    CHECK(st == FN_ERR_MISMATCH && strstr(fn_last_error(), "differs from the data the run"),
          "changed data: %s", fn_last_error());

    tmpdir_remove(dir);
    return check_summary("resume");
}
