/* Losses: one work-group per sample row, the row's items striding over the K
 * classes; the formulas and their gradients are derived in lib/ref/loss.c.
 * Each pass over the row recomputes what it needs from global memory rather
 * than keeping (K) values per row, and every reduction works on four sums at
 * once so a pass costs one log2(local size) tree.
 * The local size must be a power of two; red holds one float4 per item.
 * Logits are shifted by the row maximum before exp, so logits of 1e4 are
 * fine; p*log(p) is exp(logp)*logp, 0 where p underflows.
 *
 * On a GPU: a work-group owns one sample (a row of K logits), at least 32
 * work-items on GPUs, a power of two up to 256 and the kernel's limit; items
 * stride over the row's classes, neighbours on neighbouring floats. Local
 * memory: one float4 per work-item. */

/* Sum (or maximum) of v over the work-group, returned to every item. */
float4 wg_sum4(float4 v, __local float4 *red)
{
    const int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float4 r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* red is reused by the next reduction */
    return r;
}

float4 wg_max4(float4 v, __local float4 *red)
{
    const int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            red[lid] = fmax(red[lid], red[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float4 r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* A label outside [0, K): NaN loss, zero gradient and multi-warm label.
 * Every item of the group returns together, so no barrier is left waiting. */
void bad_label(const int row, const int k, __global float *loss, __global float *dz,
               __global float *mw, const int want_loss, const int want_grad, const int want_mw)
{
    const int lid = get_local_id(0), ls = get_local_size(0);
    if (want_loss && lid == 0)
        loss[row] = NAN;
    for (int j = lid; j < k; j += ls) {
        if (want_grad)
            dz[(size_t)row * k + j] = 0.0f;
        if (want_mw)
            mw[(size_t)row * k + j] = 0.0f;
    }
}

/* Cross-entropy with target t = (1-eps) onehot + eps/K (eps = 0: plain CE).
 * L = -(1-eps) logp_y - eps/K sum_j logp_j;  dL/dz = p - t. */
__kernel void loss_ce(const int n, const int k, const float eps, const float inv_n,
                      __global const float *z, __global const int *labels, __global float *loss,
                      __global float *dz, const int want_loss, const int want_grad,
                      __local float4 *red)
{
    const int row = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    if (row >= n)
        return;
    const int y = labels[row];
    if (y < 0 || y >= k) {
        bad_label(row, k, loss, dz, dz, want_loss, want_grad, 0);
        return;
    }
    __global const float *zr = z + (size_t)row * k;

    float4 acc = (float4)(-INFINITY);
    for (int j = lid; j < k; j += ls)
        acc.x = fmax(acc.x, zr[j]);
    const float m = wg_max4(acc, red).x;

    acc = (float4)(0.0f); /* x: sum exp(z - m), y: sum logp (for eps) */
    for (int j = lid; j < k; j += ls)
        acc.x += exp(zr[j] - m);
    const float log_s = log(wg_sum4(acc, red).x);

    acc = (float4)(0.0f);
    if (eps != 0.0f)
        for (int j = lid; j < k; j += ls)
            acc.y += zr[j] - m - log_s;
    const float sum_logp = eps != 0.0f ? wg_sum4(acc, red).y : 0.0f;

    if (want_loss && lid == 0)
        loss[row] = -(1.0f - eps) * (zr[y] - m - log_s) - eps / k * sum_logp;
    if (want_grad)
        for (int j = lid; j < k; j += ls) {
            const float t = (j == y ? 1.0f - eps : 0.0f) + eps / k;
            dz[(size_t)row * k + j] = inv_n * (exp(zr[j] - m - log_s) - t);
        }
}

/* Knowledge distillation: L = (1-w) CE(z, y) + w T^2 KL(pt || ps),
 * ps = softmax(z/T), pt = softmax(zt/T); dL/dz = (1-w)(p - onehot) + w T (ps - pt). */
__kernel void loss_kd(const int n, const int k, const float temp, const float w,
                      const float inv_n, __global const float *z, __global const float *zt,
                      __global const int *labels, __global float *loss, __global float *dz,
                      const int want_loss, const int want_grad, __local float4 *red)
{
    const int row = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    if (row >= n)
        return;
    const int y = labels[row];
    if (y < 0 || y >= k) {
        bad_label(row, k, loss, dz, dz, want_loss, want_grad, 0);
        return;
    }
    __global const float *zr = z + (size_t)row * k;
    __global const float *tr = zt + (size_t)row * k;

    float4 acc = (float4)(-INFINITY);
    for (int j = lid; j < k; j += ls) {
        acc.x = fmax(acc.x, zr[j]);
        acc.y = fmax(acc.y, tr[j]);
    }
    acc = wg_max4(acc, red);
    const float m = acc.x, mt = acc.y;

    /* max(z/T) = m/T for T > 0, so (z - m)/T is the shifted z/T */
    acc = (float4)(0.0f);
    for (int j = lid; j < k; j += ls) {
        acc.x += exp(zr[j] - m);
        acc.y += exp((zr[j] - m) / temp);
        acc.z += exp((tr[j] - mt) / temp);
    }
    acc = wg_sum4(acc, red);
    const float log_s = log(acc.x), log_ss = log(acc.y), log_st = log(acc.z);

    acc = (float4)(0.0f);
    for (int j = lid; j < k; j += ls) {
        const float logpt = (tr[j] - mt) / temp - log_st, logps = (zr[j] - m) / temp - log_ss;
        acc.x += exp(logpt) * (logpt - logps);
    }
    const float kl = wg_sum4(acc, red).x;

    if (want_loss && lid == 0)
        loss[row] = (1.0f - w) * (log_s - (zr[y] - m)) + w * temp * temp * kl;
    if (want_grad)
        for (int j = lid; j < k; j += ls) {
            const float p = exp(zr[j] - m - log_s);
            const float ps = exp((zr[j] - m) / temp - log_ss);
            const float pt = exp((tr[j] - mt) / temp - log_st);
            dz[(size_t)row * k + j] =
                inv_n * ((1.0f - w) * (p - (j == y ? 1.0f : 0.0f)) + w * temp * (ps - pt));
        }
}

/* The focus-picking loss (paper Eq. 4-12), gradient as in lib/ref/loss.c:
 * dL/dz = g + [!detach] p*(g - <p,g>) + alpha (p - l) + beta p*(logp + H),
 * g = softmax(z + d) - t, d = p - pb. u = z + d is shifted by m = max z: since
 * |d| <= 1, u - m <= 1 and the largest u - m >= -1, so the sum of exp(u - m)
 * neither overflows nor underflows. */
__kernel void loss_focus(const int n, const int k, const float alpha, const float beta,
                         const float eps, const int detach, const int rule_softmax,
                         const float rule_t, const float inv_n, __global const float *z,
                         __global const float *zb, __global const int *labels,
                         __global float *loss, __global float *dz, __global float *mw,
                         const int want_loss, const int want_grad, const int want_mw,
                         __local float4 *red)
{
    const int row = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
    if (row >= n)
        return;
    const int y = labels[row];
    if (y < 0 || y >= k) {
        bad_label(row, k, loss, dz, mw, want_loss, want_grad, want_mw);
        return;
    }
    __global const float *zr = z + (size_t)row * k;
    __global const float *br = zb + (size_t)row * k;

    float4 acc = (float4)(-INFINITY);
    for (int j = lid; j < k; j += ls) {
        acc.x = fmax(acc.x, zr[j]);
        acc.y = fmax(acc.y, br[j]);
    }
    acc = wg_max4(acc, red);
    const float m = acc.x, mb = acc.y;

    acc = (float4)(0.0f); /* sum exp(z - m), sum exp(zb - mb), sum exp((zb - mb)/T) */
    for (int j = lid; j < k; j += ls) {
        acc.x += exp(zr[j] - m);
        acc.y += exp(br[j] - mb);
        if (rule_softmax)
            acc.z += exp((br[j] - mb) / rule_t);
    }
    acc = wg_sum4(acc, red);
    const float log_s = log(acc.x), log_sb = log(acc.y), sum_t = acc.z;

/* The multi-warm label before normalization, l'' = min(1, [warm] + onehot). */
#define WARM(j)                                                                                    \
    ((j) == y || (rule_softmax ? exp((br[j] - mb) / rule_t) * k > sum_t : br[j] > 0.0f))

    /* x: sum exp(u - m), y: count of l'', z: sum l'' logp, w: sum p logp = -H */
    acc = (float4)(0.0f);
    for (int j = lid; j < k; j += ls) {
        const float logp = zr[j] - m - log_s, p = exp(logp);
        const float d = p - exp(br[j] - mb - log_sb);
        acc.x += exp(zr[j] - m + d);
        if (WARM(j)) {
            acc.y += 1.0f;
            acc.z += logp;
        }
        acc.w += p * logp;
    }
    acc = wg_sum4(acc, red);
    const float log_su = log(acc.x), count = acc.y, r_att = -acc.z / count, neg_h = acc.w;

    /* x: sum log q (for eps), y: <p, q> (for the path through d) */
    acc = (float4)(0.0f);
    if (eps != 0.0f || (want_grad && !detach)) {
        for (int j = lid; j < k; j += ls) {
            const float p = exp(zr[j] - m - log_s);
            const float logq = zr[j] - m + (p - exp(br[j] - mb - log_sb)) - log_su;
            acc.x += logq;
            acc.y += p * exp(logq);
        }
        acc = wg_sum4(acc, red);
    }
    const float p_y = exp(zr[y] - m - log_s);
    const float logq_y = zr[y] - m + (p_y - exp(br[y] - mb - log_sb)) - log_su;

    if (want_loss && lid == 0) {
        const float l_cls = -(1.0f - eps) * logq_y - eps / k * acc.x;
        loss[row] = l_cls + alpha * r_att + beta * neg_h; /* - beta * H */
    }
    const float p_dot_g = acc.y - (1.0f - eps) * p_y - eps / k;
    for (int j = lid; j < k; j += ls) {
        const float l = WARM(j) ? 1.0f / count : 0.0f;
        if (want_mw)
            mw[(size_t)row * k + j] = l;
        if (!want_grad)
            continue;
        const float logp = zr[j] - m - log_s, p = exp(logp);
        const float t = (j == y ? 1.0f - eps : 0.0f) + eps / k;
        const float g = exp(zr[j] - m + (p - exp(br[j] - mb - log_sb)) - log_su) - t;
        float grad = g + alpha * (p - l) + beta * p * (logp - neg_h);
        if (!detach)
            grad += p * (g - p_dot_g);
        dz[(size_t)row * k + j] = inv_n * grad;
    }
#undef WARM
}
