/* Evaluation-time fusion: a convolution, the batch norm after it and the
 * ReLU/ReLU6 after that run as one convolution whose store applies the
 * other two (fn_conv_forward_fused). Batch norm at evaluation is a
 * per-channel affine y = a x + b; a and b (the layer's fold buffer, 2*C
 * floats) are recomputed from gamma, beta and the running statistics on
 * every forward, one small launch, so they never go stale whatever changed
 * the parameters (an SGD step, a checkpoint, set_params, a broadcast). The
 * weights themselves are not rescaled: the affine costs one fma per output
 * in the store, and the stored values equal the unfused layers' (the same
 * fma on the same convolution output; kernels/epilogue.clh).
 *
 * What it saves: one read and one write of every convolution output that a
 * batch norm follows (MobileNetV2 x0.5 at batch 64: bn_eval was 17% of the
 * inference's kernel time) and the launch of each batch norm.
 *
 * Off: FOCUSNET_FOLD=0 in the environment (A/B in one binary), or
 * m->no_fold (tests). Training forwards never fuse. */
#include "model.h"

#define BN_EPS 1e-5f /* model.c's */

static int root_of(const fn_model *m, int i)
{
    while (m->acts[i].alias >= 0)
        i = m->acts[i].alias;
    return i;
}

int fn_model_fold_enabled(const fn_model *m)
{
    fn_env e;
    fn_env_read(&e);
    return !m->no_fold && !e.no_fold;
}

/* The layers from conv i that fuse: *bn the batch norm that reads only its
 * output (or -1), *act the in-place ReLU (1) or ReLU6 (2) after (or 0).
 * Returns how many layers the fused forward covers, 0 when none follow. */
static int chain(const fn_model *m, int i, int *bn, int *act)
{
    const fn_layer *l = &m->layers[i];
    *bn = -1;
    *act = 0;
    if (l->kind != FN_L_CONV) return 0;
    int next = i + 1, out = l->out;
    if (next < m->n_layers && m->layers[next].kind == FN_L_BN && m->layers[next].in == out &&
        m->acts[out].consumers == 1) {
        *bn = next++;
        out = m->layers[*bn].out;
    }
    if (next < m->n_layers) {
        const fn_layer *a = &m->layers[next];
        if ((a->kind == FN_L_RELU || a->kind == FN_L_RELU6) && a->in == out &&
            m->acts[a->out].alias == out) {
            *act = a->kind == FN_L_RELU ? 1 : 2;
            next++;
        }
    }
    if (next == i + 1) return 0;
    /* The fused store writes the chain's last buffer while reading the
     * convolution's input: an evaluation model shares buffers between
     * layers, so this holds only where the chain runs in place (plan_uses
     * makes such a batch norm alias its input); training models own one
     * buffer per activation. */
    if (!m->training && root_of(m, m->layers[next - 1].out) != root_of(m, l->out)) return 0;
    return next - i;
}

fn_status fn_model_fused_forward(fn_model *m, int i, int n, int *used)
{
    *used = 0;
    int bn, act, len = chain(m, i, &bn, &act);
    if (!len) return FN_OK;
    fn_layer *l = &m->layers[i];
    cl_mem b = l->b >= 0 ? m->params[l->b].data : NULL, ab = NULL;
    if (bn >= 0) {
        fn_layer *nl = &m->layers[bn];
        int c = m->acts[nl->out].c;
        if (!nl->fold) FN_TRY(fn_buffer_new(m->dev, 2 * (size_t)c * sizeof(float), &nl->fold));
        FN_TRY(fn_batchnorm_fold(m->dev, nl->fold, b, m->params[nl->w].data, m->params[nl->b].data,
                                 m->params[nl->rmean].data, m->params[nl->rvar].data, c, BN_EPS));
        ab = nl->fold;
        b = NULL;
    }
    fn_conv_shape s = l->conv;
    s.n = n;
    FN_TRY(fn_conv_forward_fused(m->dev, m->acts[m->layers[i + len - 1].out].data,
                                 m->acts[l->in].data, m->params[l->w].data, b, ab, act, &s));
    *used = len;
    return FN_OK;
}
