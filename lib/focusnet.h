/* focusnet: train image classifiers with the FocusNet method on any OpenCL device.
 *
 * The one public header. Handles are opaque; results are plain structs.
 * Every function that can fail returns an fn_status; on failure the reason is
 * available, as one line, from fn_last_error() on the same thread.
 * The library never exits or aborts. */
#ifndef FOCUSNET_H
#define FOCUSNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOCUSNET_VERSION "0.1.0"

typedef enum {
    FN_OK = 0,
    FN_ERR_ARG,       /* a bad argument or option */
    FN_ERR_IO,        /* a file could not be read or written */
    FN_ERR_FORMAT,    /* a file is corrupt or not of the expected kind */
    FN_ERR_MISMATCH,  /* shapes, architectures or class counts disagree */
    FN_ERR_NOMEM,     /* host or device memory ran out */
    FN_ERR_CL,        /* an OpenCL call failed */
    FN_ERR_BUILD,     /* a kernel failed to compile; the message holds the log */
    FN_ERR_DEVICE,    /* no such OpenCL device */
    FN_ERR_NUMERIC,   /* a loss or gradient became NaN or infinite */
    FN_ERR_INTERRUPTED,
} fn_status;

/* The last error on this thread, one line (build logs follow on later lines). */
const char *fn_last_error(void);
const char *fn_status_name(fn_status s);

/* ---- Devices ------------------------------------------------------------ */

typedef struct fn_device fn_device;

typedef struct {
    int platform_index;
    int device_index; /* index within its platform */
    int global_index; /* index across all platforms: what --device N means */
    char platform_name[128];
    char name[128];
    char vendor[128];
    char version[128];        /* OpenCL version string of the device */
    char driver_version[128];
    int is_gpu;
    int is_cpu;
    uint32_t compute_units;
    uint64_t global_mem;
    uint64_t local_mem;
    size_t max_work_group;
    int is_default;
} fn_device_info;

/* Fills up to max entries of out; *count receives the number of devices found. */
fn_status fn_devices_list(fn_device_info *out, int max, int *count);

/* Opens a device. spec may be NULL (then FOCUSNET_DEVICE, then the default:
 * the first GPU, else the first CPU device), a global index ("1"), or a
 * case-insensitive substring of the device or platform name ("nvidia"). */
fn_status fn_device_open(const char *spec, fn_device **out);
void fn_device_free(fn_device *dev);
const fn_device_info *fn_device_get_info(const fn_device *dev);
/* fn_device_open with a profiling queue (profiling 1): what the fn_profile_*
 * and fn_span_* timers below need. */
fn_status fn_device_open_ex(const char *spec, int profiling, fn_device **out);
/* Waits until everything enqueued on the device has run. */
fn_status fn_finish(fn_device *dev);

/* Device time per kernel name. On a profiling queue, between fn_profile_start
 * and fn_profile_stop every kernel, buffer transfer and library call the
 * library enqueues is timed by its OpenCL event and summed by name. */
typedef struct {
    char name[64];
    double ms; /* device time summed over calls */
    long calls;
} fn_profile_entry;

fn_status fn_profile_start(fn_device *dev); /* clears the totals; needs a profiling queue */
fn_status fn_profile_stop(fn_device *dev);  /* waits for the queue and adds the last events up */
/* The totals, largest first; valid until the next start or the device is freed. */
int fn_profile_entries(fn_device *dev, const fn_profile_entry **out);

/* Times a stretch of device work: begin waits for the queue and starts the
 * host clock, end waits again. host_ms: the host clock between the two
 * waits. device_ms: the same span on the device's clock, from markers
 * enqueued at begin and end (profiling queues; -1 where the driver gives no
 * usable marker times, or a span longer than the host saw). */
typedef struct {
    double host_t0;
    void *marker; /* the begin marker's event, or NULL */
} fn_span;
fn_status fn_span_begin(fn_device *dev, fn_span *s);
fn_status fn_span_end(fn_device *dev, fn_span *s, double *host_ms, double *device_ms);

/* ---- Models -------------------------------------------------------------
 * Architectures: "lenet5", "resnet18", "resnet34", "mobilenetv2".
 * small_stem: ResNet with a 3x3 stride-1 first convolution and no max pool,
 * MobileNetV2 with its first convolution and first stride-2 block at stride 1
 * (both down-sample 8x instead of 32x). width: MobileNetV2's multiplier. */
typedef struct fn_model fn_model;

typedef struct {
    char arch[32];
    int small_stem;
    float width;
    int classes;
    int channels, height, width_px; /* input */
} fn_model_config;

/* Fills cfg for arch with the defaults for an input of c x h x w and k classes:
 * small_stem when h and w are at most 64, width 0.5 for MobileNetV2. */
fn_status fn_model_config_default(fn_model_config *cfg, const char *arch, int classes, int c,
                                  int h, int w);
/* Names of the architectures, NULL-terminated. */
const char *const *fn_model_arch_names(void);

/* Builds a model. dev NULL builds shapes only (counting parameters and FLOPs);
 * training 0 keeps nothing for backward and shares activation memory. */
fn_status fn_model_create(fn_device *dev, const fn_model_config *cfg, int max_batch, int training,
                          fn_model **out);
void fn_model_free(fn_model *m);
/* (Re)initializes the parameters as torchvision does, from a seeded
 * generator (fn_model_create uses seed 0; the trainer the run's seed). */
fn_status fn_model_init(fn_model *m, uint64_t seed);
const fn_model_config *fn_model_get_config(const fn_model *m);
int64_t fn_model_param_count(const fn_model *m);
/* Forward FLOPs per image, counted as 2 x multiply-adds of convolutions and linear layers. */
double fn_model_flops(const fn_model *m);
/* Evaluation-mode forward of n host images (n, C, H, W) into host logits (n, K). */
fn_status fn_model_predict(fn_model *m, const float *images, int n, float *logits);

/* ---- Layers one by one, for benchmarks ---------------------------------------
 * A model is a list of layers; these run one of them as the model's training
 * forward and backward do, on the model's own buffers, so a benchmark can
 * time each layer. */
typedef enum {
    FN_LAYER_CONV,
    FN_LAYER_BN,
    FN_LAYER_RELU,
    FN_LAYER_RELU6,
    FN_LAYER_MAXPOOL,
    FN_LAYER_GAP,
    FN_LAYER_LINEAR,
    FN_LAYER_ADD,
} fn_layer_type;

typedef struct {
    fn_layer_type type;
    const char *kind; /* "conv", "bn", "relu", "relu6", "maxpool", "gap", "linear", "add" */
    char name[96];    /* conv, bn, linear: torchvision's name of the layer ("layer1.0.conv1");
                         others: kind */
    int in_c, in_h, in_w, out_c, out_h, out_w; /* per-image shapes; flat (F) is F x 1 x 1 */
    int k, stride, pad, groups; /* conv (k x k filters) and max pooling (k x k window) */
    int bias;                   /* conv and linear: has a bias */
    int reads_input;            /* reads the model's input: backward computes no input gradient */
    double flops;               /* forward per image: 2 x multiply-adds (conv, linear), else 0 */
} fn_layer_info;

int fn_model_layer_count(const fn_model *m);
fn_status fn_model_layer_info(const fn_model *m, int i, fn_layer_info *out);
/* Layer i's training forward (batch statistics) on n images, from its input
 * activation to its output, alone: a batch norm that the whole forward fuses
 * with the activation after it runs without it here. Needs a training model. */
fn_status fn_model_layer_forward(fn_model *m, int i, int n);
/* Layer i's backward as the whole backward runs it: parameter gradients
 * accumulate, the input gradient of an activation read by one layer is
 * overwritten and that of one read by several is added to. Needs the
 * layer's forward to have run first (batch norm, pooling keep what it saved). */
fn_status fn_model_layer_backward(fn_model *m, int i, int n);

/* ---- Losses -------------------------------------------------------------- */
typedef enum { FN_LOSS_CE, FN_LOSS_LS, FN_LOSS_KD, FN_LOSS_FOCUS } fn_loss_kind;
typedef enum {
    FN_MULTIWARM_LOGIT,  /* paper Eq. 4: l'_n = [z^b_n > 0] */
    FN_MULTIWARM_SOFTMAX /* authors' code: l'_n = [softmax(z^b / T)_n > 1/K] */
} fn_multiwarm_rule;

typedef struct {
    fn_loss_kind kind;
    float smoothing;      /* LS epsilon (0.1): target = (1-eps)*onehot + eps/K */
    float kd_temperature; /* KD T (4) */
    float kd_weight; /* KD w (0.9): L = (1-w)*CE(z,y) + w*T^2*KL(softmax(z_t/T) || softmax(z/T)) */
    float alpha, beta;      /* focus: L = L_cls + alpha*R_att - beta*R_ent (1, 1) */
    int detach_d;           /* focus: d = softmax(z) - softmax(z_b) treated as a constant in the
                               gradient (0: the gradient flows through softmax(z) in d, as the
                               authors' code does). The loss value is the same either way. */
    fn_multiwarm_rule rule; /* FN_MULTIWARM_LOGIT */
    float rule_temperature; /* T of FN_MULTIWARM_SOFTMAX (2 in the authors' code) */
    float cls_smoothing;    /* label smoothing of the target inside L_cls: 0 paper, 0.1 authors */
} fn_loss_opts;

/* The paper's defaults for the given kind (values in the comments above). */
void fn_loss_opts_default(fn_loss_opts *o, fn_loss_kind kind);
/* The focus loss as the authors' code computes it: softmax rule with T = 2,
 * cls_smoothing 0.1, d not detached, alpha = beta = 1. */
void fn_loss_opts_authors(fn_loss_opts *o);
/* "ce", "ls", "kd", "focus" <-> kind. */
const char *fn_loss_kind_name(fn_loss_kind kind);
fn_status fn_loss_kind_parse(const char *name, fn_loss_kind *out);

/* ---- One training step --------------------------------------------------------
 * SGD with momentum, exactly torch.optim.SGD's rule (see lib/optim/sgd.h). */
typedef struct {
    float lr;
    float momentum;     /* 0: plain SGD, no buffer needed */
    float dampening;    /* torch's dampening (0) */
    float weight_decay; /* L2, added to the gradient: g = grad + wd * p */
    int nesterov;       /* needs momentum > 0 and dampening == 0, as in torch */
    float clip_norm;    /* > 0: before each update the loss gradients of all tensors
                           together are scaled to a global L2 norm of at most this,
                           exactly torch.nn.utils.clip_grad_norm_ (scale
                           clip / (norm + 1e-6) where below 1), then SGD adds the
                           weight decay; 0: no clip; -1 (the default): none for a
                           trainer, the stage's default in fn_train */
} fn_sgd_opts;

/* The paper's recipe: lr 0.1, momentum 0.9, weight decay 1e-4, no dampening,
 * no Nesterov. */
void fn_sgd_opts_default(fn_sgd_opts *o);

/* A trainer makes training steps of one model: it owns the optimizer (a
 * momentum buffer for every trainable tensor, the step count) and the
 * device buffers of a batch (labels, per-sample losses, running sums). One
 * step is: upload the batch, the frozen reference's forward (ref: the
 * baseline of the focus loss, the teacher of KD; NULL otherwise), forward
 * with batch statistics, the loss and its gradient, the running sums, zero
 * the gradients, backward, the hook (if any), one SGD update of every
 * trainable tensor. The trainer of lib/train and `focusnet bench train` both
 * run exactly this. m (built for training) and ref (built for evaluation,
 * same input and classes) stay the caller's and must outlive the trainer. */
typedef struct fn_trainer fn_trainer;

fn_status fn_trainer_create(fn_model *m, fn_model *ref, const fn_loss_opts *loss,
                            const fn_sgd_opts *sgd, fn_trainer **out);
void fn_trainer_free(fn_trainer *t);
/* One whole step on n host images (n, C, H, W), normalized, and labels (n). */
fn_status fn_trainer_step(fn_trainer *t, const float *images, const int32_t *labels, int n);
/* The step in two halves, for a data-parallel trainer that combines the
 * gradients of several ranks between them: fn_trainer_grads does everything
 * up to and including backward (the gradients are then in the model),
 * fn_trainer_apply the SGD update. fn_trainer_step is grads, the hook, apply. */
fn_status fn_trainer_grads(fn_trainer *t, const float *images, const int32_t *labels, int n);
fn_status fn_trainer_apply(fn_trainer *t);
/* Called by fn_trainer_step between backward and the update (NULL: none); a
 * failure stops the step before the update. A data-parallel trainer
 * reads the gradients, averages them over its ranks (an allreduce of
 * fn_trainer_grad_count floats) and writes them back here. */
typedef fn_status (*fn_trainer_hook)(fn_trainer *t, void *user);
void fn_trainer_set_hook(fn_trainer *t, fn_trainer_hook hook, void *user);
/* Every trainable tensor's gradient, one after another in parameter order. */
size_t fn_trainer_grad_count(const fn_trainer *t);
fn_status fn_trainer_grads_read(fn_trainer *t, float *host);
fn_status fn_trainer_grads_write(fn_trainer *t, const float *host);
/* The learning rate of the next updates (the schedule is the caller's). */
void fn_trainer_set_lr(fn_trainer *t, float lr);
float fn_trainer_lr(const fn_trainer *t);
/* Updates taken (momentum starts on the first); set when resuming. */
long fn_trainer_steps(const fn_trainer *t);
void fn_trainer_set_steps(fn_trainer *t, long steps);
/* The running sums since the last set, on the device, read back only when
 * asked: {sum of losses, correct top-1, non-finite losses, samples}. */
fn_status fn_trainer_stats_read(fn_trainer *t, float stats[4]);
fn_status fn_trainer_stats_set(fn_trainer *t, const float stats[4]);

/* ---- Checkpoints ------------------------------------------------------------
 * safetensors files with torchvision's tensor names and the model's
 * description in the metadata (see README "Checkpoints"). Writes are atomic. */
fn_status fn_checkpoint_save(const fn_model *m, const char *path);
/* Loads a checkpoint into a new model on dev. expect, when not NULL, is the
 * model the caller needs: a checkpoint of another architecture, class count
 * or input size is refused with a message naming both. */
fn_status fn_checkpoint_load(fn_device *dev, const char *path, const fn_model_config *expect,
                             int max_batch, int training, fn_model **out);
/* Reads an image file (PNG, JPEG, BMP), fits it to the model's input (resize,
 * centre crop, channels) with the model's normalization, and predicts. */
fn_status fn_model_predict_file(fn_model *m, const char *path, float *logits);
/* Class i's name ("3" when the checkpoint has none). */
const char *fn_model_class_name(const fn_model *m, int i);
void fn_model_normalization(const fn_model *m, float mean[3], float std[3]);
/* The dataset the model was trained on ("" if unknown). */
const char *fn_model_dataset(const fn_model *m);
/* The dataset spec the model was trained on, paths made absolute
 * ("folder:/data/imgs"); "" for checkpoints saved before it was kept. */
const char *fn_model_data_spec(const fn_model *m);
/* A checkpoint's class names read from its metadata alone (no device):
 * *names (*classes strings, free each and the array) is NULL when the
 * checkpoint has none. */
fn_status fn_checkpoint_class_names(const char *path, int *classes, char ***names);

/* ---- Evaluation ---------------------------------------------------------- */
typedef struct {
    int classes;
    int n;               /* images evaluated */
    double loss;         /* mean cross-entropy */
    double top1, top5;   /* fractions in [0, 1] */
    int64_t *confusion;  /* classes x classes; row: true class, column: predicted */
    double *class_acc;   /* per class */
} fn_eval_report;

/* Evaluates m on a dataset split (data: a dataset spec as for training;
 * limit: at most this many images, 0 for all). */
fn_status fn_evaluate(fn_model *m, const char *data, const char *split, int limit,
                      fn_eval_report *out);
void fn_eval_report_free(fn_eval_report *r);
/* The n largest off-diagonal confusion counts; returns how many were found. */
int fn_eval_confused_pairs(const fn_eval_report *r, int n, int *true_class, int *pred_class,
                           int64_t *count);

/* ---- Several processes: data parallelism ----------------------------------
 * A communicator among the ranks of one training job, implemented by the
 * caller (the CLI does it with MPI in cli/comm_mpi.c; the library holds no
 * MPI). Every call is collective: all ranks make the same calls in the same
 * order. The library never calls abort; it is there for the caller, which
 * ends the whole job with it when one rank fails inside a run (the others
 * would wait for it forever). */
typedef struct fn_comm fn_comm;
struct fn_comm {
    void *ctx; /* the implementation's */
    int (*rank)(const fn_comm *c);
    int (*size)(const fn_comm *c);
    /* In place: data (n) becomes the sum over the ranks. */
    fn_status (*allreduce_f32)(const fn_comm *c, float *data, size_t n);
    fn_status (*allreduce_i64)(const fn_comm *c, int64_t *data, size_t n);
    /* Batch-norm sums (--sync-bn), where float would lose the variance. */
    fn_status (*allreduce_f64)(const fn_comm *c, double *data, size_t n);
    /* bytes of data from rank root to every rank. */
    fn_status (*broadcast)(const fn_comm *c, void *data, size_t bytes, int root);
    fn_status (*barrier)(const fn_comm *c);
    void (*abort)(const fn_comm *c, int code);
    /* Optional (NULL: the gradients are summed after backward, blocking):
     * starts allreduce_f32's sum and returns at once with *req; data stays
     * the caller's until test says done. Sums started on every rank in the
     * same order, as every collective. */
    fn_status (*iallreduce_f32)(const fn_comm *c, float *data, size_t n, void **req);
    /* *done: whether req finished (then it is freed); wait: block until it
     * has. Calling it is also what moves the sums in flight along (Open MPI
     * progresses non-blocking collectives only inside MPI calls). */
    fn_status (*test)(const fn_comm *c, void *req, int wait, int *done);
};
/* The communicator of one process alone (rank 0 of 1): what NULL means. */
const fn_comm *fn_comm_self(void);

/* fn_train's data-parallel step for a trainer of one's own (focusnet bench
 * allreduce): t's model takes this rank's shard of the global batch.
 * bucket_bytes: the gradients travel in buckets of about this size (0: the
 * default, 4 MB). */
typedef struct fn_parallel fn_parallel;
fn_status fn_parallel_create(fn_trainer *t, const fn_comm *comm, size_t bucket_bytes,
                             fn_parallel **out);
void fn_parallel_free(fn_parallel *p);
int fn_parallel_buckets(const fn_parallel *p);
/* Forward and backward of this rank's rows of the global batch (n rows),
 * the gradients summed over the ranks in place of this rank's own; no
 * update (fn_trainer_apply). overlap: each bucket's sum started while
 * backward goes on, as fn_train does; 0: one blocking sum after backward. */
fn_status fn_parallel_grads(fn_parallel *p, const float *images, const int32_t *labels, int n,
                            int overlap);

/* ---- Training ------------------------------------------------------------ */
typedef struct {
    int epoch, epochs;     /* 1-based epoch */
    long step, steps;      /* step within the epoch, steps per epoch */
    double loss, acc;      /* running mean over this epoch so far */
    double images_per_s;
    double eta_s;          /* for the whole run */
    int at_chance;         /* the run's first epoch ended with training accuracy at
                              chance: within 5% of the way from always guessing the
                              commonest class to perfect (0.145 for 10 balanced
                              classes): the stage is stuck */
} fn_train_progress;

typedef void (*fn_train_progress_fn)(const fn_train_progress *p, void *user);

#define FN_MAX_MILESTONES 16

/* The learning rate over the epochs: step decay at milestones, or cosine. */
typedef struct {
    int milestones[FN_MAX_MILESTONES], n_milestones; /* epochs where lr *= gamma */
    float gamma;                                     /* 0.1 */
    int cosine;                                      /* cosine decay instead of steps */
    float warmup_epochs; /* linear lr warm-up over this many first epochs; -1: 1 for
                            the focus and kd stages, 0 (none) for ce and ls */
} fn_schedule_opts;

typedef struct {
    const char *arch;        /* "lenet5", ... */
    int small_stem;          /* -1: by input size */
    float width;             /* MobileNetV2 multiplier; 0: 0.5 */
    const char *data;        /* "fashion-mnist", "cifar10:DIR", "folder:DIR", ... */
    int limit_train, limit_test; /* at most this many images (0: all) */
    fn_loss_opts loss;
    const char *baseline;    /* focus: the frozen baseline; kd: the teacher */
    const char *init;        /* start from these weights */
    int epochs, batch;
    fn_sgd_opts sgd;        /* lr, momentum, weight decay, Nesterov (fn_sgd_opts_default) */
    fn_schedule_opts sched; /* the learning rate over the epochs */
    uint64_t seed;
    long max_steps;          /* stop after this many steps of this call (0: no limit) */
    long save_every;         /* also save the resume state every N steps (0: at epoch ends
                                and when stopped only) */
    int keep_epochs;         /* also keep the checkpoint of every E-th epoch in
                                out_dir/epochs/epoch-NNN.safetensors (0: none) */
    int augment;             /* -1: random crop + flip except for MNIST-like data */
    int shuffle;
    int sync_bn;             /* with several ranks: batch norm in training takes its
                                statistics over the global batch (see comm) */
    const char *out_dir;     /* run directory: last/best checkpoints and log.jsonl */
    const char *device;      /* NULL: FOCUSNET_DEVICE, else the default */
    fn_train_progress_fn progress;
    void *user;
    volatile int *stop;      /* set non-zero (e.g. from SIGINT) to stop after saving */
    int overwrite;           /* a fresh run may replace a run already in out_dir */
    /* Data parallelism (NULL: one process). With N ranks, batch is the global
     * batch: every rank loads the same global batches and trains on its
     * rows [r*B/N, (r+1)*B/N); the gradients are summed over the ranks so
     * that every rank applies the update one process would (batch norm uses
     * each rank's statistics, or with sync_bn those of the global batch, so
     * that the step is one process's on the global batch). Evaluation is sharded and reduced; rank 0
     * alone writes the run directory and calls progress. */
    const fn_comm *comm;
} fn_train_config;

typedef struct {
    fn_eval_report report;   /* evaluation after the last epoch */
    double best_top1;
    int best_epoch;
    int epochs_done;
    long steps_done;         /* steps of the whole run, resumed ones included */
    double seconds;
    int stopped;             /* by the stop flag or max_steps */
    int started;             /* every rank agreed and training began: a failure after this
                                leaves the other ranks waiting (see fn_comm.abort) */
} fn_train_result;

/* The paper's recipe: SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 128,
 * lr / 10 at 50% and 75% of the epochs (filled in by fn_train when
 * n_milestones is 0 and cosine is off), seed 1, shuffle on, augment -1,
 * warmup_epochs -1 (a one-epoch linear warm-up for focus and kd: at lr 0.1
 * these stages otherwise stay at chance for some seeds' batch orders),
 * sgd.clip_norm -1 (a gradient-norm clip of 1 for kd, whose T^2-scaled
 * gradients otherwise kill some runs after the warm-up; none for the
 * others). */
void fn_train_config_default(fn_train_config *c);
/* Trains one model (stage 1, or stage 2 with baseline set). r may be NULL;
 * otherwise free r->report with fn_eval_report_free.
 * The run directory gets last.safetensors and log.jsonl at every epoch end,
 * best.safetensors when test top-1 improves on every earlier completed
 * epoch, and state.safetensors (what fn_train_resume continues from) at
 * every epoch end, every save_every steps and when stopped. Files are
 * replaced atomically; a NaN or infinite loss or weight stops the run with
 * FN_ERR_NUMERIC before anything is saved, so the files keep the last good
 * state. */
fn_status fn_train(const fn_train_config *c, fn_train_result *r);

/* The training options (the table in lib/train/options.def): the fields of
 * fn_train_config a user sets, with their command-line names, help and
 * ranges. fn_train_config_default, the resume state and `focusnet train`'s
 * options all come from the table, in its order (which is also the order to
 * apply them in: --loss resets the loss's options, --authors needs --loss
 * focus). */
typedef struct {
    const char *name; /* command-line name without dashes ("epochs") */
    const char *arg;  /* the value's name in help ("N"); NULL for a flag */
    const char *help; /* one line, the default in parentheses */
    int resume_ok;    /* may go with a resume: where and how far to run, not what */
} fn_train_option;
/* Option i (from 0), NULL past the last. */
const fn_train_option *fn_train_option_at(int i);
/* The index of the option called name, or -1. */
int fn_train_option_find(const char *name);
/* Sets option i of c from its command-line text (a flag ignores value; a
 * string option keeps the pointer): FN_ERR_ARG with one line naming the
 * option when value is not of its kind or out of its range ("option '--lr'
 * needs a number from 0 to 1e+09, not 'x'"); c is then unchanged. */
fn_status fn_train_option_set(fn_train_config *c, int i, const char *value);
/* What fn_train checks of out_dir before anything else: a folder path that
 * runs through a file is FN_ERR_IO; a folder that already holds a run
 * (state.safetensors, log.jsonl, last or best checkpoint) is FN_ERR_ARG
 * unless overwrite. A run holds DIR/run.lock (flock) while it lives; a second
 * run or resume of the same folder fails with FN_ERR_IO naming the PID. */
fn_status fn_train_check_out_dir(const char *dir, int overwrite);
/* Continues the run in dir from dir/state.safetensors with the configuration
 * it was started with: weights, batch-norm statistics, momentum, the
 * learning-rate schedule, the data order and augmentation continue where the
 * state was saved, so the run ends bitwise as an uninterrupted one would on
 * the same device. From o (may be NULL) only device, epochs (0: as started),
 * max_steps, save_every (0: as started), progress, user, stop and comm are
 * used: a run may continue on another number of ranks (the state holds the
 * weights, momentum and the position in global batches). */
fn_status fn_train_resume(const char *dir, const fn_train_config *o, fn_train_result *r);

/* A run's history: the finished epochs of DIR/log.jsonl (lib/train/history.c),
 * records of a stop inside an epoch left out. */
typedef struct {
    int n;                          /* finished epochs logged */
    int *epoch;                     /* (n) 1-based */
    double *train_loss, *test_top1; /* (n) test top-1 in [0, 1]; NaN where a record lacks it */
} fn_run_history;
/* FN_ERR_IO when the log cannot be read, FN_ERR_FORMAT naming the file and
 * line of a line that is not an epoch record, or when no epoch finished yet;
 * h is then empty. Free with fn_run_history_free. */
fn_status fn_run_history_read(const char *dir, fn_run_history *h);
void fn_run_history_free(fn_run_history *h);


/* ---- Statistics over seeds (lib/train/stats.c) -------------------------- */
/* Mean and sample standard deviation (n - 1; NaN for n < 2) of n values. */
void fn_mean_sd(const double *x, int n, double *mean, double *sd);
/* The regularized incomplete beta function I_x(a, b); NaN outside its domain. */
double fn_beta_inc(double a, double b, double x);

typedef struct {
    int n, df;       /* pairs, degrees of freedom n - 1 */
    double mean, sd; /* of the differences b - a */
    double t;        /* mean / (sd / sqrt n) */
    double p;        /* two-sided p-value of Student's t with df degrees */
} fn_paired_result;

/* The paired t-test of b against a (n pairs, 2 to 1024, all finite): are the
 * differences b[i] - a[i] centred on 0? All differences equal: t = +-inf and
 * p = 0 (or t = 0 and p = 1 when they are all 0). */
fn_status fn_paired_test(const double *a, const double *b, int n, fn_paired_result *out);

/* ---- Class activation maps --------------------------------------------------
 * CAM (Zhou et al. 2016) for models that end in global average pooling and a
 * linear layer (ResNet, MobileNetV2): CAM_c = sum_k w_ck F_k over the last
 * feature maps F (F, h, w). Grad-CAM (Selvaraju et al. 2017) for any model,
 * LeNet-5 included: ReLU(sum_k a_k F_k), a_k the spatial mean of
 * d logit_c / d F_k. Both are upsampled bilinearly (half-pixel centres, as
 * OpenCV and PyTorch's align_corners=False) to the input's H x W, and left
 * unnormalized: CAM's spatial mean at feature resolution plus the
 * classifier's bias is the logit. */

/* 1 when plain CAM applies to m (global average pooling, then one linear layer). */
int fn_cam_available(const fn_model *m);
/* The map of class_index for one image (C, H, W), normalized as the model
 * expects (fn_model_load_image), into heatmap (H, W); logits (K) may be NULL.
 * Grad-CAM needs a model built for training (fn_checkpoint_load with training
 * 1): it runs the layers after the feature maps backward; parameters and their
 * gradients are left as they were. */
fn_status fn_cam_compute(fn_model *m, const float *image, int class_index, int grad_cam,
                         float *heatmap, float *logits);
/* The map of the class the model predicts for the image (the first largest
 * logit), stored in class_index: one forward pass where fn_model_predict and
 * then fn_cam_compute run two (the viewer's path). Otherwise as
 * fn_cam_compute. */
fn_status fn_cam_predicted(fn_model *m, const float *image, int grad_cam, float *heatmap,
                           float *logits, int *class_index);
/* The contrast "why class_a and not class_b" (Figure 1 of the paper asks it
 * of confusing pairs): plain CAM with the weights w_A - w_B, which is exactly
 * CAM_A - CAM_B and signed (negative where B's evidence wins); Grad-CAM of
 * z_A - z_B, ReLU'd as Grad-CAM is. Arguments as for fn_cam_compute. */
fn_status fn_cam_contrast(fn_model *m, const float *image, int class_a, int class_b, int grad_cam,
                          float *heatmap, float *logits);
/* Reads an image file (PNG, JPEG, BMP) as fn_model_predict_file does: input
 * (C, H, W) normalized for the model, pixels (C, H, W) in [0, 1], what the model
 * sees, for display. Either may be NULL. */
fn_status fn_model_load_image(const fn_model *m, const char *path, float *input, float *pixels);
/* The loss the checkpoint was trained with ("ce", "focus", ...; "" if unknown):
 * a viewer tells a FocusNet from its baseline by it. */
const char *fn_model_loss(const fn_model *m);
/* p (K) = softmax(z (K)), computed in double through the maximum (logits of
 * 1e4 stay finite); p may not alias z. */
void fn_softmax(const float *z, int k, float *p);
/* The multi-warm label a baseline's logits (K) give one image (paper Eq. 4-6):
 * 1 for the classes the rule picks (logit > 0, or softmax(z / temperature) > 1/K)
 * and for true_class (-1 when unknown), normalized to sum 1, into label (K).
 * Returns how many classes it holds; with none, label is all zero. */
int fn_multiwarm_label(const float *logits, int k, int true_class, fn_multiwarm_rule rule,
                       float temperature, float *label);
/* The baseline's confusion structure over a split (issue 17.2): counts (K, K),
 * counts[i * K + j] = how many images of true class i hold class j in their
 * multi-warm label (as fn_multiwarm_label gives it: the diagonal counts the
 * images of class i). logits (n, K) and labels (n) of the split; warm (n, K)
 * may be NULL, else 1 where image i's label holds class j, 0 elsewhere.
 * A label outside [0, K) is an error (FN_ERR_ARG), counts left unchanged. */
fn_status fn_multiwarm_counts(const float *logits, const int *labels, int n, int k,
                              fn_multiwarm_rule rule, float temperature, int64_t *counts,
                              uint8_t *warm);

typedef enum { FN_COLORMAP_VIRIDIS, FN_COLORMAP_JET, FN_COLORMAP_INFERNO } fn_colormap;
/* "viridis", "jet", "inferno" <-> colormap. */
const char *fn_colormap_name(fn_colormap cm);
fn_status fn_colormap_parse(const char *name, fn_colormap *out);
/* The colour at t in [0, 1] (clamped) as RGB bytes. */
void fn_colormap_rgb(fn_colormap cm, float t, uint8_t rgb[3]);
/* Widens [*lo, *hi] to hold the finite values of heatmap (n); start from
 * lo = INFINITY, hi = -INFINITY. Call it on two maps for one shared scale. */
void fn_heatmap_range(const float *heatmap, size_t n, float *lo, float *hi);
/* rgb (H, W, 3) bytes = (1 - opacity) * pixels + opacity * colormap((heatmap - lo) / (hi - lo));
 * pixels (C, H, W) in [0, 1], C 1 or 3; heatmap (H, W) or NULL for the image alone. */
void fn_cam_overlay(const float *pixels, int c, int h, int w, const float *heatmap, float lo,
                    float hi, fn_colormap cm, float opacity, uint8_t *rgb);

/* ---- Files -------------------------------------------------------------- */
/* Writes size bytes to path atomically (a temporary file in the same folder,
 * fsync, rename), as checkpoints are written: on any failure path keeps what
 * it held, and the message names path and the system's reason. */
fn_status fn_write_file_atomic(const char *path, const void *data, size_t size);
/* A copy of s (free it) in which every byte that is not part of valid UTF-8
 * is replaced by U+FFFD; NULL when memory runs out. Every string focusnet
 * writes into JSON (safetensors headers, metadata, predict --json) passes
 * through it, so the output is always valid JSON. */
char *fn_utf8_sanitize(const char *s);

/* ---- Datasets, read-only, for applications ----------------------------------
 * The same functions lib/data/data.h declares (see there for the specs:
 * "fashion-mnist", "mnist:DIR", "cifar10:DIR", "folder:DIR", ...). Images are
 * uint8 (C, H, W), labels in [0, classes). */
typedef struct fn_dataset fn_dataset;
/* channels, height, width: a required shape, 0 for any; folders are resized to it. */
fn_status fn_dataset_open_sized(const char *spec, const char *split, int limit, int channels,
                                int height, int width, fn_dataset **out);
int fn_dataset_count(const fn_dataset *d);
int fn_dataset_classes(const fn_dataset *d);
const char *fn_dataset_class_name(const fn_dataset *d, int i);
const uint8_t *fn_dataset_image(const fn_dataset *d, int i);
int fn_dataset_label(const fn_dataset *d, int i);
void fn_dataset_free(fn_dataset *d);

/* ---- Class names ----------------------------------------------------------
 * FN_ERR_MISMATCH, one line showing both lists, when two class lists differ
 * in count or in any name. A list of only the indices ("0", "1", ...: a
 * checkpoint saved without names, MNIST's digits) matches any list of its
 * length. what_*: how the message names each side (a path, a spec). */
fn_status fn_model_check_classes(const fn_model *m, const char *what_m, const fn_model *other,
                                 const char *what_other);
fn_status fn_model_check_dataset_classes(const fn_model *m, const char *what_m,
                                         const fn_dataset *d, const char *what_d);

#ifdef __cplusplus
}
#endif
#endif
