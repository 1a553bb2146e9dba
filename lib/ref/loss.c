/* The losses of lib/loss/loss.h in plain C, one sample (row) at a time, in
 * double. Notation for a row: z (K) logits, y the label, p = softmax(z),
 * logp = log_softmax(z) = z - lse(z), with lse(z) = m + log sum exp(z - m),
 * m = max z, so logits of 1e4 stay finite. p*log(p) is always formed as
 * exp(logp)*logp, which is 0 (not NaN) where p underflows.
 *
 * Gradients, per row, before the 1/N of the batch mean:
 *
 *   CE / LS   L = -sum_j t_j logp_j, t = (1-eps) onehot(y) + eps/K (eps = 0: CE)
 *             dL/dz = p - t                                  (sum t = 1)
 *
 *   KD        L = (1-w) CE(z, y) + w T^2 KL(pt || ps), ps = softmax(z/T),
 *             pt = softmax(z_t/T), KL = sum_j pt_j (log pt_j - log ps_j)
 *             dKL/dz = (ps - pt)/T, so dL/dz = (1-w)(p - onehot) + w T (ps - pt)
 *
 *   Focus     pb = softmax(z_b), d = p - pb, u = z + d, q = softmax(u),
 *             t = (1-eps) onehot(y) + eps/K (eps = cls_smoothing),
 *             l = the multi-warm label (Eq. 4-6), constant in z.
 *             L_cls = -sum_j t_j log q_j            (Eq. 9)
 *             R_att = -sum_j l_j logp_j             (Eq. 10)
 *             R_ent = H = -sum_j p_j logp_j         (Eq. 11)
 *             L = L_cls + alpha R_att - beta R_ent  (Eq. 12)
 *
 *     With J = dp/dz = diag(p) - p p^T (symmetric), J v = p * (v - <p, v>):
 *     dL_cls/du = q - t =: g.  u = z + p - pb, so du/dz = I + J and
 *       dL_cls/dz = g + J g = g + p * (g - <p, g>)     (the second term is the
 *       path through d; detach_d drops it, keeping dL_cls/dz = g)
 *       <p, g> = sum_j p_j q_j - (1-eps) p_y - eps/K.
 *     dR_att/dz = p - l                                  (sum l = 1; Eq. 14)
 *     dH/dz_k = -sum_j J_jk (logp_j + 1) = -p_k (logp_k + H)
 *       so d(-beta H)/dz = beta p * (logp + H).
 *     dL/dz = g + [!detach_d] p*(g - <p,g>) + alpha (p - l) + beta p*(logp + H).
 *
 * A label outside [0, K) gives a NaN loss and a zero gradient (as the device). */
#include <math.h>
#include <stdlib.h>

#include "../loss/loss.h"

/* lse(x / T) over k entries, via the maximum. */
static double lse_scaled(const float *x, int k, double t)
{
    double m = -INFINITY, s = 0;
    for (int j = 0; j < k; j++)
        m = fmax(m, x[j] / t);
    for (int j = 0; j < k; j++)
        s += exp(x[j] / t - m);
    return m + log(s);
}

/* The multi-warm label of one row (Eq. 4-6): l (K) sums to 1. The rule
 * itself is the library's one (fn_multiwarm_label, which the viewer and CAM
 * also use), so it is written once; the kernel in kernels/loss.cl is checked
 * against it through this twin. Normalized here in double, as the rest of the
 * row. mask (K) is scratch. */
static void multiwarm_row(const fn_loss_opts *o, double *l, float *mask, const float *zb, int y,
                          int k)
{
    int count = fn_multiwarm_label(zb, k, y, o->rule, o->rule_temperature, mask);
    for (int j = 0; j < k; j++)
        l[j] = mask[j] > 0 ? 1.0 / count : 0.0;
}

/* CE (eps = 0) and LS: returns L, adds dL/dz * scale into g (K) unless NULL. */
static double ce_row(double eps, const float *z, int y, int k, double scale, double *g)
{
    double lse = lse_scaled(z, k, 1.0), loss = 0;
    for (int j = 0; j < k; j++) {
        double t = (1 - eps) * (j == y) + eps / k;
        loss -= t * (z[j] - lse);
        if (g) g[j] = scale * (exp(z[j] - lse) - t);
    }
    return loss;
}

static double kd_row(const fn_loss_opts *o, const float *z, const float *zt, int y, int k,
                     double scale, double *g)
{
    double T = o->kd_temperature, w = o->kd_weight;
    double lse = lse_scaled(z, k, 1.0), lse_s = lse_scaled(z, k, T), lse_t = lse_scaled(zt, k, T);
    double kl = 0;
    for (int j = 0; j < k; j++) {
        double logpt = zt[j] / T - lse_t, logps = z[j] / T - lse_s;
        kl += exp(logpt) * (logpt - logps);
        if (g)
            g[j] = scale *
                   ((1 - w) * (exp(z[j] - lse) - (j == y)) + w * T * (exp(logps) - exp(logpt)));
    }
    return (1 - w) * (lse - z[y]) + w * T * T * kl;
}

static double focus_row(const fn_loss_opts *o, const float *z, const float *zb, int y, int k,
                        double scale, double *g, double *l, double *u, float *mask)
{
    double eps = o->cls_smoothing;
    double lse = lse_scaled(z, k, 1.0), lse_b = lse_scaled(zb, k, 1.0);
    multiwarm_row(o, l, mask, zb, y, k);
    /* u = z + d, d = softmax(z) - softmax(z_b) (Eq. 7-8) */
    double mu = -INFINITY, su = 0;
    for (int j = 0; j < k; j++) {
        u[j] = z[j] + (exp(z[j] - lse) - exp(zb[j] - lse_b));
        mu = fmax(mu, u[j]);
    }
    for (int j = 0; j < k; j++)
        su += exp(u[j] - mu);
    double lse_u = mu + log(su);
    double l_cls = 0, r_att = 0, r_ent = 0, p_dot_q = 0;
    for (int j = 0; j < k; j++) {
        double t = (1 - eps) * (j == y) + eps / k;
        double logp = z[j] - lse, logq = u[j] - lse_u;
        l_cls -= t * logq;
        r_att -= l[j] * logp;
        r_ent -= exp(logp) * logp;
        p_dot_q += exp(logp) * exp(logq);
    }
    if (g) {
        double p_dot_g = p_dot_q - (1 - eps) * exp(z[y] - lse) - eps / k; /* <p, q - t> */
        for (int j = 0; j < k; j++) {
            double t = (1 - eps) * (j == y) + eps / k;
            double logp = z[j] - lse, p = exp(logp);
            double gu = exp(u[j] - lse_u) - t;
            double d = gu;
            if (!o->detach_d) d += p * (gu - p_dot_g);
            d += o->alpha * (p - l[j]) + o->beta * p * (logp + r_ent);
            g[j] = scale * d;
        }
    }
    return l_cls + o->alpha * r_att - o->beta * r_ent;
}

void fn_ref_loss_compute(const fn_loss_opts *o, float *loss, float *dlogits, float *multiwarm,
                         const float *logits, const int32_t *labels, const float *ref_logits, int n,
                         int k)
{
    double *g = malloc(3 * (size_t)k * sizeof *g), *l = g + k, *u = l + k;
    float *mask = malloc((size_t)k * sizeof *mask);
    if (!g || !mask) {
        free(g);
        free(mask);
        return;
    }
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k; /* row i of (N, K) */
        const float *zr = ref_logits ? ref_logits + (size_t)i * k : NULL;
        int y = labels[i];
        double *gi = dlogits ? g : NULL, value;
        if (y < 0 || y >= k) {
            value = NAN;
            for (int j = 0; j < k; j++)
                g[j] = l[j] = 0;
        } else if (o->kind == FN_LOSS_KD) {
            value = kd_row(o, z, zr, y, k, 1.0 / n, gi);
        } else if (o->kind == FN_LOSS_FOCUS) {
            value = focus_row(o, z, zr, y, k, 1.0 / n, gi, l, u, mask);
        } else {
            double eps = o->kind == FN_LOSS_LS ? o->smoothing : 0.0;
            value = ce_row(eps, z, y, k, 1.0 / n, gi);
        }
        if (loss) loss[i] = (float)value;
        for (int j = 0; j < k; j++) {
            if (dlogits) dlogits[(size_t)i * k + j] = (float)g[j];
            if (multiwarm && o->kind == FN_LOSS_FOCUS) multiwarm[(size_t)i * k + j] = (float)l[j];
        }
    }
    free(g);
    free(mask);
}
