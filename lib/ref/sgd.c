/* torch.optim.SGD's update in plain C, one parameter at a time, and
 * torch.nn.utils.clip_grad_norm_ before it. */
#include <math.h>

#include "../optim/sgd.h"

/* param, grad, momentum_buf (n) */
void fn_ref_sgd_step(const fn_sgd_opts *o, float *param, const float *grad, float *momentum_buf,
                     int n, int first_step)
{
    for (int i = 0; i < n; i++) {
        float g = grad[i];
        if (o->weight_decay != 0.0f) g = g + o->weight_decay * param[i];
        if (o->momentum != 0.0f) {
            float b;
            if (first_step)
                b = g; /* torch: buf = clone(g) */
            else
                b = o->momentum * momentum_buf[i] + (1.0f - o->dampening) * g;
            momentum_buf[i] = b;
            g = o->nesterov ? g + o->momentum * b : b;
        }
        param[i] = param[i] - o->lr * g;
    }
}

/* torch.nn.utils.clip_grad_norm_(grads, clip) on n host tensors, in place. */
float fn_ref_clip_grad_norm(float *const *grads, const size_t *numel, int n, float clip)
{
    double ss = 0;
    for (int t = 0; t < n; t++)
        for (size_t i = 0; i < numel[t]; i++)
            ss += (double)grads[t][i] * grads[t][i];
    float norm = (float)sqrt(ss);
    float scale = clip / (norm + 1e-6f);
    if (clip > 0.0f && scale < 1.0f)
        for (int t = 0; t < n; t++)
            for (size_t i = 0; i < numel[t]; i++)
                grads[t][i] = grads[t][i] * scale;
    return norm;
}
