/* Writes tests/corpus/checkpoint/: seeds for fuzzing focusnet's reading of
 * checkpoints (ok-ckpt-*, bad-ckpt-*) and training states (ok-state-*,
 * bad-state-*). ok-* must parse; bad-* must fail with FN_ERR_FORMAT or
 * FN_ERR_MISMATCH (tests/test_corpus.c checks both). The valid seeds are a
 * LeNet-5 for 3 classes of 1x12x12 images, the smallest input it takes; the
 * bad ones are mostly metadata alone, small enough for the fuzzer to work on.
 * Not part of the build; regenerate with
 *   cc tests/corpus/gen_checkpoint_corpus.c -Ilib build/lib/libfocusnet.a \
 *      $(pkg-config --cflags --libs OpenCL clblast zlib stb libcjson) -lm -lpthread \
 *      -o /tmp/gen_ckpt && /tmp/gen_ckpt tests/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "train/train.h"

static char dir[1024];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/checkpoint/%s", dir, name);
}

static void check(fn_status st, const char *what)
{
    if (st != FN_OK) {
        fprintf(stderr, "%s: %s\n", what, fn_last_error());
        exit(1);
    }
}

/* A metadata-only file: keys[i] = vals[i]. */
static void meta_only(const char *name, const char *const *keys, const char *const *vals, int n)
{
    char p[1200];
    path_of(p, sizeof p, name);
    check(fn_st_write(p, NULL, 0, keys, vals, n), name);
}

/* The valid checkpoint's metadata with key `key` replaced by `val` (NULL: removed). */
static void ckpt_meta(const char *name, const char *key, const char *val)
{
    const char *keys[] = {
        "format",          "focusnet.version", "focusnet.arch",    "focusnet.small_stem",
        "focusnet.width",  "focusnet.classes", "focusnet.input",   "focusnet.class_names",
        "focusnet.mean",   "focusnet.std",     "focusnet.dataset", "focusnet.loss",
        "focusnet.history"};
    const char *vals[] = {"pt",
                          "1",
                          "lenet5",
                          "1",
                          "1",
                          "3",
                          "1x12x12",
                          "[\"a\",\"b\",\"c\"]",
                          "[0.5,0.5,0.5]",
                          "[0.25,0.25,0.25]",
                          "synthetic",
                          "ce",
                          "[]"};
    const char *k[16], *v[16];
    int n = 0;
    for (int i = 0; i < 13; i++) {
        if (strcmp(keys[i], key) == 0 && !val) continue;
        k[n] = keys[i];
        v[n++] = strcmp(keys[i], key) == 0 ? val : vals[i];
    }
    meta_only(name, k, v, n);
}

static const char *config =
    "{\"arch\":\"lenet5\",\"small_stem\":-1,\"width\":0,\"data\":\"mnist:/data\","
    "\"limit_train\":0,\"limit_test\":0,\"loss\":{\"kind\":\"ce\",\"smoothing\":0.1,"
    "\"kd_temperature\":4,\"kd_weight\":0.9,\"alpha\":1,\"beta\":1,\"detach_d\":0,"
    "\"multiwarm\":\"logit\",\"multiwarm_temperature\":2,\"cls_smoothing\":0},"
    "\"baseline\":null,\"init\":null,\"epochs\":3,\"batch\":32,\"lr\":0.05,\"momentum\":0.9,"
    "\"weight_decay\":0.0001,\"nesterov\":0,\"milestones\":[2],\"gamma\":0.1,\"cosine\":0,"
    "\"seed\":\"1\",\"augment\":-1,\"shuffle\":1,\"save_every\":0}";

/* A state's metadata alone, with key `key` replaced by `val`. */
static void state_meta(const char *name, const char *key, const char *val)
{
    const char *keys[] = {"focusnet.state",     "focusnet.config",     "focusnet.epoch",
                          "focusnet.step",      "focusnet.steps_done", "focusnet.sgd_steps",
                          "focusnet.best_top1", "focusnet.best_epoch", "focusnet.stats",
                          "focusnet.history",   "focusnet.data_hash"};
    const char *vals[] = {"1",
                          config,
                          "1",
                          "3",
                          "11",
                          "11",
                          "0.5",
                          "1",
                          "[1.5,3,0,8]",
                          "[{\"epoch\":1}]",
                          "0123456789abcdef"};
    const char *k[16], *v[16];
    int n = 0;
    for (int i = 0; i < 11; i++) {
        if (strcmp(keys[i], key) == 0 && !val) continue;
        k[n] = keys[i];
        v[n++] = strcmp(keys[i], key) == 0 ? val : vals[i];
    }
    meta_only(name, k, v, n);
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "tests/corpus");
    fn_model_config cfg;
    check(fn_model_config_default(&cfg, "lenet5", 3, 1, 12, 12), "config");
    fn_model *m;
    check(fn_model_create(NULL, &cfg, 1, 1, &m), "model");
    static const char *const names[3] = {"a", "b", "c"};
    m->meta.class_names = calloc(3, sizeof *m->meta.class_names);
    for (int i = 0; i < 3; i++)
        m->meta.class_names[i] = strdup(names[i]);
    for (int i = 0; i < 3; i++) {
        m->meta.mean[i] = 0.5f;
        m->meta.std[i] = 0.25f;
    }
    snprintf(m->meta.dataset, sizeof m->meta.dataset, "synthetic");
    snprintf(m->meta.loss, sizeof m->meta.loss, "ce");
    m->meta.history = strdup("[{\"epoch\":1,\"test_top1\":0.5}]");
    m->batches_tracked = 11;
    float **params = calloc((size_t)m->n_params, sizeof *params);
    float **mom = calloc((size_t)m->n_params, sizeof *mom);
    for (int i = 0; i < m->n_params; i++) {
        size_t n = m->params[i].numel;
        params[i] = malloc(n * sizeof(float));
        mom[i] = m->params[i].trainable ? malloc(n * sizeof(float)) : NULL;
        for (size_t j = 0; j < n; j++) {
            params[i][j] = (float)((j * 37 + (size_t)i) % 101) / 101.0f - 0.5f;
            if (mom[i]) mom[i][j] = (float)(j % 13) * 1e-3f;
        }
    }
    char p[1200];
    path_of(p, sizeof p, "ok-ckpt-lenet.safetensors");
    check(fn_checkpoint_write(m, params, NULL, 0, NULL, NULL, 0, p), p);
    fn_train_state s;
    memset(&s, 0, sizeof s);
    fn_train_config_default(&s.c);
    s.c.data = "mnist:/data";
    s.c.epochs = 3;
    s.c.batch = 32;
    s.c.sgd.lr = 0.05f;
    s.c.sched.milestones[0] = 2;
    s.c.sched.n_milestones = 1;
    s.epoch = 1;
    s.step = 3;
    s.steps_done = 11;
    s.sgd_steps = 11;
    s.best_top1 = 0.5;
    s.best_epoch = 1;
    s.stats[0] = 1.5f;
    s.stats[1] = 3;
    s.stats[3] = 8;
    path_of(p, sizeof p, "ok-state-lenet.safetensors");
    check(fn_train_state_write(m, params, mom, &s, p), p);

    /* Checkpoints: each breaks one thing in the metadata. */
    ckpt_meta("bad-ckpt-no-tensors.safetensors", "", NULL);
    ckpt_meta("bad-ckpt-no-arch.safetensors", "focusnet.arch", NULL);
    ckpt_meta("bad-ckpt-arch.safetensors", "focusnet.arch", "vgg16");
    ckpt_meta("bad-ckpt-classes.safetensors", "focusnet.classes", "-3");
    ckpt_meta("bad-ckpt-input.safetensors", "focusnet.input", "1x12");
    ckpt_meta("bad-ckpt-input-tiny.safetensors", "focusnet.input", "1x1x1");
    ckpt_meta("bad-ckpt-input-huge.safetensors", "focusnet.input", "4x4096x4096");
    ckpt_meta("bad-ckpt-width.safetensors", "focusnet.width", "nan");
    ckpt_meta("bad-ckpt-mean.safetensors", "focusnet.mean", "[0.5,0.5]");
    ckpt_meta("bad-ckpt-std.safetensors", "focusnet.std", "[1,-1,1]");
    ckpt_meta("bad-ckpt-names.safetensors", "focusnet.class_names", "[\"a\",{\"b\":1},");
    ckpt_meta("bad-ckpt-mobilenet.safetensors", "focusnet.arch", "mobilenetv2");
    ckpt_meta("bad-ckpt-resnet.safetensors", "focusnet.arch", "resnet18");

    /* States: the configuration and position are checked field by field. */
    state_meta("bad-state-no-tensors.safetensors", "", NULL);
    state_meta("bad-state-version.safetensors", "focusnet.state", "2");
    state_meta("bad-state-config.safetensors", "focusnet.config", "{\"arch\":\"lenet5\"}");
    state_meta("bad-state-config-json.safetensors", "focusnet.config", "{\"arch\":");
    state_meta("bad-state-epoch.safetensors", "focusnet.epoch", "-1");
    state_meta("bad-state-step.safetensors", "focusnet.step", "3x");
    state_meta("bad-state-best.safetensors", "focusnet.best_top1", "inf");
    state_meta("bad-state-stats.safetensors", "focusnet.stats", "[1,2,3]");
    state_meta("bad-state-history.safetensors", "focusnet.history", "{}");
    state_meta("bad-state-sgd.safetensors", "focusnet.sgd_steps", "99");
    state_meta("bad-state-hash.safetensors", "focusnet.data_hash", "12345");
    return 0;
}
