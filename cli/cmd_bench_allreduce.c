/* focusnet bench allreduce: what data parallelism adds to a training step,
 * for one model's gradients: reading them from the device to host memory
 * (fn_trainer_grads_read), summing them over the ranks (one fused
 * MPI_Allreduce, under mpirun) and writing them back (fn_trainer_grads_write).
 * Then whole gradient steps on a global batch (forward and backward of this
 * rank's shard, no update): without communication, with one blocking sum
 * after backward, and with fn_train's buckets summed while backward goes
 * on; the difference says how much of the sum backward hides. Without
 * mpirun only the staging and the compute are timed. Rank 0 prints the
 * medians. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

typedef struct {
    fn_device *dev;
    fn_model *m;
    fn_trainer *t;
    fn_parallel *p;
    float *host, *x;
    int32_t *y;
    int batch; /* global */
} bench;

/* Forward + backward of the shard alone (0), with the blocking sum (1), with
 * the overlapped buckets (2); each after a barrier, so that a rank still
 * busy is not timed as communication. */
static fn_status steps(bench *b, const fn_comm *comm, int reps, double *ms)
{
    int ranks = comm ? comm->size(comm) : 1, shard = b->batch / ranks;
    for (int r = -1; r < reps; r++)
        for (int way = 0; way < 3; way++) {
            if (comm) BENCH_TRY(comm->barrier(comm));
            double t0 = now_ms();
            if (way == 0)
                BENCH_TRY(fn_trainer_grads(b->t, b->x, b->y, shard));
            else
                BENCH_TRY(fn_parallel_grads(b->p, b->x, b->y, b->batch, way == 2));
            BENCH_TRY(fn_finish(b->dev));
            if (r >= 0) ms[way * reps + r] = now_ms() - t0;
        }
    return FN_OK;
}

static fn_status run(bench *b, const fn_comm *comm, int reps, double *ms)
{
    size_t n = fn_trainer_grad_count(b->t);
    if (!(b->host = calloc(n, sizeof *b->host))) return bench_oom();
    for (int r = -1; r < reps; r++) { /* r = -1: a warm-up round */
        double t0 = now_ms();
        BENCH_TRY(fn_trainer_grads_read(b->t, b->host));
        /* The allreduce alone, not the wait for a rank still reading. */
        if (comm) BENCH_TRY(comm->barrier(comm));
        double t1 = now_ms();
        if (comm) BENCH_TRY(comm->allreduce_f32(comm, b->host, n));
        double t2 = now_ms();
        BENCH_TRY(fn_trainer_grads_write(b->t, b->host));
        BENCH_TRY(fn_finish(b->dev));
        double t3 = now_ms();
        if (r < 0) continue;
        ms[r] = t1 - t0;
        ms[reps + r] = t2 - t1;
        ms[2 * reps + r] = t3 - t2;
    }
    return FN_OK;
}

int bench_allreduce(int argc, char **argv)
{
    cli_opt opts[] = {{"model", "NAME", "whose gradients (lenet5)", NULL},
                      {"size", "HxW", "input size, for the model's shapes (32x32)", NULL},
                      {"classes", "K", "classes (10)", NULL},
                      {"reps", "N", "timed rounds (20)", NULL},
                      {"batch", "N", "global batch of the timed steps (2 per rank)", NULL},
                      {"bucket-mb", "MB", "gradient bucket size (4)", NULL},
                      {"device", "N|NAME", "OpenCL device", NULL},
                      {NULL, NULL, NULL, NULL}};
    const char *pos[1];
    int n_pos, rc = cli_parse("bench allreduce", "[options]", opts, argc, argv, pos, 0, &n_pos);
    if (rc) return rc < 0 ? 0 : rc;
    long reps = 20, k = 10;
    if ((rc = cli_int("bench allreduce", opts, "reps", 1, 100000, &reps))) return rc;
    if ((rc = cli_int("bench allreduce", opts, "classes", 2, 100000, &k))) return rc;
    long batch = 0;
    double bucket_mb = 4;
    if ((rc = cli_int("bench allreduce", opts, "batch", 1, 65536, &batch))) return rc;
    if ((rc = cli_float("bench allreduce", opts, "bucket-mb", 0.001, 4096, &bucket_mb))) return rc;
    int h = 32, w = 32;
    const char *size = cli_get(opts, "size");
    if (size && (sscanf(size, "%dx%d", &h, &w) != 2 || h < 8 || w < 8 || h > 1024 || w > 1024)) {
        fprintf(stderr,
                "focusnet bench allreduce: option '--size' takes HxW like 32x32, not "
                "'%s'\n",
                size);
        return EXIT_USAGE;
    }
    const char *arch = cli_get(opts, "model") ? cli_get(opts, "model") : "lenet5";
    const fn_comm *comm = cli_comm_open();
    int rank = comm ? comm->rank(comm) : 0, ranks = comm ? comm->size(comm) : 1;
    bench b = {0};
    b.batch = batch ? (int)batch : 2 * ranks;
    if (b.batch % ranks) {
        if (rank == 0)
            fprintf(stderr,
                    "focusnet bench allreduce: --batch %d does not split into %d equal shards\n",
                    b.batch, ranks);
        cli_comm_close(comm, 0);
        return EXIT_USAGE;
    }
    fn_model_config mc;
    double *ms = calloc(6 * (size_t)reps, sizeof *ms);
    fn_status st = ms ? FN_OK : bench_oom();
    if (st == FN_OK)
        st = fn_model_config_default(&mc, arch, (int)k, strcmp(arch, "lenet5") ? 3 : 1, h, w);
    if (st == FN_OK) st = fn_device_open(cli_get(opts, "device"), &b.dev);
    if (st == FN_OK) st = fn_model_create(b.dev, &mc, b.batch / ranks, 1, &b.m);
    if (st == FN_OK) st = fn_model_init(b.m, 1);
    fn_loss_opts lo;
    fn_sgd_opts so;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_sgd_opts_default(&so);
    if (st == FN_OK) st = fn_trainer_create(b.m, NULL, &lo, &so, &b.t);
    if (st == FN_OK) st = run(&b, comm, (int)reps, ms);
    size_t per = (size_t)mc.channels * mc.height * mc.width_px;
    if (st == FN_OK) {
        b.x = malloc((size_t)b.batch * per * sizeof *b.x);
        b.y = malloc((size_t)b.batch * sizeof *b.y);
        if (!b.x || !b.y) st = bench_oom();
    }
    for (size_t i = 0; st == FN_OK && i < (size_t)b.batch * per; i++)
        b.x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    for (int i = 0; st == FN_OK && i < b.batch; i++)
        b.y[i] = i % (int)k;
    if (st == FN_OK) st = fn_parallel_create(b.t, comm, (size_t)(bucket_mb * (1 << 20)), &b.p);
    if (st == FN_OK) st = steps(&b, comm, (int)reps, ms + 3 * reps);
    if (st != FN_OK) {
        rc = bench_fail("bench allreduce");
        cli_comm_close(comm, 1);
    } else if (rank == 0) {
        double mb = fn_trainer_grad_count(b.t) * 4.0 / 1e6;
        double rd = bench_median(ms, (int)reps), ar = bench_median(ms + reps, (int)reps),
               wr = bench_median(ms + 2 * reps, (int)reps);
        printf("%s: %.2f MB of gradients, %d rank(s), device %s\n", arch, mb, ranks,
               fn_device_get_info(b.dev)->name);
        printf("  read (device -> host)  %8.3f ms  %8.2f GB/s\n", rd, rd > 0 ? mb / rd : 0);
        printf("  allreduce (sum)        %8.3f ms  %8.2f GB/s algorithm bandwidth\n", ar,
               ar > 0 ? mb / ar : 0);
        printf("  write (host -> device) %8.3f ms  %8.2f GB/s\n", wr, wr > 0 ? mb / wr : 0);
        double c = bench_median(ms + 3 * reps, (int)reps),
               bl = bench_median(ms + 4 * reps, (int)reps),
               ov = bench_median(ms + 5 * reps, (int)reps);
        printf("step (forward + backward of %d rows per rank, global batch %d):\n", b.batch / ranks,
               b.batch);
        printf("  compute alone          %8.3f ms\n", c);
        if (ranks > 1) {
            printf("  + blocking sum         %8.3f ms  (+%.3f)\n", bl, bl - c);
            printf("  + %2d buckets overlapped %7.3f ms  (+%.3f)\n", fn_parallel_buckets(b.p), ov,
                   ov - c);
            printf("  hidden by backward     %8.0f %%  of the blocking step's communication\n",
                   bl - c > 0 ? 100 * (bl - ov) / (bl - c) : 0);
        }
    }
    if (st == FN_OK) cli_comm_close(comm, 0);
    fn_parallel_free(b.p);
    fn_trainer_free(b.t);
    fn_model_free(b.m);
    free(b.x);
    free(b.y);
    fn_device_free(b.dev);
    free(b.host);
    free(ms);
    return rc;
}
