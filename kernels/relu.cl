/* ReLU and ReLU6 over n floats. Forward keeps NaN (x < 0 is false for NaN) so
 * the trainer's non-finite check still sees it. Backward masks by the OUTPUT y,
 * which lets the forward run in place (y aliasing x).
 *
 * On a GPU: every kernel: a work-item owns one float of its output; work-
 * groups of 64 consecutive floats (fn_launch1). */
__kernel void relu_forward(const int n, __global float *y, __global const float *x)
{
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = v < 0.0f ? 0.0f : v;
    }
}

/* y > 0 exactly where x > 0; the kink at 0 takes the zero side, as PyTorch does. */
__kernel void relu_backward(const int n, __global float *dx, __global const float *dy,
                            __global const float *y)
{
    const int i = get_global_id(0);
    if (i < n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void relu6_forward(const int n, __global float *y, __global const float *x)
{
    const int i = get_global_id(0);
    if (i < n) {
        const float v = x[i];
        y[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    }
}

/* Gradient passes only strictly inside (0, 6), like PyTorch's hardtanh. */
__kernel void relu6_backward(const int n, __global float *dx, __global const float *dy,
                             __global const float *y)
{
    const int i = get_global_id(0);
    if (i < n) {
        const float v = y[i];
        dx[i] = (v > 0.0f && v < 6.0f) ? dy[i] : 0.0f;
    }
}
