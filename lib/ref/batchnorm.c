#include <math.h>

#include "ref.h"

/* x, y (N, C, HW); gamma, beta, running_mean, running_var, save_mean,
 * save_invstd (C). Statistics per channel over the M = N*HW values, in double.
 * var is biased (divides by M); the running variance takes the unbiased one,
 * var * M / (M - 1), except for M == 1 where it takes var itself (0). */
void fn_ref_batchnorm_forward_train(float *y, float *save_mean, float *save_invstd, const float *x,
                                    const float *gamma, const float *beta, float *running_mean,
                                    float *running_var, int n, int c, int hw, float momentum,
                                    float eps)
{
    int m = n * hw;
    for (int ch = 0; ch < c; ch++) {
        double sum = 0;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < hw; j++)
                sum += x[(b * c + ch) * hw + j];
        double mean = sum / m;
        double sq = 0;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < hw; j++) {
                double d = x[(b * c + ch) * hw + j] - mean;
                sq += d * d;
            }
        double var = sq / m;
        double unbiased = m > 1 ? var * m / (m - 1) : var;

        float mu = (float)mean, is = (float)(1.0 / sqrt(var + eps));
        save_mean[ch] = mu;
        save_invstd[ch] = is;
        running_mean[ch] = (1 - momentum) * running_mean[ch] + momentum * (float)mean;
        running_var[ch] = (1 - momentum) * running_var[ch] + momentum * (float)unbiased;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < hw; j++) {
                int i = (b * c + ch) * hw + j;
                y[i] = (x[i] - mu) * is * gamma[ch] + beta[ch];
            }
    }
}

/* y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta */
void fn_ref_batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int n,
                                   int c, int hw, float eps)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            float is = (float)(1.0 / sqrt((double)running_var[ch] + eps));
            for (int j = 0; j < hw; j++) {
                int i = (b * c + ch) * hw + j;
                y[i] = (x[i] - running_mean[ch]) * is * gamma[ch] + beta[ch];
            }
        }
}

/* With xhat = (x - mean) * invstd, per channel:
 *   dbeta  += sum(dy)            dgamma += sum(dy * xhat)
 *   dx      = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
 * dx (N, C, HW) is overwritten unless NULL. */
void fn_ref_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *save_mean, const float *save_invstd,
                               const float *gamma, int n, int c, int hw)
{
    int m = n * hw;
    for (int ch = 0; ch < c; ch++) {
        double mu = save_mean[ch], is = save_invstd[ch];
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < hw; j++) {
                int i = (b * c + ch) * hw + j;
                sum_dy += dy[i];
                sum_dy_xhat += dy[i] * ((x[i] - mu) * is);
            }
        dbeta[ch] += (float)sum_dy;
        dgamma[ch] += (float)sum_dy_xhat;
        if (!dx) continue;
        for (int b = 0; b < n; b++)
            for (int j = 0; j < hw; j++) {
                int i = (b * c + ch) * hw + j;
                double xhat = (x[i] - mu) * is;
                dx[i] =
                    (float)(gamma[ch] * is / m * (m * (double)dy[i] - sum_dy - xhat * sum_dy_xhat));
            }
    }
}
