/* Networks as lists of layers over a table of activations.
 *
 * A model is built once for a largest batch (max_batch) and then run for any
 * n <= max_batch. Activations are (N, C, H, W) tensors named by index; each
 * layer reads one (two for add) and writes one. Parameters carry torchvision's
 * state_dict names so checkpoints load in PyTorch.
 *
 * Memory: a training model keeps every activation and its gradient; ReLUs run
 * in place. An evaluation-only model (training == 0) keeps nothing for
 * backward and shares activation buffers between layers whose lifetimes do
 * not overlap, so a frozen baseline costs a few activations, not all of them.
 *
 * This layer makes no OpenCL calls of its own beyond buffers: kernels run in
 * lib/ops. */
#ifndef FN_MODEL_H
#define FN_MODEL_H

#include "../focusnet.h"
#include "../ops/ops.h"

typedef enum {
    FN_L_CONV,
    FN_L_BN,
    FN_L_RELU,
    FN_L_RELU6,
    FN_L_MAXPOOL,
    FN_L_GAP,
    FN_L_LINEAR,
    FN_L_ADD,
} fn_layer_kind;

typedef struct {
    int c, h, w;   /* per-sample shape; a flat (N, F) tensor is (F, 1, 1) */
    int alias;     /* index of the activation whose buffers this one shares, or -1 */
    int consumers; /* layers that read it */
    int last_use;  /* index of the last layer that reads it */
    int keep;      /* must survive the forward (logits, CAM features) */
    cl_mem data;   /* (max_batch, C, H, W) */
    cl_mem grad;   /* same; training only */
} fn_act;

typedef struct {
    char name[96];
    int ndim;
    int shape[4];
    size_t numel;
    int trainable; /* 0 for batch-norm running statistics */
    cl_mem data, grad; /* grad: trainable tensors of training models only */
} fn_param;

typedef struct {
    fn_layer_kind kind;
    int in, in2, out;   /* activation indices; in2 only for add */
    fn_conv_shape conv; /* n is set per call */
    fn_pool_shape pool;
    int w, b; /* parameters: conv weight/bias, bn gamma/beta, linear weight/bias (-1: none) */
    int rmean, rvar;               /* batch-norm running statistics (parameter indices) */
    cl_mem save_mean, save_invstd; /* batch norm, training */
    cl_mem argmax;                 /* max pooling, training */
    cl_mem fold; /* batch norm: its evaluation affine for a fused convolution (fold.c), or NULL */
} fn_layer;

/* What a checkpoint says about a model besides its weights
 * (train/checkpoint.c reads and writes it, the trainer fills it in). */
typedef struct {
    char **class_names; /* classes entries, or NULL */
    float mean[3], std[3];
    char dataset[128];
    char data_spec[4200]; /* the dataset spec it was trained on, paths absolute; "" if unknown */
    char loss[32];
    char *history; /* JSON array of epoch records, or NULL */
} fn_model_meta;

struct fn_model {
    fn_device *dev;
    fn_model_config cfg;
    int max_batch;
    int training;
    fn_act *acts;
    int n_acts, cap_acts;
    fn_layer *layers;
    int n_layers, cap_layers;
    fn_param *params;
    int n_params, cap_params;
    int input, logits;
    int features;    /* last feature maps before global pooling (CAM), or -1 */
    int cam_linear;  /* the layer index of the classifier that follows them, or -1 */
    cl_mem tmp_grad; /* a gradient that must be added into a shared one lands here first */
    int64_t batches_tracked; /* batch norm's num_batches_tracked: training batches seen */
    int narrow;              /* ResNet's channels divided by this (fn_model_create_narrow) */
    int no_fold;             /* 1: evaluation runs conv, batch norm and ReLU unfused (fold.c) */
    fn_model_meta meta;
    /* --sync-bn (fn_model_sync_bn): batch norm in training takes its
     * statistics over the ranks of bn_comm; NULL: over this process's rows.
     * bn_rows: the rows of the step's global batch (all ranks), set by the
     * data-parallel step; bn_host: 3 x the widest batch norm's channels. */
    const fn_comm *bn_comm;
    int bn_rows;
    double *bn_host;
    cl_mem *bufs;  /* every device buffer the model owns */
    int n_bufs, cap_bufs;
};

/* ---- building (arch.c) --------------------------------------------------- */
int fn_model_add_act(fn_model *m, int c, int h, int w);
int fn_model_add_param(fn_model *m, const char *name, int ndim, const int *shape, int trainable);
/* Each returns the output activation, or -1 when host memory ran out. */
int fn_build_conv(fn_model *m, const char *name, int in, int oc, int k, int stride, int pad,
                  int groups, int bias);
int fn_build_bn(fn_model *m, const char *name, int in);
int fn_build_act(fn_model *m, fn_layer_kind kind, int in);
int fn_build_maxpool(fn_model *m, int in, int k, int stride, int pad);
int fn_build_gap(fn_model *m, int in);
int fn_build_linear(fn_model *m, const char *name, int in, int out);
int fn_build_add(fn_model *m, int a, int b);
fn_status fn_arch_build(fn_model *m);

/* ---- running (model.c) ------------------------------------------------------
 * Input: m->acts[m->input].data holds (n, C, H, W). Output: acts[logits].data (n, K).
 * train: batch statistics and what backward needs (training models only). */
fn_status fn_model_forward(fn_model *m, int n, int train);
/* Reads acts[logits].grad (n, K); parameter gradients ACCUMULATE. */
fn_status fn_model_backward(fn_model *m, int n);
fn_status fn_model_zero_grad(fn_model *m);
/* Batch norm synchronized over comm's ranks in training (NULL: off). */
fn_status fn_model_sync_bn(fn_model *m, const fn_comm *comm);
/* On a rank with no rows in this step: the allreduces the synchronized
 * batch norms of the others make, with nothing: layer -1 the forward's (in
 * layer order), else layer's backward (call from the last layer down). */
fn_status fn_model_sync_bn_idle(fn_model *m, int layer);
/* fn_model_backward in pieces: begin, then fn_model_layer_backward from the
 * last layer to the first (what a data-parallel step does to start summing
 * gradients while backward goes on). */
fn_status fn_model_backward_begin(fn_model *m, int n);
/* The layer whose backward produces parameter p's gradient, or -1. */
int fn_model_param_layer(const fn_model *m, int p);
/* Tests only: fn_model_create with every channel count of a ResNet divided
 * by div (1, 2, 4, 8 or 16; the stem's 64 becomes 64 / div), the same layer
 * kinds in the same order. A ResNet-18 a strict simulator (oclgrind) steps
 * in minutes (at div 1 its 11.2M parameters take it hours). Not in
 * focusnet.h and never in a checkpoint, which records no divisor; other
 * architectures refuse div > 1. */
fn_status fn_model_create_narrow(fn_device *dev, const fn_model_config *cfg, int max_batch,
                                 int training, int div, fn_model **out);
/* ---- evaluation-time fusion (fold.c) ----------------------------------------
 * From layer i, a convolution: when a batch norm and/or an in-place ReLU or
 * ReLU6 follow it, runs them as one fused convolution and sets *used to the
 * layers it covered; else *used = 0 and nothing ran. Evaluation only. */
fn_status fn_model_fused_forward(fn_model *m, int i, int n, int *used);
/* Fusion is on unless m->no_fold or FOCUSNET_FOLD=0. */
int fn_model_fold_enabled(const fn_model *m);
/* fn_model_init (focusnet.h) initializes parameters as torchvision does. */
int fn_model_find_param(const fn_model *m, const char *name);

#endif
