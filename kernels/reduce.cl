/* Sum of n floats and a count of the non-finite ones, in two stages:
 * reduce_partial leaves one (sum, count) pair per work-group in `part`,
 * reduce_final folds those with a single work-group into out[0], out[1].
 * Work-groups are a power of two no larger than 256 (the host makes sure).
 *
 * On a GPU: reduce_partial: a work-group (the kernel's
 * CL_KERNEL_WORK_GROUP_SIZE, at most 256) owns a strided share of x, each
 * work-item strides by the global size so neighbouring items read
 * neighbouring floats; reduce_final: one work-group sums the partials. Local
 * memory: one float per work-item (two with the count). */
#define WG_MAX 256

/* Kahan step that stays IEEE-like once the sum is not finite: the compensation
 * of inf - inf would be NaN and poison a sum that should read +inf. */
inline void kahan_add(float *s, float *c, const float v)
{
    const float y = v - *c;
    const float t = *s + y;
    *c = isfinite(t) ? (t - *s) - y : 0.0f;
    *s = t;
}

/* Tree reduction of sum[] and cnt[] in local memory; the result lands in [0]. */
inline void tree_reduce(__local float *sum, __local float *cnt)
{
    const int lid = get_local_id(0);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            sum[lid] += sum[lid + s];
            cnt[lid] += cnt[lid + s];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* One work-group's (sum, non-finite count) of x[i], or of x[i]^2 when
 * square, into pair `slot` of part (sum and cnt: the kernel's local
 * arrays). */
inline void partial_pair(const int n, __global const float *x, __global float *part,
                         const int slot, const int square, __local float *sum,
                         __local float *cnt)
{
    const int lid = get_local_id(0);
    float s = 0.0f, c = 0.0f;
    uint bad = 0;
    /* Grid-stride loop: neighbouring items read neighbouring floats. */
    const int stride = get_global_size(0);
    for (int i = get_global_id(0); i < n; i += stride) {
        const float v = x[i];
        bad += isfinite(v) ? 0u : 1u;
        kahan_add(&s, &c, square ? v * v : v);
    }
    sum[lid] = s;
    cnt[lid] = (float)bad;
    tree_reduce(sum, cnt);
    if (lid == 0) {
        part[2 * slot] = sum[0];
        part[2 * slot + 1] = cnt[0];
    }
}

__kernel void reduce_partial(const int n, __global const float *x, __global float *part)
{
    __local float sum[WG_MAX], cnt[WG_MAX];
    partial_pair(n, x, part, get_group_id(0), 0, sum, cnt);
}

/* One work-group over the `groups` pairs that reduce_partial wrote. */
__kernel void reduce_final(const int groups, __global const float *part, __global float *out)
{
    __local float sum[WG_MAX], cnt[WG_MAX];
    const int lid = get_local_id(0);
    float s = 0.0f, c = 0.0f, k = 0.0f;
    for (int g = lid; g < groups; g += get_local_size(0)) {
        kahan_add(&s, &c, part[2 * g]);
        k += part[2 * g + 1];
    }
    sum[lid] = s;
    cnt[lid] = k;
    tree_reduce(sum, cnt);
    if (lid == 0) {
        out[0] = sum[0];
        out[1] = cnt[0];
    }
}

/* Sum of squares of one tensor of many (fn_reduce_sumsq): as reduce_partial
 * but over x[i]^2, its (sum, count) pair per work-group at pair `first` + the
 * group's id, so that the tensors' partials sit side by side and one
 * reduce_final folds them all. A non-finite x[i] counts (its square alone
 * could overflow a finite value to inf, which is then the sum, as in
 * torch's norm). */
__kernel void sumsq_partial(const int n, __global const float *x, __global float *part,
                            const int first)
{
    __local float sum[WG_MAX], cnt[WG_MAX];
    partial_pair(n, x, part, first + get_group_id(0), 1, sum, cnt);
}
