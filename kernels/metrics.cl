/* Per-step training statistics accumulated on the device, so that the step
 * loop needs no read-back: stats += {sum loss, correct, non-finite, samples}.
 * One work-item: a batch is at most a few thousand logits.
 *
 * On a GPU: batch_stats: ONE work-item sums the batch's loss and correct
 * predictions (n rows of K logits), once per step; tests/test_gpu_step.c
 * lists it as the one GPU launch allowed a group under 32 items: it is a
 * single item, and a parallel reduction over n <= a few hundred rows would
 * cost more launches than it saves. */
__kernel void batch_stats(__global float *stats, __global const float *logits,
                          __global const int *labels, __global const float *loss, const int n,
                          const int k)
{
    if (get_global_id(0) != 0)
        return;
    float sum = 0.0f, correct = 0.0f, bad = 0.0f;
    for (int i = 0; i < n; i++) {
        const float l = loss[i];
        if (isfinite(l))
            sum += l;
        else
            bad += 1.0f;
        __global const float *z = logits + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[best])
                best = j;
        correct += best == labels[i] ? 1.0f : 0.0f;
    }
    stats[0] += sum;
    stats[1] += correct;
    stats[2] += bad;
    stats[3] += (float)n;
}
