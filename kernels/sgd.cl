/* torch.optim.SGD's update, one item per parameter; see lib/optim/sgd.h.
 * Contraction into fma is off so each step rounds as the plain-C twin and
 * PyTorch's separate operations do.
 *
 * On a GPU: sgd_step: a work-item owns one parameter (its value, gradient and
 * momentum); work-groups of 64 consecutive parameters (fn_launch1). */
#pragma OPENCL FP_CONTRACT OFF

__kernel void sgd_step(const int n, const float lr, const float momentum, const float dampening,
                       const float wd, const int nesterov, const int first, __global float *p,
                       __global const float *grad, __global float *buf)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    float g = grad[i];
    if (wd != 0.0f)
        g = g + wd * p[i];
    if (momentum != 0.0f) {
        const float b = first ? g : momentum * buf[i] + (1.0f - dampening) * g;
        buf[i] = b;
        g = nesterov ? g + momentum * b : b;
    }
    p[i] = p[i] - lr * g;
}

/* torch.nn.utils.clip_grad_norm_'s scaling of one tensor's gradient, from
 * the squared global norm that fn_reduce_sumsq left in sumsq[0] (read here,
 * on the device: no round trip to the host per step). Every item recomputes
 * the same scale, in float as torch does: clip / (norm + 1e-6), applied
 * where below 1 (torch multiplies by it clamped to 1; times 1 is the same).
 * A non-finite norm leaves the gradient as it is: the trainer's check of
 * the loss stops such a run.
 *
 * On a GPU: grad_clip: a work-item owns one gradient value (fn_launch1). */
__kernel void grad_clip(const int n, const float clip, __global const float *sumsq,
                        __global float *grad)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float norm = sqrt(sumsq[0]);
    const float scale = clip / (norm + 1e-6f);
    if (scale < 1.0f)
        grad[i] = grad[i] * scale;
}
