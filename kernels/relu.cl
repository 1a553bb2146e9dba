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

/* CPUs (dev->long_runs): the same four over runs of up to 4096 floats per
 * work-item in float16 vectors (fn_launch_runs with one plane of n floats).
 * One float per work-item costs POCL a work-group per 64 floats, which made
 * relu6_backward a tenth of MobileNetV2's training step. */
#define RELU_RUNS(name, expr16, expr1)                                                            \
    __kernel void name(const int n, const int run, __global float *out, __global const float *a,  \
                       __global const float *b)                                                    \
    {                                                                                              \
        const int i0 = get_global_id(0) * run, i1 = min(n, i0 + run);                             \
        if (i0 >= n)                                                                               \
            return;                                                                                \
        int i = i0;                                                                                \
        for (; i + 16 <= i1; i += 16) {                                                            \
            const float16 x = vload16(0, a + i);                                                   \
            const float16 g = b ? vload16(0, b + i) : (float16)0.0f;                               \
            vstore16(expr16, 0, out + i);                                                          \
        }                                                                                          \
        for (; i < i1; i++) {                                                                      \
            const float x = a[i], g = b ? b[i] : 0.0f;                                             \
            out[i] = expr1;                                                                        \
        }                                                                                          \
    }
/* Forward: a = x (b unused); backward: a = y, b = dy. */
RELU_RUNS(relu_forward_runs, select(x, (float16)0.0f, x < 0.0f), x < 0.0f ? 0.0f : x)
RELU_RUNS(relu6_forward_runs, select(select(x, (float16)6.0f, x > 6.0f), (float16)0.0f, x < 0.0f),
          x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x))
RELU_RUNS(relu_backward_runs, select((float16)0.0f, g, x > 0.0f), x > 0.0f ? g : 0.0f)
RELU_RUNS(relu6_backward_runs, select((float16)0.0f, g, (x > 0.0f) & (x < 6.0f)),
          (x > 0.0f && x < 6.0f) ? g : 0.0f)
