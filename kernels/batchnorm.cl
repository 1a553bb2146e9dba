/* Batch normalization over (N, C, HW), PyTorch's BatchNorm2d.
 *
 * Statistics go plane by plane: one work-item per (n, c) plane computes the
 * plane's mean and centred sum of squares (two passes over a plane that
 * stays in cache), and one work-item per channel combines its N planes with
 * Chan's formula, so a large mean never swamps the variance. Gradient sums
 * go the same way. Element-wise passes work in runs (fn_launch_runs: item
 * (s, p) covers floats [s*run, (s+1)*run) of plane p) with float16 vectors.
 * On CPUs small planes go several (per) to an item (lib/ops/batchnorm.c's
 * plane_group); on GPUs per is 1. In training, the backward of a ReLU or
 * ReLU6 after batch norm runs inside bn_plane_grad and bn_backward_dx
 * (act, mask16).
 *
 * On a GPU: bn_plane_stats, bn_plane_grad: a work-item owns one (n, c) plane,
 * launched over (1, planes) in groups of 64 planes (fn_launch_runs ->
 * fn_launch_auto); neighbouring items read planes HW apart, a pass that is
 * small next to the element-wise ones. bn_finalize, bn_grad_finalize: a work-
 * item owns a channel, groups of up to 64 channels. bn_apply, bn_eval,
 * bn_backward_dx: a work-item owns one float16 run of a plane, a group 64
 * neighbouring runs (1024 consecutive floats), or several short planes
 * stacked. */

/* The activation fused after batch norm: 0 none, 1 ReLU, 2 ReLU6. NaN passes
 * through (comparisons with NaN are false), as in kernels/relu.cl. */
inline float16 act16(float16 v, const int act)
{
    if (act)
        v = select(v, (float16)0.0f, v < 0.0f);
    if (act == 2)
        v = select(v, (float16)6.0f, v > 6.0f);
    return v;
}

inline float act1(float v, const int act)
{
    if (act)
        v = v < 0.0f ? 0.0f : v;
    if (act == 2)
        v = v > 6.0f ? 6.0f : v;
    return v;
}

inline float hsum16(const float16 v)
{
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* part[pl] = mean of plane pl, part[planes + pl] = its centred sum of
 * squares; item g owns planes [g per, (g + 1) per), launched over
 * (1, ceil(planes / per)). */
__kernel void bn_plane_stats(const int planes, const int hw, const int per, __global const float *x,
                             __global float *part)
{
    const int p0 = get_global_id(1) * per;
    if (get_global_id(0) > 0 || p0 >= planes)
        return;
    const int p1 = min(planes, p0 + per);
    for (int pl = p0; pl < p1; pl++) {
        __global const float *p = x + (size_t)pl * hw;
        float16 s = (float16)0.0f;
        int i = 0;
        for (; i + 16 <= hw; i += 16)
            s += vload16(0, p + i);
        float t = 0.0f;
        for (int j = i; j < hw; j++)
            t += p[j];
        const float mean = (hsum16(s) + t) / (float)hw;
        s = (float16)0.0f;
        for (i = 0; i + 16 <= hw; i += 16) {
            const float16 d = vload16(0, p + i) - mean;
            s = fma(d, d, s);
        }
        t = 0.0f;
        for (int j = i; j < hw; j++) {
            const float d = p[j] - mean;
            t += d * d;
        }
        part[pl] = mean;
        part[planes + pl] = hsum16(s) + t;
    }
}

/* Channel ch's mean and centred sum of squares over its N planes, from the
 * plane statistics (part[b C + ch] the plane means, part[N C + b C + ch]
 * their centred sums of squares), combined as Chan et al.'s parallel rule. */
inline void channel_moments(const int n, const int c, const int hw, __global const float *part,
                            const int ch, float *mean_out, float *m2_out)
{
    const int planes = n * c;
    float mean = 0.0f;
    for (int b = 0; b < n; b++)
        mean += part[b * c + ch];
    mean /= (float)n;
    float m2 = 0.0f;
    for (int b = 0; b < n; b++) {
        const float d = part[b * c + ch] - mean;
        m2 += part[planes + b * c + ch] + (float)hw * d * d;
    }
    *mean_out = mean;
    *m2_out = m2;
}

/* bn_apply's coefficients of a channel, a = gamma invstd and b = beta - mean a,
 * written as an explicit fma so that batch norm's backward, recomputing them
 * from the saved statistics to mask by a fused activation (mask16), gets the
 * same bits whatever the compiler contracts. */
inline float2 bn_coef(const float gamma, const float beta, const float mean, const float invstd)
{
    const float a = gamma * invstd;
    return (float2)(a, fma(-mean, a, beta));
}

/* From channel ch's mean and centred sum of squares over m values: saved
 * statistics, running estimates (unbiased variance) and bn_apply's coef. */
inline void channel_finish(const int c, const int ch, const int m, const float mean,
                           const float m2, __global float *save_mean,
                           __global float *save_invstd, __global float *running_mean,
                           __global float *running_var, __global const float *gamma,
                           __global const float *beta, __global float *coef,
                           const float momentum, const float eps)
{
    const float var = m2 / (float)m;
    /* M == 1 has no unbiased estimate; the biased one (0) is used. */
    const float unbiased = m > 1 ? m2 / (float)(m - 1) : var;
    const float invstd = 1.0f / sqrt(var + eps);
    save_mean[ch] = mean;
    save_invstd[ch] = invstd;
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
    const float2 ab = bn_coef(gamma[ch], beta[ch], mean, invstd);
    coef[ch] = ab.x;
    coef[c + ch] = ab.y;
}

/* One item per channel: the batch mean and biased variance from the N planes,
 * saved statistics, running estimates (unbiased variance), and coef[ch] =
 * gamma * invstd, coef[C + ch] = beta - mean * gamma * invstd for bn_apply. */
__kernel void bn_finalize(const int n, const int c, const int hw, __global const float *part,
                          __global float *save_mean, __global float *save_invstd,
                          __global float *running_mean, __global float *running_var,
                          __global const float *gamma, __global const float *beta,
                          __global float *coef, const float momentum, const float eps)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    float mean, m2;
    channel_moments(n, c, hw, part, ch, &mean, &m2);
    channel_finish(c, ch, n * hw, mean, m2, save_mean, save_invstd, running_mean, running_var,
                   gamma, beta, coef, momentum, eps);
}

/* Batch norm synchronized over ranks (--sync-bn), forward in two steps
 * around an allreduce. Step 1, one item per channel: this rank's mean and
 * centred sum of squares, stats[ch] and stats[C + ch], from the plane
 * statistics combined as in bn_finalize; the host sums them over the ranks
 * in double and writes back the global ones. */
__kernel void bn_local_stats(const int n, const int c, const int hw, __global const float *part,
                             __global float *stats)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    float mean, m2;
    channel_moments(n, c, hw, part, ch, &mean, &m2);
    stats[ch] = mean;
    stats[c + ch] = m2;
}

/* Step 2: bn_finalize's work from the global mean and centred sum of
 * squares over all m values; coef (2C) may be stats itself (each item reads
 * its two values before writing its two coefficients). */
__kernel void bn_finalize_stats(const int c, const int m, __global const float *stats,
                                __global float *save_mean, __global float *save_invstd,
                                __global float *running_mean, __global float *running_var,
                                __global const float *gamma, __global const float *beta,
                                __global float *coef, const float momentum, const float eps)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    const float mean = stats[ch], m2 = stats[c + ch];
    channel_finish(c, ch, m, mean, m2, save_mean, save_invstd, running_mean, running_var, gamma,
                   beta, coef, momentum, eps);
}

/* y[i] = act(fma(x[i], a, b)) for i in [i0, i1) of one plane: bn_apply's
 * and bn_eval's pass, 16 floats at a time. */
inline void affine_run(__global const float *xp, __global float *yp, const int i0, const int i1,
                       const float a, const float b, const int act)
{
    int i = i0;
    for (; i + 16 <= i1; i += 16)
        vstore16(act16(fma(vload16(0, xp + i), (float16)a, (float16)b), act), 0, yp + i);
    for (; i < i1; i++)
        yp[i] = act1(fma(xp[i], a, b), act);
}

/* y = act(x * coef[ch] + coef[C + ch]) over runs: item (s, g) covers floats
 * [s run, (s + 1) run) of planes [g per, (g + 1) per). */
__kernel void bn_apply(const int c, const int hw, const int run, const int planes, const int per,
                       __global float *y, __global const float *x, __global const float *coef,
                       const int act)
{
    const int s = get_global_id(0), p0 = get_global_id(1) * per;
    const int i0 = s * run, i1 = min(hw, i0 + run);
    if (p0 >= planes || i0 >= hw)
        return;
    const int p1 = min(planes, p0 + per);
    for (int pl = p0; pl < p1; pl++) {
        const int ch = pl % c;
        const float a = coef[ch], b = coef[c + ch];
        affine_run(x + (size_t)pl * hw, y + (size_t)pl * hw, i0, i1, a, b, act);
    }
}

/* Batch norm at evaluation as y = a x + b per channel: a = gamma /
 * sqrt(var + eps), b = beta - mean a. One function for bn_eval and bn_fold,
 * so that a convolution with the batch norm folded into its store
 * (epilogue.clh) computes the same fma as the two layers. */
inline float2 eval_affine(const int ch, __global const float *gamma, __global const float *beta,
                          __global const float *running_mean, __global const float *running_var,
                          const float eps)
{
    const float a = gamma[ch] / sqrt(running_var[ch] + eps);
    return (float2)(a, beta[ch] - running_mean[ch] * a);
}

/* Evaluation: bn_apply's pass with the running estimates (eval_affine), per run. */
__kernel void bn_eval(const int c, const int hw, const int run, const int planes,
                      __global float *y, __global const float *x, __global const float *gamma,
                      __global const float *beta, __global const float *running_mean,
                      __global const float *running_var, const float eps, const int act)
{
    const int s = get_global_id(0), pl = get_global_id(1);
    const int i0 = s * run, i1 = min(hw, i0 + run);
    if (pl >= planes || i0 >= hw)
        return;
    const int ch = pl % c;
    const float2 ab = eval_affine(ch, gamma, beta, running_mean, running_var, eps);
    affine_run(x + (size_t)pl * hw, y + (size_t)pl * hw, i0, i1, ab.x, ab.y, act);
}

/* The gradient reaching batch norm's output when the ReLU (act 1) or ReLU6
 * (act 2) after it runs inside batch norm's backward: dy where the activation
 * passed its input, else 0. The activation's input is recomputed as the
 * forward's bn_apply did, fma(x, a, b) with bn_coef's a and b from the same
 * saved statistics, so the mask is the one relu.cl's backward reads from the
 * output: inside (0, 6) for ReLU6, above 0 for ReLU, NaN masked. */
inline float16 mask16(const float16 g, const float16 x, const float a, const float b,
                      const int act)
{
    /* v <= the float below 6 is v < 6; v <= infinity is every v but NaN.
     * One return and no int16 variable: oclgrind got both of those wrong
     * (every lane masked). */
    const float16 v = fma(x, (float16)a, (float16)b);
    const float16 hi = (float16)(act == 2 ? 0x1.7ffffep+2f : INFINITY);
    return act ? select((float16)0.0f, g, (v > 0.0f) & (v <= hi)) : g;
}

inline float mask1(const float g, const float x, const float a, const float b, const int act)
{
    if (!act)
        return g;
    const float v = fma(x, a, b);
    return (v > 0.0f && (act == 1 || v < 6.0f)) ? g : 0.0f;
}

/* part[pl] = sum of dy over plane pl, part[planes + pl] = sum of dy * xhat,
 * dy masked by the fused activation (mask16; act 0: none, gamma and beta
 * unread); item g owns planes [g per, (g + 1) per), launched over
 * (1, ceil(planes / per)). */
__kernel void bn_plane_grad(const int c, const int hw, const int planes, const int per,
                            const int act, __global const float *dy, __global const float *x,
                            __global const float *mean, __global const float *invstd,
                            __global const float *gamma, __global const float *beta,
                            __global float *part)
{
    const int p0 = get_global_id(1) * per;
    if (get_global_id(0) > 0 || p0 >= planes)
        return;
    const int p1 = min(planes, p0 + per);
    for (int pl = p0; pl < p1; pl++) {
        const int ch = pl % c;
        const float mu = mean[ch], is = invstd[ch];
        const float2 ab = act ? bn_coef(gamma[ch], beta[ch], mu, is) : (float2)(0.0f);
        const float ca = ab.x, cb = ab.y;
        const size_t base = (size_t)pl * hw;
        __global const float *g = dy + base;
        __global const float *xp = x + base;
        float16 sa = (float16)0.0f, sb = (float16)0.0f;
        int i = 0;
        for (; i + 16 <= hw; i += 16) {
            const float16 xv = vload16(0, xp + i);
            const float16 d = mask16(vload16(0, g + i), xv, ca, cb, act);
            sa += d;
            sb = fma(d, (xv - mu) * is, sb);
        }
        float ta = 0.0f, tb = 0.0f;
        for (; i < hw; i++) {
            const float d = mask1(g[i], xp[i], ca, cb, act);
            ta += d;
            tb += d * ((xp[i] - mu) * is);
        }
        part[pl] = hsum16(sa) + ta;
        part[planes + pl] = hsum16(sb) + tb;
    }
}

/* One item per channel: sums (2 per channel) of dy and dy * xhat over the
 * batch for bn_backward_dx, also added to dbeta and dgamma. */
__kernel void bn_grad_finalize(const int n, const int c, __global const float *part,
                               __global float *sums, __global float *dgamma,
                               __global float *dbeta)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    const int planes = n * c;
    float a = 0.0f, b = 0.0f;
    for (int k = 0; k < n; k++) {
        a += part[k * c + ch];
        b += part[planes + k * c + ch];
    }
    sums[2 * ch] = a;
    sums[2 * ch + 1] = b;
    dbeta[ch] += a;
    dgamma[ch] += b;
}

/* dx = gamma * invstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M): the usual
 * gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) with the 1/M taken
 * first, so M*dy never grows large; dy masked as in bn_plane_grad. Over
 * runs: item (s, g) covers floats [s run, (s + 1) run) of planes
 * [g per, (g + 1) per). */
__kernel void bn_backward_dx(const int c, const int hw, const int run, const int planes,
                             const int per, const int m, const int act, __global float *dx,
                             __global const float *dy, __global const float *x,
                             __global const float *mean, __global const float *invstd,
                             __global const float *gamma, __global const float *beta,
                             __global const float *sums)
{
    const int s = get_global_id(0), p0 = get_global_id(1) * per;
    const int i0 = s * run, i1 = min(hw, i0 + run);
    if (p0 >= planes || i0 >= hw)
        return;
    const int p1 = min(planes, p0 + per);
    for (int pl = p0; pl < p1; pl++) {
        const int ch = pl % c;
        const float is = invstd[ch], mu = mean[ch], a = gamma[ch] * is;
        const float2 ab = act ? bn_coef(gamma[ch], beta[ch], mu, is) : (float2)(0.0f);
        const float ca = ab.x, cb = ab.y;
        const float mdy = sums[2 * ch] / (float)m, mdyx = sums[2 * ch + 1] / (float)m;
        const size_t base = (size_t)pl * hw;
        __global const float *g = dy + base;
        __global const float *xp = x + base;
        __global float *d = dx + base;
        int i = i0;
        for (; i + 16 <= i1; i += 16) {
            const float16 xv = vload16(0, xp + i);
            const float16 xhat = (xv - mu) * is;
            vstore16(a * (mask16(vload16(0, g + i), xv, ca, cb, act) - mdy - xhat * mdyx), 0, d + i);
        }
        for (; i < i1; i++) {
            const float xhat = (xp[i] - mu) * is;
            d[i] = a * (mask1(g[i], xp[i], ca, cb, act) - mdy - xhat * mdyx);
        }
    }
}

/* ab (2, c): the affine of batch norm at evaluation (eval_affine), a then b,
 * for a convolution's epilogue; with a convolution bias (has_bias) folded
 * in, b += a bias. One item per channel. */
__kernel void bn_fold(const int c, const int has_bias, __global float *ab,
                      __global const float *bias, __global const float *gamma,
                      __global const float *beta, __global const float *running_mean,
                      __global const float *running_var, const float eps)
{
    const int ch = get_global_id(0);
    if (ch >= c)
        return;
    const float2 v = eval_affine(ch, gamma, beta, running_mean, running_var, eps);
    ab[ch] = v.x;
    ab[c + ch] = has_bias ? fma(bias[ch], v.x, v.y) : v.y;
}
