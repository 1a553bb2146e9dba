/* Class activation maps on top of models: CAM for networks that end in global
 * average pooling and one linear layer, Grad-CAM for any network, and reading
 * an image file the way a model sees it. (The multi-warm label of one image is
 * in lib/loss/probs.c, with the loss's rule.)
 *
 * Sizes: C, H, W the model's input; K classes; F, h, w the feature maps
 * (the last convolutional activation, m->features) that both maps are made of.
 *
 * Grad-CAM needs d logit_c / d features. The layers after the features (LeNet:
 * max pool, linear, ReLU, ...; ResNet and MobileNetV2: global average pooling,
 * linear) run backward here from a one-hot gradient, and no further: running
 * the whole model backward would overwrite the features' gradient in place
 * with the one before their ReLU, and would pass through batch norm, whose
 * backward assumes batch statistics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../data/data.h"
#include "../nn/model.h"

int fn_cam_available(const fn_model *m)
{
    return m && m->features >= 0 && m->cam_linear >= 0;
}

/* Bilinear resize of src (h, w) to dst (H, W) with half-pixel centres, as
 * OpenCV's INTER_LINEAR and PyTorch's interpolate(align_corners=False). */
static void upsample_bilinear(const float *src, int h, int w, float *dst, int H, int W)
{
    for (int y = 0; y < H; y++) {
        float sy = (y + 0.5f) * (float)h / (float)H - 0.5f;
        if (sy < 0) sy = 0;
        int y0 = (int)sy;
        if (y0 > h - 1) y0 = h - 1;
        int y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        float fy = sy - (float)y0;
        for (int x = 0; x < W; x++) {
            float sx = (x + 0.5f) * (float)w / (float)W - 0.5f;
            if (sx < 0) sx = 0;
            int x0 = (int)sx;
            if (x0 > w - 1) x0 = w - 1;
            int x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            float fx = sx - (float)x0;
            float top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
            float bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
            dst[(size_t)y * W + x] = top * (1 - fy) + bottom * fy;
        }
    }
}

/* The layer that writes the features, so that the ones after it are the tail. */
static int features_producer(const fn_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].out == m->features) return i;
    return -1;
}

/* The tail must be a chain that starts at the features and holds only layers
 * whose backward needs no batch statistics. */
static fn_status check_tail(const fn_model *m, int first)
{
    int cur = m->features;
    for (int i = first; i < m->n_layers; i++) {
        const fn_layer *l = &m->layers[i];
        int ok = l->kind == FN_L_RELU || l->kind == FN_L_RELU6 || l->kind == FN_L_MAXPOOL ||
                 l->kind == FN_L_GAP || l->kind == FN_L_LINEAR;
        if (!ok || l->in != cur || m->acts[l->in].consumers != 1)
            return fn_error(FN_ERR_ARG,
                            "Grad-CAM: %s's layers after its feature maps are not a "
                            "plain chain of pooling, ReLU and linear layers",
                            m->cfg.arch);
        cur = l->out;
    }
    if (cur != m->logits)
        return fn_error(FN_ERR_ARG, "Grad-CAM: %s's feature maps do not lead to its logits",
                        m->cfg.arch);
    return FN_OK;
}

/* d (logit_cls - logit_other) / d features (F, h, w), other -1 for
 * d logit_cls alone, for the image already in the model after an
 * evaluation-mode forward of batch 1. */
static fn_status features_grad(fn_model *m, int cls, int other, float *grad)
{
    fn_device *dev = m->dev;
    int first = features_producer(m) + 1;
    FN_TRY(check_tail(m, first));
    /* The evaluation forward kept no argmax: run the tail's max pools again to get it. */
    for (int i = first; i < m->n_layers; i++) {
        fn_layer *l = &m->layers[i];
        if (l->kind != FN_L_MAXPOOL) continue;
        fn_pool_shape s = l->pool;
        s.n = 1;
        FN_TRY(fn_maxpool_forward(dev, m->acts[l->out].data, l->argmax, m->acts[l->in].data, &s));
    }
    int k = m->cfg.classes;
    float *onehot = calloc((size_t)k, sizeof *onehot);
    if (!onehot) return fn_error(FN_ERR_NOMEM, "out of host memory");
    onehot[cls] = 1.0f;
    if (other >= 0) onehot[other] = -1.0f; /* the contrast z_A - z_B */
    fn_status st =
        fn_buffer_write(dev, m->acts[m->logits].grad, 0, (size_t)k * sizeof(float), onehot);
    free(onehot);
    FN_TRY(st);
    for (int i = m->n_layers - 1; i >= first; i--) {
        fn_layer *l = &m->layers[i];
        fn_act *in = &m->acts[l->in], *out = &m->acts[l->out];
        int numel = out->c * out->h * out->w;
        switch (l->kind) {
        case FN_L_RELU:
            FN_TRY(fn_relu_backward(dev, in->grad, out->grad, out->data, numel));
            break;
        case FN_L_RELU6:
            FN_TRY(fn_relu6_backward(dev, in->grad, out->grad, out->data, numel));
            break;
        case FN_L_MAXPOOL: {
            fn_pool_shape s = l->pool;
            s.n = 1;
            FN_TRY(fn_maxpool_backward(dev, in->grad, out->grad, l->argmax, &s));
            break;
        }
        case FN_L_GAP:
            FN_TRY(fn_gap_backward(dev, in->grad, out->grad, 1, in->c, in->h * in->w));
            break;
        case FN_L_LINEAR: /* no parameter gradients: the model's own stay untouched */
            FN_TRY(fn_linear_backward(dev, in->grad, NULL, NULL, out->grad, in->data,
                                      m->params[l->w].data, 1, in->c * in->h * in->w, out->c));
            break;
        default:
            return fn_error(FN_ERR_ARG, "Grad-CAM: unexpected layer after the feature maps");
        }
    }
    const fn_act *f = &m->acts[m->features];
    return fn_buffer_read(dev, f->grad, 0, (size_t)f->c * f->h * f->w * sizeof(float), grad);
}

/* The map of class_index, or with other >= 0 the contrast "why class_index
 * and not other": CAM weights w_A - w_B (so exactly CAM_A - CAM_B, signed),
 * Grad-CAM of z_A - z_B (its positive part, as Grad-CAM's). With
 * predicted (non-NULL): the map of the class the logits pick instead, stored
 * there (class_index is ignored). */
static fn_status cam_map(fn_model *m, const float *image, int class_index, int other, int grad_cam,
                         float *heatmap, float *logits, int *predicted)
{
    if (!m || !m->dev || !image || !heatmap)
        return fn_error(FN_ERR_ARG, "fn_cam_compute: bad argument");
    const fn_model_config *c = &m->cfg;
    if (predicted) class_index = 0; /* checked below; replaced after the forward */
    if (class_index < 0 || class_index >= c->classes)
        return fn_error(FN_ERR_ARG, "class %d is out of range: the model has %d classes",
                        class_index, c->classes);
    if (other >= c->classes)
        return fn_error(FN_ERR_ARG, "class %d is out of range: the model has %d classes", other,
                        c->classes);
    if (m->features < 0)
        return fn_error(FN_ERR_ARG, "%s has no feature maps for a class activation map", c->arch);
    if (!grad_cam && m->cam_linear < 0)
        return fn_error(FN_ERR_ARG,
                        "%s does not end in global average pooling and a linear layer: "
                        "use Grad-CAM for it",
                        c->arch);
    if (grad_cam && !m->training)
        return fn_error(FN_ERR_ARG, "Grad-CAM needs the model built for training (load the "
                                    "checkpoint with training 1): it runs layers backward");
    size_t per = (size_t)c->channels * c->height * c->width_px;
    FN_TRY(fn_buffer_write(m->dev, m->acts[m->input].data, 0, per * sizeof(float), image));
    FN_TRY(fn_model_forward(m, 1, 0));
    float *z = logits;
    if (predicted && !z) z = malloc((size_t)c->classes * sizeof *z);
    if (predicted && !z) return fn_error(FN_ERR_NOMEM, "out of host memory");
    fn_status rd = FN_OK;
    if (z)
        rd = fn_buffer_read(m->dev, m->acts[m->logits].data, 0, (size_t)c->classes * sizeof(float),
                            z);
    if (rd == FN_OK && predicted) {
        class_index = 0;
        for (int i = 1; i < c->classes; i++)
            if (z[i] > z[class_index]) class_index = i;
        *predicted = class_index;
    }
    if (z != logits) free(z);
    FN_TRY(rd);

    const fn_act *f = &m->acts[m->features];
    int nf = f->c, hw = f->h * f->w;
    float *feat = malloc((size_t)nf * hw * sizeof *feat); /* (F, h, w) */
    float *weight = malloc((size_t)nf * sizeof *weight);  /* (F) */
    float *grad = grad_cam ? malloc((size_t)nf * hw * sizeof *grad) : NULL;
    float *map = calloc((size_t)hw, sizeof *map); /* (h, w) */
    fn_status st = FN_OK;
    if (!feat || !weight || !map || (grad_cam && !grad)) {
        st = fn_error(FN_ERR_NOMEM, "out of host memory");
        goto done;
    }
    st = fn_buffer_read(m->dev, f->data, 0, (size_t)nf * hw * sizeof(float), feat);
    if (st) goto done;
    if (grad_cam) {
        /* a_k: the spatial mean of d logit_c / d F_k */
        st = features_grad(m, class_index, other, grad);
        if (st) goto done;
        for (int k = 0; k < nf; k++) {
            double s = 0;
            for (int i = 0; i < hw; i++)
                s += grad[(size_t)k * hw + i];
            weight[k] = (float)(s / hw);
        }
    } else {
        /* w_ck: row c of the classifier (K, F) */
        const fn_param *w = &m->params[m->layers[m->cam_linear].w];
        st = fn_buffer_read(m->dev, w->data, (size_t)class_index * nf * sizeof(float),
                            (size_t)nf * sizeof(float), weight);
        if (st == FN_OK && other >= 0) {
            float *wb = malloc((size_t)nf * sizeof *wb);
            st = wb ? fn_buffer_read(m->dev, w->data, (size_t)other * nf * sizeof(float),
                                     (size_t)nf * sizeof(float), wb)
                    : fn_error(FN_ERR_NOMEM, "out of host memory");
            for (int k = 0; st == FN_OK && k < nf; k++)
                weight[k] -= wb[k];
            free(wb);
        }
        if (st) goto done;
    }
    for (int i = 0; i < hw; i++) {
        double s = 0;
        for (int k = 0; k < nf; k++)
            s += (double)weight[k] * feat[(size_t)k * hw + i];
        map[i] = grad_cam && s < 0 ? 0.0f : (float)s; /* Grad-CAM keeps positive evidence */
    }
    upsample_bilinear(map, f->h, f->w, heatmap, c->height, c->width_px);
done:
    free(feat);
    free(weight);
    free(grad);
    free(map);
    return st;
}

fn_status fn_cam_compute(fn_model *m, const float *image, int class_index, int grad_cam,
                         float *heatmap, float *logits)
{
    return cam_map(m, image, class_index, -1, grad_cam, heatmap, logits, NULL);
}

fn_status fn_cam_predicted(fn_model *m, const float *image, int grad_cam, float *heatmap,
                           float *logits, int *class_index)
{
    if (!class_index) return fn_error(FN_ERR_ARG, "fn_cam_predicted: bad argument");
    return cam_map(m, image, 0, -1, grad_cam, heatmap, logits, class_index);
}

fn_status fn_cam_contrast(fn_model *m, const float *image, int class_a, int class_b, int grad_cam,
                          float *heatmap, float *logits)
{
    if (m && (class_b < 0 || class_b == class_a))
        return fn_error(FN_ERR_ARG, "a contrast needs two different classes, not %d and %d",
                        class_a, class_b);
    return cam_map(m, image, class_a, class_b, grad_cam, heatmap, logits, NULL);
}

fn_status fn_model_load_image(const fn_model *m, const char *path, float *input, float *pixels)
{
    if (!m || !path) return fn_error(FN_ERR_ARG, "fn_model_load_image: bad argument");
    const fn_model_config *c = &m->cfg;
    fn_image img;
    FN_TRY(fn_image_load(path, &img));
    fn_status st = FN_OK;
    if (input)
        st = fn_image_to_input(&img, c->channels, c->height, c->width_px, m->meta.mean, m->meta.std,
                               input);
    if (st == FN_OK && pixels)
        st = fn_image_to_input(&img, c->channels, c->height, c->width_px, NULL, NULL, pixels);
    if (st == FN_OK && pixels) /* resampling may overshoot [0, 1] by rounding */
        for (size_t i = 0; i < (size_t)c->channels * c->height * c->width_px; i++)
            pixels[i] = fminf(1.0f, fmaxf(0.0f, pixels[i]));
    fn_image_free(&img);
    return st;
}

const char *fn_model_loss(const fn_model *m)
{
    return m->meta.loss;
}
