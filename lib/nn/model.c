/* Running a model: memory planning, forward, backward, initialization
 * (what describes one without running it is in model_info.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

static size_t act_bytes(const fn_model *m, int i)
{
    const fn_act *a = &m->acts[i];
    return (size_t)m->max_batch * a->c * a->h * a->w * sizeof(float);
}

static int root(const fn_model *m, int i)
{
    while (m->acts[i].alias >= 0)
        i = m->acts[i].alias;
    return i;
}

/* Records readers and decides which ReLUs run in place: when the ReLU is the
 * only reader of its input, the output can share the input's buffers. */
static void plan_uses(fn_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        fn_layer *l = &m->layers[i];
        m->acts[l->in].consumers++;
        m->acts[l->in].last_use = i;
        if (l->in2 >= 0) {
            m->acts[l->in2].consumers++;
            m->acts[l->in2].last_use = i;
        }
    }
    for (int i = 0; i < m->n_layers; i++) {
        fn_layer *l = &m->layers[i];
        /* Evaluation models run batch norm in place too (fold.c needs it). */
        int bn = l->kind == FN_L_BN && !m->training;
        if ((bn || l->kind == FN_L_RELU || l->kind == FN_L_RELU6) &&
            m->acts[l->in].consumers == 1 && l->in != m->input)
            m->acts[l->out].alias = l->in;
    }
    m->acts[m->input].keep = 1;
    m->acts[m->logits].keep = 1;
    if (m->features >= 0) m->acts[root(m, m->features)].keep = 1;
}

typedef struct {
    cl_mem mem;
    size_t size;
    int busy;
} pool_buf;

/* Evaluation-only models: activation buffers are reused once their last
 * reader has run (best fit among the free ones). */
static fn_status alloc_shared(fn_model *m)
{
    int n = m->n_acts;
    int *end = calloc((size_t)n, sizeof *end);
    int *slot = malloc((size_t)n * sizeof *slot);
    pool_buf *pool = calloc((size_t)n, sizeof *pool);
    int n_pool = 0;
    fn_status st = FN_OK;
    if (!end || !slot || !pool) {
        st = fn_error(FN_ERR_NOMEM, "out of host memory planning activations");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        slot[i] = -1;
        end[i] = m->acts[i].keep ? m->n_layers : m->acts[i].last_use;
    }
    for (int i = 0; i < n; i++) { /* a buffer lives as long as any alias of it */
        int r = root(m, i);
        if (end[i] > end[r]) end[r] = end[i];
    }
    /* The input is written before layer 0. */
    {
        int r = m->input;
        pool[n_pool] = (pool_buf){NULL, act_bytes(m, r), 1};
        st = fn_buffer_new(m->dev, pool[n_pool].size, &pool[n_pool].mem);
        if (st) goto done;
        slot[r] = n_pool++;
    }
    for (int li = 0; li < m->n_layers; li++) {
        int o = m->layers[li].out;
        if (m->acts[o].alias < 0) {
            size_t need = act_bytes(m, o);
            int best = -1;
            for (int k = 0; k < n_pool; k++)
                if (!pool[k].busy && pool[k].size >= need &&
                    (best < 0 || pool[k].size < pool[best].size))
                    best = k;
            if (best < 0) {
                pool[n_pool] = (pool_buf){NULL, need, 0};
                st = fn_buffer_new(m->dev, need, &pool[n_pool].mem);
                if (st) goto done;
                best = n_pool++;
            }
            pool[best].busy = 1;
            slot[o] = best;
        }
        /* Release buffers whose last reader was this layer. */
        for (int i = 0; i < n; i++)
            if (m->acts[i].alias < 0 && slot[i] >= 0 && end[i] == li) pool[slot[i]].busy = 0;
    }
    for (int i = 0; i < n; i++) {
        int r = root(m, i);
        m->acts[i].data = slot[r] >= 0 ? pool[slot[r]].mem : NULL;
    }
    /* Ownership: keep the pool's buffers in the model's list. */
    m->n_bufs = n_pool;
    m->cap_bufs = n_pool ? n_pool : 1;
    m->bufs = malloc((size_t)m->cap_bufs * sizeof *m->bufs);
    if (!m->bufs) {
        st = fn_error(FN_ERR_NOMEM, "out of host memory");
        goto done;
    }
    for (int k = 0; k < n_pool; k++) {
        m->bufs[k] = pool[k].mem;
        pool[k].mem = NULL;
    }
done:
    if (pool)
        for (int k = 0; k < n_pool; k++)
            fn_buffer_free(pool[k].mem);
    free(pool);
    free(slot);
    free(end);
    return st;
}

static fn_status own(fn_model *m, size_t bytes, cl_mem *out)
{
    if (m->n_bufs >= m->cap_bufs) {
        int cap = m->cap_bufs ? m->cap_bufs * 2 : 64;
        cl_mem *nb = realloc(m->bufs, (size_t)cap * sizeof *nb);
        if (!nb) return fn_error(FN_ERR_NOMEM, "out of host memory");
        m->bufs = nb;
        m->cap_bufs = cap;
    }
    FN_TRY(fn_buffer_new(m->dev, bytes, out));
    m->bufs[m->n_bufs++] = *out;
    return FN_OK;
}

static fn_status alloc_training(fn_model *m)
{
    size_t largest = 0;
    for (int i = 0; i < m->n_acts; i++) {
        if (m->acts[i].alias >= 0) continue;
        size_t b = act_bytes(m, i);
        if (b > largest) largest = b;
        FN_TRY(own(m, b, &m->acts[i].data));
        if (i != m->input) FN_TRY(own(m, b, &m->acts[i].grad));
    }
    for (int i = 0; i < m->n_acts; i++) {
        int r = root(m, i);
        m->acts[i].data = m->acts[r].data;
        m->acts[i].grad = m->acts[r].grad;
    }
    FN_TRY(own(m, largest, &m->tmp_grad));
    for (int i = 0; i < m->n_layers; i++) {
        fn_layer *l = &m->layers[i];
        const fn_act *o = &m->acts[l->out];
        if (l->kind == FN_L_BN) {
            FN_TRY(own(m, (size_t)o->c * sizeof(float), &l->save_mean));
            FN_TRY(own(m, (size_t)o->c * sizeof(float), &l->save_invstd));
        } else if (l->kind == FN_L_MAXPOOL) {
            FN_TRY(own(m, (size_t)m->max_batch * o->c * o->h * o->w * sizeof(int32_t), &l->argmax));
        }
    }
    return FN_OK;
}

fn_status fn_model_create(fn_device *dev, const fn_model_config *cfg, int max_batch, int training,
                          fn_model **out)
{
    return fn_model_create_narrow(dev, cfg, max_batch, training, 1, out);
}

fn_status fn_model_create_narrow(fn_device *dev, const fn_model_config *cfg, int max_batch,
                                 int training, int div, fn_model **out)
{
    *out = NULL;
    if (div != 1 &&
        (strncmp(cfg->arch, "resnet", 6) != 0 || div < 1 || div > 16 || (div & (div - 1)) != 0))
        return fn_error(FN_ERR_ARG, "a narrow model is a ResNet divided by 2, 4, 8 or 16");
    if (max_batch < 1)
        return fn_error(FN_ERR_ARG, "batch size must be at least 1, not %d", max_batch);
    if (cfg->classes < 1 || cfg->channels < 1 || cfg->height < 1 || cfg->width_px < 1)
        return fn_error(FN_ERR_ARG, "model %s needs at least one class and a non-empty input",
                        cfg->arch);
    fn_model *m = calloc(1, sizeof *m);
    if (!m) return fn_error(FN_ERR_NOMEM, "out of host memory");
    m->dev = dev;
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->training = training;
    m->narrow = div;
    for (int i = 0; i < 3; i++) {
        m->meta.mean[i] = 0.0f;
        m->meta.std[i] = 1.0f;
    }
    fn_status st = fn_arch_build(m);
    if (st == FN_OK && dev) {
        plan_uses(m);
        st = training ? alloc_training(m) : alloc_shared(m);
        for (int i = 0; st == FN_OK && i < m->n_params; i++) {
            fn_param *p = &m->params[i];
            size_t b = p->numel * sizeof(float);
            st = own(m, b, &p->data);
            if (st == FN_OK && training && p->trainable) st = own(m, b, &p->grad);
        }
        if (st == FN_OK) st = fn_model_init(m, 0);
    }
    if (st != FN_OK) {
        fn_model_free(m);
        return st;
    }
    *out = m;
    return FN_OK;
}

void fn_model_free(fn_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_bufs; i++)
        fn_buffer_free(m->bufs[i]);
    for (int i = 0; i < m->n_layers; i++)
        fn_buffer_free(m->layers[i].fold);
    free(m->bufs);
    if (m->meta.class_names)
        for (int i = 0; i < m->cfg.classes; i++)
            free(m->meta.class_names[i]);
    free(m->meta.class_names);
    free(m->meta.history);
    free(m->bn_host);
    free(m->acts);
    free(m->layers);
    free(m->params);
    free(m);
}

/* ---- initialization, as torchvision does ---- */
fn_status fn_model_init(fn_model *m, uint64_t seed)
{
    fn_rng r;
    fn_rng_seed(&r, seed);
    int lenet = strcmp(m->cfg.arch, "lenet5") == 0;
    int mobilenet = strcmp(m->cfg.arch, "mobilenetv2") == 0;
    size_t cap = 0;
    float *buf = NULL;
    fn_status st = FN_OK;
    for (int li = 0; li < m->n_layers && st == FN_OK; li++) {
        fn_layer *l = &m->layers[li];
        int idx[4] = {l->w, l->b, l->rmean, l->rvar};
        for (int j = 0; j < 4 && st == FN_OK; j++) {
            if (idx[j] < 0) continue;
            fn_param *p = &m->params[idx[j]];
            if (p->numel > cap) {
                float *nb = realloc(buf, p->numel * sizeof *nb);
                if (!nb) {
                    st = fn_error(FN_ERR_NOMEM, "out of host memory");
                    break;
                }
                buf = nb;
                cap = p->numel;
            }
            double fan_in = p->ndim > 1 ? (double)p->numel / p->shape[0] : 0;
            if (p->ndim == 1 && l->w >= 0)
                fan_in = (double)m->params[l->w].numel / m->params[l->w].shape[0];
            for (size_t i = 0; i < p->numel; i++) {
                float v = 0;
                if (l->kind == FN_L_BN) {
                    v = (j == 0 || j == 3) ? 1.0f : 0.0f; /* weight 1, running_var 1 */
                } else if (l->kind == FN_L_CONV && !lenet) {
                    /* kaiming_normal_(mode="fan_out", nonlinearity="relu"); bias 0 */
                    double fan_out = (double)p->numel / p->shape[1];
                    v = j == 0 ? (float)(sqrt(2.0 / fan_out) * fn_rng_normal(&r)) : 0.0f;
                } else if (l->kind == FN_L_LINEAR && mobilenet) {
                    v = j == 0 ? 0.01f * fn_rng_normal(&r) : 0.0f; /* normal(0, 0.01), bias 0 */
                } else {
                    /* PyTorch's default for Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                     * for both weight (kaiming_uniform with a = sqrt(5)) and bias. */
                    double bound = 1.0 / sqrt(fan_in);
                    v = (float)((2.0 * fn_rng_uniform(&r) - 1.0) * bound);
                }
                buf[i] = v;
            }
            if (m->dev) st = fn_buffer_write(m->dev, p->data, 0, p->numel * sizeof(float), buf);
        }
    }
    free(buf);
    return st;
}

fn_status fn_model_zero_grad(fn_model *m)
{
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].grad)
            FN_TRY(fn_buffer_fill(m->dev, m->params[i].grad, 0, m->params[i].numel * sizeof(float),
                                  0.0f));
    return FN_OK;
}

static cl_mem pdata(fn_model *m, int i)
{
    return i >= 0 ? m->params[i].data : NULL;
}

static cl_mem pgrad(fn_model *m, int i)
{
    return i >= 0 ? m->params[i].grad : NULL;
}

/* The activation a batch norm can apply itself (1 ReLU, 2 ReLU6, 0 none):
 * when the next layer is that activation working in place on the batch
 * norm's output, writing the activated values once saves a pass. The
 * activation's backward still runs as its own layer: it reads only the
 * activated output, which is the same either way. */
static int fused_act(const fn_model *m, int i)
{
    if (i + 1 >= m->n_layers) return 0;
    const fn_layer *l = &m->layers[i], *a = &m->layers[i + 1];
    if ((a->kind != FN_L_RELU && a->kind != FN_L_RELU6) || a->in != l->out ||
        m->acts[a->out].alias != l->out)
        return 0;
    return a->kind == FN_L_RELU ? 1 : 2;
}

/* The one switch over layer kinds for the forward. act: the activation a
 * batch norm applies itself (fused_act), 0 for none. */
static fn_status layer_forward(fn_model *m, int i, int n, int train, int act)
{
    fn_device *dev = m->dev;
    fn_layer *l = &m->layers[i];
    fn_act *in = &m->acts[l->in], *out = &m->acts[l->out];
    int numel = n * out->c * out->h * out->w;
    switch (l->kind) {
    case FN_L_CONV: {
        fn_conv_shape s = l->conv;
        s.n = n;
        return fn_conv_forward(dev, out->data, in->data, pdata(m, l->w), pdata(m, l->b), &s);
    }
    case FN_L_BN:
        if (train && m->bn_comm)
            return fn_batchnorm_forward_train_sync(
                dev, out->data, l->save_mean, l->save_invstd, in->data, pdata(m, l->w),
                pdata(m, l->b), pdata(m, l->rmean), pdata(m, l->rvar), n, out->c, out->h * out->w,
                BN_MOMENTUM, BN_EPS, act, m->bn_comm, m->bn_rows * out->h * out->w, m->bn_host);
        if (train)
            return fn_batchnorm_forward_train_ex(dev, out->data, l->save_mean, l->save_invstd,
                                                 in->data, pdata(m, l->w), pdata(m, l->b),
                                                 pdata(m, l->rmean), pdata(m, l->rvar), n, out->c,
                                                 out->h * out->w, BN_MOMENTUM, BN_EPS, act);
        return fn_batchnorm_forward_eval_ex(dev, out->data, in->data, pdata(m, l->w),
                                            pdata(m, l->b), pdata(m, l->rmean), pdata(m, l->rvar),
                                            n, out->c, out->h * out->w, BN_EPS, act);
    case FN_L_RELU:
        return fn_relu_forward(dev, out->data, in->data, numel);
    case FN_L_RELU6:
        return fn_relu6_forward(dev, out->data, in->data, numel);
    case FN_L_MAXPOOL: {
        fn_pool_shape s = l->pool;
        s.n = n;
        return fn_maxpool_forward(dev, out->data, train ? l->argmax : NULL, in->data, &s);
    }
    case FN_L_GAP:
        return fn_gap_forward(dev, out->data, in->data, n, in->c, in->h * in->w);
    case FN_L_LINEAR:
        return fn_linear_forward(dev, out->data, in->data, pdata(m, l->w), pdata(m, l->b), n,
                                 in->c * in->h * in->w, out->c);
    case FN_L_ADD:
        return fn_add(dev, out->data, in->data, m->acts[l->in2].data, numel);
    }
    return FN_OK;
}

static fn_status check_batch(const fn_model *m, int n, int train)
{
    if (n < 1 || n > m->max_batch)
        return fn_error(FN_ERR_ARG, "batch of %d does not fit this model (1..%d)", n, m->max_batch);
    if (train && !m->training)
        return fn_error(FN_ERR_ARG, "this model was built for evaluation only");
    if (!m->dev) return fn_error(FN_ERR_ARG, "this model was built without a device");
    return FN_OK;
}

fn_status fn_model_forward(fn_model *m, int n, int train)
{
    FN_TRY(check_batch(m, n, train));
    int fold = !train && fn_model_fold_enabled(m);
    for (int i = 0; i < m->n_layers; i++) {
        int used = 0;
        if (fold) FN_TRY(fn_model_fused_forward(m, i, n, &used));
        if (used) {
            i += used - 1;
            continue;
        }
        int act = m->layers[i].kind == FN_L_BN ? fused_act(m, i) : 0;
        FN_TRY(layer_forward(m, i, n, train, act));
        if (act) i++; /* the activation ran inside batch norm */
    }
    return FN_OK;
}

/* Where the gradient for activation i goes: straight into its buffer when it
 * has one reader, else into tmp_grad, to be added by finish_dx. */
static cl_mem dx_target(fn_model *m, int i)
{
    if (i == m->input) return NULL;
    return m->acts[i].consumers > 1 ? m->tmp_grad : m->acts[i].grad;
}

static fn_status finish_dx(fn_model *m, int i, int n)
{
    if (i == m->input || m->acts[i].consumers <= 1) return FN_OK;
    const fn_act *a = &m->acts[i];
    /* grad += tmp_grad as a sum (fn_add, y aliasing a: the same bits as
     * axpy with alpha 1), which runs over runs of floats on CPUs, where
     * fn_axpy takes one float per work-item (2% of a ResNet-18 step). */
    return fn_add(m->dev, a->grad, a->grad, m->tmp_grad, n * a->c * a->h * a->w);
}

/* The activation whose backward training folds into that of batch norm
 * layer i (fused_act; 0 for none): batch norm masks the gradient itself,
 * recomputing where the activation was flat from its input, so the
 * activation's own pass over the gradient goes. Not under --sync-bn, nor
 * with FOCUSNET_BN_FUSE=0. */
static int fused_backward_act(const fn_model *m, int i)
{
    if (i < 0 || m->layers[i].kind != FN_L_BN || m->bn_comm || !m->dev->bn_fuse) return 0;
    return fused_act(m, i);
}

/* The one switch over layer kinds for the backward. act: for a batch norm,
 * the activation after it whose backward it runs too (fused_backward_act). */
static fn_status layer_backward(fn_model *m, int i, int n, int act)
{
    fn_device *dev = m->dev;
    fn_layer *l = &m->layers[i];
    fn_act *in = &m->acts[l->in], *out = &m->acts[l->out];
    int numel = n * out->c * out->h * out->w;
    cl_mem dx = dx_target(m, l->in);
    switch (l->kind) {
    case FN_L_CONV: {
        fn_conv_shape s = l->conv;
        s.n = n;
        FN_TRY(fn_conv_backward(dev, dx, pgrad(m, l->w), pgrad(m, l->b), out->grad, in->data,
                                pdata(m, l->w), &s));
        break;
    }
    case FN_L_BN:
        if (m->bn_comm) {
            FN_TRY(fn_batchnorm_backward_sync(
                dev, dx, pgrad(m, l->w), pgrad(m, l->b), out->grad, in->data, l->save_mean,
                l->save_invstd, pdata(m, l->w), n, out->c, out->h * out->w, m->bn_comm,
                m->bn_rows * out->h * out->w, m->bn_host));
            break;
        }
        FN_TRY(fn_batchnorm_backward_ex(dev, dx, pgrad(m, l->w), pgrad(m, l->b), out->grad,
                                        in->data, l->save_mean, l->save_invstd, pdata(m, l->w),
                                        pdata(m, l->b), n, out->c, out->h * out->w, act));
        break;
    case FN_L_RELU:
        if (dx) FN_TRY(fn_relu_backward(dev, dx, out->grad, out->data, numel));
        break;
    case FN_L_RELU6:
        if (dx) FN_TRY(fn_relu6_backward(dev, dx, out->grad, out->data, numel));
        break;
    case FN_L_MAXPOOL: {
        fn_pool_shape s = l->pool;
        s.n = n;
        if (dx) FN_TRY(fn_maxpool_backward(dev, dx, out->grad, l->argmax, &s));
        break;
    }
    case FN_L_GAP:
        if (dx) FN_TRY(fn_gap_backward(dev, dx, out->grad, n, in->c, in->h * in->w));
        break;
    case FN_L_LINEAR:
        FN_TRY(fn_linear_backward(dev, dx, pgrad(m, l->w), pgrad(m, l->b), out->grad, in->data,
                                  pdata(m, l->w), n, in->c * in->h * in->w, out->c));
        break;
    case FN_L_ADD: {
        /* The sum passes its gradient unchanged to both inputs. */
        int srcs[2] = {l->in, l->in2};
        for (int k = 0; k < 2; k++) {
            const fn_act *a = &m->acts[srcs[k]];
            if (srcs[k] == m->input) continue;
            if (a->consumers > 1)
                FN_TRY(fn_add(dev, a->grad, a->grad, out->grad, numel)); /* as finish_dx */
            else
                FN_TRY(
                    fn_buffer_copy(dev, a->grad, 0, out->grad, 0, (size_t)numel * sizeof(float)));
        }
        return FN_OK; /* nothing in tmp_grad to add */
    }
    }
    return dx ? finish_dx(m, l->in, n) : FN_OK;
}

fn_status fn_model_backward_begin(fn_model *m, int n)
{
    if (!m->training) return fn_error(FN_ERR_ARG, "this model was built for evaluation only");
    /* Activations read by several layers sum their gradients: start them at 0. */
    for (int i = 0; i < m->n_acts; i++) {
        const fn_act *a = &m->acts[i];
        if (i != m->input && a->consumers > 1)
            FN_TRY(fn_buffer_fill(m->dev, a->grad, 0,
                                  (size_t)n * a->c * a->h * a->w * sizeof(float), 0.0f));
    }
    return FN_OK;
}

fn_status fn_model_backward(fn_model *m, int n)
{
    FN_TRY(fn_model_backward_begin(m, n));
    for (int i = m->n_layers - 1; i >= 0; i--) {
        int act = fused_backward_act(m, i - 1);
        if (act) i--; /* layer i, the activation, runs inside batch norm's backward */
        FN_TRY(layer_backward(m, i, n, act));
    }
    return FN_OK;
}

int fn_model_param_layer(const fn_model *m, int p)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].w == p || m->layers[i].b == p) return i;
    return -1;
}

fn_status fn_model_sync_bn(fn_model *m, const fn_comm *comm)
{
    free(m->bn_host);
    m->bn_host = NULL;
    m->bn_comm = NULL;
    if (!comm || comm->size(comm) == 1) return FN_OK; /* one process: nothing to sync */
    int widest = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == FN_L_BN && m->acts[m->layers[i].out].c > widest)
            widest = m->acts[m->layers[i].out].c;
    if (!widest) return FN_OK; /* no batch norm (LeNet-5): nothing to sync */
    m->bn_host = malloc(3 * (size_t)widest * sizeof *m->bn_host);
    if (!m->bn_host) return fn_error(FN_ERR_NOMEM, "out of host memory");
    m->bn_comm = comm;
    m->bn_rows = m->max_batch;
    return FN_OK;
}

fn_status fn_model_sync_bn_idle(fn_model *m, int layer)
{
    if (!m->bn_comm) return FN_OK;
    for (int i = layer < 0 ? 0 : layer; i < (layer < 0 ? m->n_layers : layer + 1); i++) {
        const fn_layer *l = &m->layers[i];
        const fn_act *o = &m->acts[l->out];
        if (l->kind != FN_L_BN) continue;
        if (layer >= 0)
            FN_TRY(fn_batchnorm_sync_idle(m->bn_comm, o->c, m->bn_host));
        else
            FN_TRY(fn_batchnorm_forward_sync_idle(
                m->dev, l->save_mean, l->save_invstd, pdata(m, l->w), pdata(m, l->b),
                pdata(m, l->rmean), pdata(m, l->rvar), o->c, BN_MOMENTUM, BN_EPS, m->bn_comm,
                m->bn_rows * o->h * o->w, m->bn_host));
    }
    return FN_OK;
}

/* ---- one layer at a time (focusnet.h), for benchmarks; fn_model_layer_info
 * is in model_info.c ---- */
fn_status fn_model_layer_forward(fn_model *m, int i, int n)
{
    FN_TRY(check_batch(m, n, 1));
    if (i < 0 || i >= m->n_layers)
        return fn_error(FN_ERR_ARG, "no layer %d (the model has %d)", i, m->n_layers);
    return layer_forward(m, i, n, 1, 0);
}

fn_status fn_model_layer_backward(fn_model *m, int i, int n)
{
    FN_TRY(check_batch(m, n, 1));
    if (i < 0 || i >= m->n_layers)
        return fn_error(FN_ERR_ARG, "no layer %d (the model has %d)", i, m->n_layers);
    return layer_backward(m, i, n, 0);
}

fn_status fn_model_predict(fn_model *m, const float *images, int n, float *logits)
{
    if (!m->dev) return fn_error(FN_ERR_ARG, "this model was built without a device");
    const fn_model_config *c = &m->cfg;
    size_t per = (size_t)c->channels * c->height * c->width_px;
    for (int done = 0; done < n;) {
        int b = n - done < m->max_batch ? n - done : m->max_batch;
        FN_TRY(fn_buffer_write(m->dev, m->acts[m->input].data, 0, (size_t)b * per * sizeof(float),
                               images + (size_t)done * per));
        FN_TRY(fn_model_forward(m, b, 0));
        FN_TRY(fn_buffer_read(m->dev, m->acts[m->logits].data, 0,
                              (size_t)b * c->classes * sizeof(float),
                              logits + (size_t)done * c->classes));
        done += b;
    }
    return FN_OK;
}

/* fn_layer_info's type is the layer's kind. */
_Static_assert((int)FN_L_CONV == (int)FN_LAYER_CONV && (int)FN_L_ADD == (int)FN_LAYER_ADD &&
                   (int)FN_L_MAXPOOL == (int)FN_LAYER_MAXPOOL,
               "fn_layer_kind and fn_layer_type list the kinds in one order");
