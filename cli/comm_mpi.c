/* The communicator of focusnet.h over MPI, for `mpirun -np N focusnet train`.
 * Only this file knows MPI; it is compiled when meson found MPI.
 *
 * MPI is initialized only when a launcher started the process (mpirun sets
 * OMPI_COMM_WORLD_SIZE; PMIx and Slurm launchers PMIX_RANK or PMI_SIZE): a
 * plain `focusnet train` then never touches the MPI runtime, so it starts
 * as fast as a build without MPI and works where MPI is not set up (Open
 * MPI's singleton init would start a daemon and can fail in containers). */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int mpi_rank(const fn_comm *c)
{
    (void)c;
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

static int mpi_size(const fn_comm *c)
{
    (void)c;
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

/* MPI counts are int: large buffers go in chunks. The default error handler
 * (MPI_ERRORS_ARE_FATAL) ends the job on a failed call, so the codes are
 * checked for form only. */
#define CHUNK (1 << 28)

static fn_status mpi_f32(const fn_comm *c, float *d, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i += CHUNK) {
        int k = (int)(n - i < CHUNK ? n - i : CHUNK);
        if (MPI_Allreduce(MPI_IN_PLACE, d + i, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return FN_ERR_IO;
    }
    return FN_OK;
}

static fn_status mpi_i64(const fn_comm *c, int64_t *d, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i += CHUNK) {
        int k = (int)(n - i < CHUNK ? n - i : CHUNK);
        if (MPI_Allreduce(MPI_IN_PLACE, d + i, k, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return FN_ERR_IO;
    }
    return FN_OK;
}

static fn_status mpi_f64(const fn_comm *c, double *d, size_t n)
{
    (void)c;
    for (size_t i = 0; i < n; i += CHUNK) {
        int k = (int)(n - i < CHUNK ? n - i : CHUNK);
        if (MPI_Allreduce(MPI_IN_PLACE, d + i, k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return FN_ERR_IO;
    }
    return FN_OK;
}

static fn_status mpi_iallreduce(const fn_comm *c, float *d, size_t n, void **req)
{
    (void)c;
    *req = NULL;
    if (n > INT_MAX) return mpi_f32(c, d, n); /* no bucket is this large; stay correct */
    MPI_Request *r = malloc(sizeof *r);
    if (!r) return FN_ERR_NOMEM;
    if (MPI_Iallreduce(MPI_IN_PLACE, d, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, r) !=
        MPI_SUCCESS) {
        free(r);
        return FN_ERR_IO;
    }
    *req = r;
    return FN_OK;
}

static fn_status mpi_test(const fn_comm *c, void *req, int wait, int *done)
{
    (void)c;
    *done = 1;
    if (!req) return FN_OK;
    MPI_Request *r = req;
    int flag = 1;
    int rc = wait ? MPI_Wait(r, MPI_STATUS_IGNORE) : MPI_Test(r, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return FN_ERR_IO;
    *done = flag;
    if (flag) free(r);
    return FN_OK;
}

static fn_status mpi_bcast(const fn_comm *c, void *d, size_t n, int root)
{
    (void)c;
    for (size_t i = 0; i < n; i += CHUNK) {
        int k = (int)(n - i < CHUNK ? n - i : CHUNK);
        if (MPI_Bcast((char *)d + i, k, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return FN_ERR_IO;
    }
    return FN_OK;
}

static fn_status mpi_barrier(const fn_comm *c)
{
    (void)c;
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? FN_OK : FN_ERR_IO;
}

static void mpi_abort(const fn_comm *c, int code)
{
    (void)c;
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
}

static const fn_comm world = {.rank = mpi_rank,
                              .size = mpi_size,
                              .allreduce_f32 = mpi_f32,
                              .allreduce_i64 = mpi_i64,
                              .allreduce_f64 = mpi_f64,
                              .broadcast = mpi_bcast,
                              .barrier = mpi_barrier,
                              .abort = mpi_abort,
                              .iallreduce_f32 = mpi_iallreduce,
                              .test = mpi_test};

static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

const fn_comm *cli_comm_open(void)
{
    if (!launched()) return NULL;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return NULL;
    if (mpi_size(&world) == 1) {
        MPI_Finalize(); /* mpirun -np 1: one process, as without mpirun */
        return NULL;
    }
    return &world;
}

void cli_comm_close(const fn_comm *c, int failed_running)
{
    if (!c) return;
    /* The other ranks wait in a collective for this one: end them all. */
    if (failed_running) mpi_abort(c, EXIT_RUNTIME);
    MPI_Finalize();
}

int cli_comm_local_rank(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!s) s = getenv("MPI_LOCALRANKID");
    if (!s) s = getenv("SLURM_LOCALID");
    return s ? atoi(s) : 0;
}
