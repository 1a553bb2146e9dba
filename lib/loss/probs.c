/* Probabilities of one image's logits on the host, for applications and the
 * plain-C twins: the softmax the CLI, the viewer and CAM captions print, and
 * the multi-warm rule (paper Eq. 4-6) that the focus loss applies on the
 * device (kernels/loss.cl) and lib/ref/loss.c checks it against. Written once
 * here so that every tool shows the same numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"

void fn_softmax(const float *z, int k, float *p)
{
    if (k < 1) return;
    /* In double via the maximum, so logits of 1e4 stay finite. */
    double mx = z[0], sum = 0;
    for (int j = 1; j < k; j++)
        mx = fmax(mx, z[j]);
    for (int j = 0; j < k; j++)
        sum += p[j] = (float)exp(z[j] - mx);
    for (int j = 0; j < k; j++)
        p[j] = (float)(p[j] / sum);
}

int fn_multiwarm_label(const float *logits, int k, int true_class, fn_multiwarm_rule rule,
                       float temperature, float *label)
{
    /* softmax(z / T)_j > 1/K  <=>  z_j / T - lse(z / T) > -log K */
    double lse = 0;
    if (rule == FN_MULTIWARM_SOFTMAX) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < k; j++)
            mx = fmax(mx, logits[j] / temperature);
        for (int j = 0; j < k; j++)
            s += exp(logits[j] / temperature - mx);
        lse = mx + log(s);
    }
    int count = 0;
    for (int j = 0; j < k; j++) {
        int warm = rule == FN_MULTIWARM_SOFTMAX ? exp(logits[j] / temperature - lse) * k > 1.0
                                                : logits[j] > 0;
        label[j] = (warm || j == true_class) ? 1.0f : 0.0f; /* l'' = min(1, l' + y) */
        count += label[j] > 0;
    }
    for (int j = 0; count && j < k; j++)
        label[j] /= (float)count;
    return count;
}

fn_status fn_multiwarm_counts(const float *logits, const int *labels, int n, int k,
                              fn_multiwarm_rule rule, float temperature, int64_t *counts,
                              uint8_t *warm)
{
    if (n < 0 || k < 1 || (n > 0 && (!logits || !labels)) || !counts)
        return fn_error(FN_ERR_ARG, "multi-warm counts: bad shape N=%d K=%d", n, k);
    /* Checked first, so that a bad label leaves counts as they were. */
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return fn_error(FN_ERR_ARG, "multi-warm counts: image %d has label %d, not in [0, %d)",
                            i, labels[i], k);
    float *label = malloc(sizeof(float) * (size_t)k);
    if (!label) return fn_error(FN_ERR_NOMEM, "multi-warm counts: out of memory");
    memset(counts, 0, sizeof(int64_t) * (size_t)k * k);
    for (int i = 0; i < n; i++) {
        fn_multiwarm_label(logits + (size_t)i * k, k, labels[i], rule, temperature, label);
        for (int j = 0; j < k; j++) {
            counts[(size_t)labels[i] * k + j] += label[j] > 0;
            if (warm) warm[(size_t)i * k + j] = label[j] > 0;
        }
    }
    free(label);
    return FN_OK;
}
