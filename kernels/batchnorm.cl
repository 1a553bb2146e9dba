/* Batch normalization over (N, C, HW), PyTorch's BatchNorm2d.
 * Per-channel reductions run one work-group per channel (a power of two no
 * larger than 256, chosen by the host); each item keeps a Kahan-compensated
 * partial, then a tree in local memory adds the partials pairwise. Element-wise
 * passes are plain one-item-per-element kernels. */
#define WG_MAX 256

inline void kahan_add(float *s, float *c, const float v)
{
    const float y = v - *c;
    const float t = *s + y;
    *c = isfinite(t) ? (t - *s) - y : 0.0f;
    *s = t;
}

/* Sums a[] (and b[] when two) over the work-group; results in [0], visible
 * to every item. */
inline void tree_sum(__local float *a, __local float *b, const int two)
{
    const int lid = get_local_id(0);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            a[lid] += a[lid + s];
            if (two) b[lid] += b[lid + s];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Flat index i in [0, N*HW) of channel ch -> offset in (N, C, HW). */
inline int at(const int i, const int ch, const int c, const int hw)
{
    const int b = i / hw;
    return (b * c + ch) * hw + (i - b * hw);
}

/* One work-group per channel: batch mean, biased variance (two passes, so a
 * large mean does not swamp it), saved statistics and running estimates. */
__kernel void bn_stats(const int n, const int c, const int hw, __global const float *x,
                       __global float *save_mean, __global float *save_invstd,
                       __global float *running_mean, __global float *running_var,
                       const float momentum, const float eps)
{
    __local float part[WG_MAX];
    const int ch = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    const int m = n * hw;

    float s = 0.0f, comp = 0.0f;
    for (int i = lid; i < m; i += wg)
        kahan_add(&s, &comp, x[at(i, ch, c, hw)]);
    part[lid] = s;
    tree_sum(part, part, 0);
    const float mean = part[0] / (float)m;
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read part[0] before it is reused */

    s = 0.0f;
    comp = 0.0f;
    for (int i = lid; i < m; i += wg) {
        const float d = x[at(i, ch, c, hw)] - mean;
        kahan_add(&s, &comp, d * d);
    }
    part[lid] = s;
    tree_sum(part, part, 0);
    if (lid == 0) {
        const float var = part[0] / (float)m;
        /* M == 1 has no unbiased estimate; the biased one (0) is used. */
        const float unbiased = m > 1 ? var * ((float)m / (float)(m - 1)) : var;
        save_mean[ch] = mean;
        save_invstd[ch] = 1.0f / sqrt(var + eps);
        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
    }
}

/* y = (x - mean) * invstd * gamma + beta with the batch statistics. */
__kernel void bn_apply(const int total, const int c, const int hw, __global float *y,
                       __global const float *x, __global const float *mean,
                       __global const float *invstd, __global const float *gamma,
                       __global const float *beta)
{
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ch = (i / hw) % c;
    y[i] = (x[i] - mean[ch]) * invstd[ch] * gamma[ch] + beta[ch];
}

/* Evaluation: the same with the running estimates. */
__kernel void bn_eval(const int total, const int c, const int hw, __global float *y,
                      __global const float *x, __global const float *gamma,
                      __global const float *beta, __global const float *running_mean,
                      __global const float *running_var, const float eps)
{
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ch = (i / hw) % c;
    const float invstd = 1.0f / sqrt(running_var[ch] + eps);
    y[i] = (x[i] - running_mean[ch]) * invstd * gamma[ch] + beta[ch];
}

/* One work-group per channel: sum(dy) and sum(dy * xhat) into sums (2 per
 * channel) for bn_backward_dx, and added to dbeta and dgamma. */
__kernel void bn_backward_reduce(const int n, const int c, const int hw, __global const float *dy,
                                 __global const float *x, __global const float *mean,
                                 __global const float *invstd, __global float *sums,
                                 __global float *dgamma, __global float *dbeta)
{
    __local float pa[WG_MAX], pb[WG_MAX];
    const int ch = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    const int m = n * hw;
    const float mu = mean[ch], is = invstd[ch];
    float sa = 0.0f, ca = 0.0f, sb = 0.0f, cb = 0.0f;
    for (int i = lid; i < m; i += wg) {
        const int k = at(i, ch, c, hw);
        const float g = dy[k];
        kahan_add(&sa, &ca, g);
        kahan_add(&sb, &cb, g * ((x[k] - mu) * is));
    }
    pa[lid] = sa;
    pb[lid] = sb;
    tree_sum(pa, pb, 1);
    if (lid == 0) {
        sums[2 * ch] = pa[0];
        sums[2 * ch + 1] = pb[0];
        dbeta[ch] += pa[0];
        dgamma[ch] += pb[0];
    }
}

/* dx = gamma * invstd * (dy - sum(dy)/M - xhat * sum(dy*xhat)/M): the usual
 * gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) with the 1/M taken
 * first, so M*dy never grows large. */
__kernel void bn_backward_dx(const int total, const int c, const int hw, const int m,
                             __global float *dx, __global const float *dy, __global const float *x,
                             __global const float *mean, __global const float *invstd,
                             __global const float *gamma, __global const float *sums)
{
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ch = (i / hw) % c;
    const float is = invstd[ch];
    const float xhat = (x[i] - mean[ch]) * is;
    const float mdy = sums[2 * ch] / (float)m, mdyx = sums[2 * ch + 1] / (float)m;
    dx[i] = gamma[ch] * is * (dy[i] - mdy - xhat * mdyx);
}
