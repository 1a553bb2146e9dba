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
