/* Training internals shared by train.c, evaluate.c and the tests. */
#ifndef FN_TRAIN_H
#define FN_TRAIN_H

#include <cJSON.h>

#include "../data/data.h"
#include "../io/safetensors.h"
#include "../nn/model.h"
#include "../optim/sgd.h"

/* The training step's state (step.c); public as an opaque fn_trainer. */
struct fn_trainer {
    fn_device *dev;
    fn_model *model, *ref; /* the caller's */
    fn_loss_opts loss;
    fn_sgd *opt;           /* tensor j: the model's j-th trainable parameter */
    int n;                 /* trainable parameters */
    int *param;            /* (n) their indices in the model */
    cl_mem *pdata, *pgrad; /* (n) their buffers, in that order */
    size_t n_grads;        /* floats in all of them */
    cl_mem labels, losses, stats;
    fn_trainer_hook hook;
    void *hook_user;
};

fn_status fn_eval_begin(fn_eval_report *r, int classes);
/* Adds n samples' logits (n, K) and labels to the report's sums. */
void fn_eval_add(fn_eval_report *r, const float *logits, const int32_t *labels, int n);
void fn_eval_end(fn_eval_report *r);
fn_status fn_evaluate_dataset(fn_model *m, const fn_dataset *d, fn_eval_report *out);
/* The same, sharded over the ranks of comm (NULL: one process): rank r
 * evaluates the batches b with b % N == r, and the sums are reduced, so every
 * rank gets the whole report. */
fn_status fn_evaluate_dataset_comm(fn_model *m, const fn_dataset *d, const fn_comm *comm,
                                   fn_eval_report *out);

/* stats (4 floats) += {sum of loss, correct top-1, non-finite losses, samples}
 * for one batch, on the device: the step loop reads it only every few steps. */
/* The fraction of d's images in its commonest class: the accuracy of a
 * model that learnt nothing but the prior. */
fn_status fn_train_commonest_class(const fn_dataset *d, double *frac);
/* Whether the stats (as fn_batch_stats sums them) show training accuracy at
 * chance: within 5% of the way from `chance` (the commonest class) to 1. */
int fn_train_at_chance(const float stats[4], double chance);
fn_status fn_batch_stats(fn_device *dev, cl_mem stats, cl_mem logits, cl_mem labels, cl_mem loss,
                         int n, int k);

/* ---- Checkpoint pieces (checkpoint.c), shared with the training state ---- */

/* Every parameter of m read back to the host, in parameter order; free with
 * fn_host_params_free. */
fn_status fn_checkpoint_read_params(const fn_model *m, float ***out);
void fn_host_params_free(const fn_model *m, float **host);
/* Writes a checkpoint of m from host copies of its parameters, with extra
 * tensors and metadata pairs after the usual ones (atomic, see fn_st_write). */
fn_status fn_checkpoint_write(const fn_model *m, float *const *host, const fn_st_tensor *extra,
                              int n_extra, const char *const *extra_keys,
                              const char *const *extra_vals, int n_extra_meta, const char *path);
/* fn_st_get_f32 that refuses a NaN or infinity (FN_ERR_FORMAT, naming path
 * and the tensor): no checkpoint or state with one is ever loaded. */
fn_status fn_checkpoint_get_finite(const fn_st_file *f, const char *path, const char *name,
                                   float *host, size_t n);
/* Checks that f holds every tensor of m with its shape and nothing else but
 * num_batches_tracked and names starting with `extra` (NULL: none). */
fn_status fn_checkpoint_check_tensors(const fn_model *m, const fn_st_file *f, const char *path,
                                      const char *extra);
/* Keeps spec in m (saved as focusnet.data), its path made absolute. */
void fn_model_set_data_spec(fn_model *m, const char *spec);
/* The model config a checkpoint's metadata describes, checked against
 * expect (NULL: anything); a mismatch names both. */
fn_status fn_checkpoint_file_config(const fn_st_file *f, const char *path,
                                    const fn_model_config *expect, fn_model_config *c);
/* fn_model_create for a config read from path: one it cannot build is
 * FN_ERR_FORMAT, naming path. */
fn_status fn_checkpoint_model(fn_device *dev, const fn_model_config *c, int max_batch, int training,
                              const char *path, fn_model **out);
/* Parses a checkpoint held in memory as fn_checkpoint_load would, without a
 * device: metadata, the model it describes (shapes only), every tensor's
 * presence, shape and conversion. The fuzzing entry point for checkpoints. */
fn_status fn_checkpoint_read_config_mem(const char *name, const void *data, size_t size,
                                        fn_model_config *cfg);

/* ---- Training state (state.c): what --resume continues from ----------------
 * DIR/state.safetensors is a checkpoint (every parameter, batch-norm running
 * statistics) plus "momentum.<param>" for every trainable tensor, "stats"
 * (the epoch's running sums) and metadata: the run's configuration, the
 * position (epoch, batch within it, steps, optimizer steps), the best epoch
 * so far and the history of completed epochs. */
typedef struct {
    fn_train_config c; /* strings point into `strings` */
    char *strings[8];
    int epoch;       /* 0-based epoch to continue */
    long step;       /* batches of that epoch already done */
    long steps_done; /* steps of the whole run */
    int sgd_steps;   /* optimizer updates (fn_sgd.steps) */
    double best_top1;
    int best_epoch;
    char *history; /* JSON array of completed epochs */
    float stats[4];
    uint64_t data_hash; /* of the training images and labels (fn_train_data_hash) */
    /* Fingerprints (fn_file_hash) of the --baseline and --init files;
     * has_*: 0 when the run had none or the state predates them. */
    uint64_t baseline_hash, init_hash;
    int has_baseline_hash, has_init_hash;
} fn_train_state;

/* Fingerprints of the --baseline and --init files (fingerprint.c); with
 * resume a missing --init is skipped. check: FN_ERR_MISMATCH naming the
 * option and file when one differs from what state s recorded; then hash/has
 * take what s knew. */
fn_status fn_train_fingerprint_files(const char *baseline, const char *init, int resume,
                                     uint64_t hash[2], int has[2]);
fn_status fn_train_check_fingerprints(const fn_train_state *s, const char *path,
                                      const char *baseline, const char *init, uint64_t hash[2],
                                      int has[2]);

/* A hash of a dataset's shape, images and labels: a resumed run must see the
 * data the run started with. */
uint64_t fn_train_data_hash(const fn_dataset *d);

void fn_train_state_free(fn_train_state *s);
/* The configuration as the state's focusnet.config, and read back from it
 * into s->c (strings into s->strings), both driven by options.def. */
char *fn_train_config_json(const fn_train_config *c);
fn_status fn_train_config_parse(const char *json, const char *path, fn_train_state *s);
/* h with every saved option of c (the rows of options.def with a key). */
uint64_t fn_train_options_hash(uint64_t h, const fn_train_config *c);
/* Writes path from host copies of m's parameters and momentum buffers
 * (mom[i] for trainable parameters, else NULL). */
fn_status fn_train_state_write(const fn_model *m, float *const *params, float *const *mom,
                               const fn_train_state *s, const char *path);
/* Reads a state's metadata (no tensors). */
fn_status fn_train_state_read(const fn_st_file *f, const char *path, fn_train_state *s);
/* Checks the state's tensors against m (built from the state's
 * configuration) and loads its parameters, and its momentum buffers into
 * opt (tensor j: the j-th trainable parameter of m). */
fn_status fn_train_state_load_tensors(fn_model *m, fn_sgd *opt, const fn_st_file *f,
                                      const char *path);
/* Parses a state file held in memory: metadata and configuration, and the
 * tensors against a shapes-only model. The fuzzing entry point for states. */
fn_status fn_train_state_read_mem(const char *name, const void *data, size_t size);

/* The forward half of fn_trainer_grads: forward, loss, statistics, and the
 * parameter gradients zeroed for backward. */
fn_status fn_trainer_forward(fn_trainer *t, const float *x, const int32_t *y, int n);

/* ---- Data parallelism (parallel.c) ------------------------------------------
 * Gradients travel in buckets (Horovod's tensor fusion): the trainable
 * tensors in the order backward finishes them (last layer first), cut into
 * runs of about bucket_bytes, staged in pinned host memory in that order.
 * A bucket's read is enqueued right after the layer that completes it, and
 * its sum started after the next layer's backward was enqueued, so it
 * travels while backward goes on. */
typedef struct {
    size_t first, count; /* floats of the staging buffer */
    int ready;           /* the layer whose backward completes it */
    cl_event read;       /* the last of its reads */
    void *req;           /* its sum in flight */
} fn_dp_bucket;

typedef struct {
    const fn_comm *comm;
    int rank, size;
    size_t n;       /* gradient floats */
    float *buf;     /* (n + 1): the gradients in bucket order, then the stop flag;
                       pinned (staging) or malloc'd (no device staging) */
    cl_mem pinned;  /* buf's buffer when pinned */
    fn_device *dev;
    size_t *offset; /* (tensors) where trainer tensor j lies in buf */
    fn_dp_bucket *buckets;
    int n_buckets;
    size_t bucket_bytes;
} fn_dp;

/* The default bucket: a few MB, so that LeNet-5 (0.3 MB) is one bucket
 * and ResNet-18 (45 MB) about a dozen; each sum then moves enough bytes to
 * run near the link's bandwidth, and the first starts early in backward. */
#define FN_DP_BUCKET_BYTES ((size_t)4 << 20)

/* A hash of what decides the training steps: every rank must agree on it. */
uint64_t fn_train_config_hash(const fn_train_config *c);
/* Collective, after setup: st is this rank's result. Returns an error on
 * every rank when any rank failed or the ranks' hashes differ. */
fn_status fn_dp_agree(const fn_comm *comm, fn_status st, uint64_t hash);
fn_status fn_dp_init(fn_dp *dp, const fn_comm *comm, fn_trainer *t, size_t bucket_bytes);
void fn_dp_free(fn_dp *dp);
/* This rank's rows [first, first + count) of a global batch of n. */
void fn_dp_shard(const fn_dp *dp, int n, int *first, int *count);
/* One step on the global batch (n rows): this rank's shard forward and
 * backward, the gradients summed over the ranks together with the stop
 * flags (*stop: whether any rank's *flag was set), the update. */
fn_status fn_dp_step(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y, int n,
                     volatile int *flag, int *stop);
/* fn_dp_step without the update; overlap 0: one blocking sum after the
 * whole backward (what fn_dp_step did before buckets: for benchmarks). */
fn_status fn_dp_grads(fn_dp *dp, fn_trainer *t, const float *x, const int32_t *y, int n,
                      int overlap, volatile int *flag, int *stop);
/* Sums the ranks' running sums in place. */
fn_status fn_dp_stats(const fn_dp *dp, float stats[4]);
/* Sums an evaluation report's counts (before fn_eval_end) over the ranks. */
fn_status fn_dp_eval_reduce(const fn_comm *comm, fn_eval_report *r);

#endif
