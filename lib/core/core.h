/* Runtime internals shared by every layer of the library: the device context,
 * error reporting, programs and kernels, buffers, random numbers.
 * Nothing above lib/ops may include CL headers except through this file. */
#ifndef FN_CORE_H
#define FN_CORE_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "../focusnet.h"

/* ---- Errors ---------------------------------------------------------------
 * fn_error records the message for fn_last_error() and returns the status,
 * so call sites read `return fn_error(FN_ERR_IO, "%s: ...", path);`. */
fn_status fn_error(fn_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context ("loading x.safetensors: ") to the current message. */
fn_status fn_error_prefix(fn_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *fn_cl_error_name(cl_int err);
fn_status fn_cl_fail(cl_int err, const char *call, const char *file, int line);

/* Checks an OpenCL call; on failure records "call failed: CL_NAME (file:line)"
 * and returns FN_ERR_CL (or FN_ERR_NOMEM for allocation failures). */
#define FN_CL(call)                                                                                \
    do {                                                                                           \
        cl_int fn_cl_err_ = (call);                                                                \
        if (fn_cl_err_ != CL_SUCCESS) return fn_cl_fail(fn_cl_err_, #call, __FILE__, __LINE__);    \
    } while (0)

/* Propagates a failed fn_status. */
#define FN_TRY(expr)                                                                               \
    do {                                                                                           \
        fn_status fn_try_st_ = (expr);                                                             \
        if (fn_try_st_ != FN_OK) return fn_try_st_;                                                \
    } while (0)

/* ---- Environment (env.c) ----------------------------------------------------
 * Every variable focusnet reads; nothing else in the library calls getenv.
 * Strings are NULL when unset and point into the environment. */
typedef struct {
    const char *device;         /* FOCUSNET_DEVICE: the default device (index or name) */
    const char *gemm;           /* FOCUSNET_GEMM: "clblast" or "own" matrix products */
    int no_winograd;            /* FOCUSNET_WINOGRAD is "0": no Winograd convolutions */
    int no_wino_rows;           /* FOCUSNET_WINO_ROWS is "0": no row-vector transforms */
    int wino_dw;                /* FOCUSNET_WINO_DW: 0 or 1, else -1 (lib/ops/conv_winograd.c) */
    long fail_alloc;            /* FOCUSNET_FAIL_ALLOC: make the Nth allocation fail (0: none) */
    int no_cache;               /* FOCUSNET_NO_CACHE set, not empty and not "0" */
    const char *cache_dir;      /* FOCUSNET_CACHE_DIR: the kernel cache */
    const char *xdg_cache_home; /* XDG_CACHE_HOME: else the cache is in $XDG_CACHE_HOME/focusnet */
    const char *home;           /* HOME: else in $HOME/.cache/focusnet */
    const char *kernel_dir;     /* FOCUSNET_KERNEL_DIR: kernel sources from this folder */
    const char *fashion_mnist_dir; /* FOCUSNET_FASHION_MNIST_DIR: where "fashion-mnist" is */
    int no_fold; /* FOCUSNET_FOLD=0: evaluation runs conv, batch norm and ReLU unfused */
    int no_pointwise; /* FOCUSNET_POINTWISE=0: 1x1 convolutions on the GEMM tiles */
    int no_bn_group;  /* FOCUSNET_BN_GROUP=0: batch norm's CPU kernels one plane per work-item */
    int no_bn_fuse; /* FOCUSNET_BN_FUSE=0: training's ReLU backward not folded into batch norm's */
} fn_env;

/* Reads them now (not cached: a setenv takes effect at the next call). */
void fn_env_read(fn_env *e);

/* ---- Device context ------------------------------------------------------ */

typedef struct fn_kernel_entry {
    char name[64];
    cl_kernel kernel;
} fn_kernel_entry;

typedef struct fn_program_entry {
    char name[64]; /* the .cl file's stem */
    cl_program program;
    fn_kernel_entry *kernels;
    int n_kernels, cap_kernels;
} fn_program_entry;

/* Scratch slots of a device (the table in lib/ops/ops.h). */
#define FN_SCRATCH_SLOTS 5

struct fn_device {
    fn_device_info info;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int profiling; /* queue created with CL_QUEUE_PROFILING_ENABLE */
    fn_program_entry *programs;
    int n_programs, cap_programs;
    cl_mem scratch[FN_SCRATCH_SLOTS]; /* reusable work buffers, grown on demand */
    size_t scratch_size[FN_SCRATCH_SLOTS];
    struct fn_profile *prof; /* per-kernel timing, while recording (profile.c) */
    int gemm_path;           /* FN_GEMM_*: who multiplies matrices (lib/ops/gemm.c) */
    int long_runs;           /* fn_launch_runs: one work-item per long run (CPUs) */
    /* 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) where they pay (CPUs,
     * lib/ops/conv_winograd.c); FOCUSNET_WINOGRAD=0 turns it off for A/B runs,
     * tests set it to run both paths. */
    int winograd;
    /* Batch norm's kernels on CPUs take several small planes per work-item
     * (lib/ops/batchnorm.c); FOCUSNET_BN_GROUP=0 turns it off for A/B runs. */
    int bn_group;
    /* Training folds the backward of a ReLU/ReLU6 that follows a batch norm
     * into batch norm's backward (lib/nn/model.c); FOCUSNET_BN_FUSE=0: off. */
    int bn_fuse;
    /* Its input transforms read whole tile rows as vectors where the layout
     * allows (kernels/conv_winograd.cl); FOCUSNET_WINO_ROWS=0 gathers them
     * element by element (A/B runs; tests run both). */
    int wino_rows;
    /* Its weight gradient's 16 products: -1 by the rule in
     * lib/ops/conv_winograd.c (dw_by_gemm), 0 gemm_nt on V in place, 1
     * gemm_mr on V transposed; FOCUSNET_WINO_DW=0/1 (A/B), tests set it. */
    int wino_dw;
    /* 1x1 convolutions with few input channels by conv_pw_strip (CPUs,
     * lib/ops/conv_pointwise.c); FOCUSNET_POINTWISE=0 turns it off. */
    int pointwise;
    /* Floats per SIMD register the CPU GEMM tiles are sized for: 16 (AVX-512,
     * 32 registers) or 8 (AVX2, 16 registers; CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT
     * below 16). Tests set it to run both kernel families (lib/ops/gemm.c). */
    int simd_floats;
    /* Called by fn_launch with the rounded global and the local size of every
     * kernel it enqueues (tests record GPU launch shapes with it); NULL: off. */
    void (*launch_hook)(void *ctx, cl_kernel k, int dims, const size_t *global,
                        const size_t *local);
    void *launch_hook_ctx;
};

/* Matrix products: CLBlast, or our own kernels (kernels/gemm.cl), which are
 * faster on CPUs. FN_GEMM_AUTO picks ours on CPU devices; FOCUSNET_GEMM=clblast
 * or =own overrides it when the device is opened, and tests set the field to
 * run both paths. */
enum { FN_GEMM_AUTO = 0, FN_GEMM_CLBLAST = 1, FN_GEMM_OWN = 2 };

/* fn_device_open_ex (focusnet.h) creates a device with an in-order queue;
 * profiling adds event timing. */

/* ---- Programs and kernels -------------------------------------------------
 * Each kernels/NAME.cl is one program, embedded at build time. If the
 * environment variable FOCUSNET_KERNEL_DIR names a folder, NAME.cl is read
 * from there instead (for editing kernels without rebuilding). Compiled
 * binaries are cached on disk (see program.c). */
fn_status fn_kernel_get(fn_device *dev, const char *program, const char *kernel, cl_kernel *out);
/* Builds a program from the given source (tests use this for the error path). */
fn_status fn_program_build_source(fn_device *dev, const char *name, const char *source,
                                  const char *options, cl_program *out);
/* The embedded source of kernels/NAME.cl, or NULL. */
const char *fn_kernel_source(const char *name);
/* Folder for the compiled-program cache; "" when caching is off. */
const char *fn_cache_dir(void);
/* The binary inside a kernel-cache entry (magic, length, hash, binary), or
 * NULL when the entry is truncated, altered or not one (program.c). */
const uint8_t *fn_cache_entry_check(const uint8_t *data, size_t size, size_t *len);

/* Sets kernel arguments in order: FN_ARGS(k, sizeof(a), &a, sizeof(b), &b, 0) */
fn_status fn_kernel_args(cl_kernel k, ...);
#define FN_ARG(x) sizeof(x), (const void *)&(x)

/* Enqueues a 1-, 2- or 3-D range. global is rounded up to a multiple of local;
 * kernels must bounds-check. local may be NULL (driver's choice). */
fn_status fn_launch(fn_device *dev, cl_kernel k, int dims, const size_t *global,
                    const size_t *local);
/* One-dimensional launch over n items with a work-group of 64 (or less). */
fn_status fn_launch1(fn_device *dev, cl_kernel k, size_t n);
/* A launch over global items whose work-groups come from the device and the
 * kernel: on CPUs (dev->long_runs) single items, as the CPU kernels want; on
 * GPUs about 64 items (two 32-wide or one 64-wide unit), a multiple of the
 * kernel's CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE within its
 * CL_KERNEL_WORK_GROUP_SIZE, filled along dimension 0 first: every kernel
 * puts neighbouring addresses along dimension 0. For kernels whose local
 * memory does not depend on the group size. */
fn_status fn_launch_auto(fn_device *dev, cl_kernel k, int dims, const size_t *global);
/* The work-group size fn_launch_auto aims at for kernel k on a GPU. */
fn_status fn_group_target(fn_device *dev, cl_kernel k, size_t *out);

/* Runs: memory-bound kernels over `planes` planes of `len` floats let each
 * work-item (s, p) handle floats [s*run, min(len, (s+1)*run)) of plane p with
 * explicit float16 vectors. On CPUs (dev->long_runs) a run is a whole plane
 * (up to 4096 floats) and work-groups are single items: drivers such as POCL
 * run explicit vectors far better than they vectorize across items. On GPUs
 * a run is one float16, so neighbouring items read neighbouring memory.
 * The kernel gets run as an argument and checks both indices. */
int fn_run_length(const fn_device *dev, int len);
fn_status fn_launch_runs(fn_device *dev, cl_kernel k, int len, int planes, int run);

/* CPU kernels over small planes (3x3 depthwise, max pooling): whole planes
 * per work-item, about 256 outputs each (q outputs per plane), halved while
 * fewer than 8 items per core would remain. */
int fn_planes_per_item(const fn_device *dev, int planes, int q);

/* ---- Buffers --------------------------------------------------------------
 * All device allocations go through here so failures are reported alike and
 * so fault injection (FOCUSNET_FAIL_ALLOC=N: the Nth allocation fails) can
 * reach every one of them. */
fn_status fn_buffer_new(fn_device *dev, size_t bytes, cl_mem *out);
void fn_buffer_free(cl_mem m);
/* How many device allocations this process has asked for (fault injection counts these). */
long fn_alloc_count(void);
fn_status fn_buffer_write(fn_device *dev, cl_mem m, size_t offset, size_t bytes, const void *src);
fn_status fn_buffer_read(fn_device *dev, cl_mem m, size_t offset, size_t bytes, void *dst);
fn_status fn_buffer_fill(fn_device *dev, cl_mem m, size_t offset, size_t bytes, float value);
fn_status fn_buffer_copy(fn_device *dev, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                         size_t bytes);
/* Staging for data parallelism: a host buffer allocated by the driver
 * (CL_MEM_ALLOC_HOST_PTR) and mapped once, at *host until fn_pinned_free;
 * transfers between it and device buffers need no bounce copy. */
fn_status fn_pinned_new(fn_device *dev, size_t bytes, cl_mem *mem, void **host);
void fn_pinned_free(fn_device *dev, cl_mem mem, void *host);
/* Transfers that return at once (dst / src must stay put until they ran;
 * the queue is in order, so later commands see them). done (may be NULL)
 * gets the read's event, released by the caller. */
fn_status fn_buffer_read_async(fn_device *dev, cl_mem m, size_t offset, size_t bytes, void *dst,
                               cl_event *done);
fn_status fn_buffer_write_async(fn_device *dev, cl_mem m, size_t offset, size_t bytes,
                                const void *src);
/* *done: whether ev (NULL: nothing) has run; wait: block until it has. */
fn_status fn_event_done(cl_event ev, int wait, int *done);
void fn_event_release(cl_event ev);
/* Hands what was enqueued to the device without waiting for it. */
fn_status fn_flush(fn_device *dev);
/* A work buffer of at least `bytes`, slot 0..3, owned by the device and
 * reused across calls. Contents are undefined. Two slots may be used at once. */
fn_status fn_scratch(fn_device *dev, int slot, size_t bytes, cl_mem *out);
/* fn_finish: focusnet.h */

/* ---- Profiling -------------------------------------------------------------
 * On a profiling queue (fn_device_open_ex(spec, 1, ...)), between
 * fn_profile_start and fn_profile_stop every kernel fn_launch enqueues, every
 * buffer transfer, fill and copy, and every library call bracketed by
 * fn_prof_begin/fn_prof_end (CLBlast's) is timed by its OpenCL event, and the
 * times are summed by name. A call site reads:
 *     cl_event *ev = fn_prof_begin(dev, 0);
 *     clEnqueueNDRangeKernel(..., ev);   (NULL when not recording)
 *     fn_prof_end(dev, ev, "name");
 * span = 1 enqueues a marker first and times from it to the event's end, for
 * calls that enqueue several commands but return the last one's event.
 * fn_profile_entry, fn_profile_start/stop/entries and fn_span_begin/end are
 * public (focusnet.h). */
cl_event *fn_prof_begin(fn_device *dev, int span);
void fn_prof_end(fn_device *dev, cl_event *ev, const char *name);
void fn_profile_free(fn_device *dev); /* fn_device_free calls it */

/* ---- Random numbers -------------------------------------------------------
 * A small, seedable generator (splitmix64 seeding xoshiro128**-style state)
 * whose whole state is 32 bytes, so checkpoints can store it. */
typedef struct {
    uint64_t s[4];
} fn_rng;

void fn_rng_seed(fn_rng *r, uint64_t seed);
uint64_t fn_rng_u64(fn_rng *r);
uint32_t fn_rng_below(fn_rng *r, uint32_t n); /* uniform in [0, n) */
float fn_rng_uniform(fn_rng *r);              /* uniform in [0, 1) */
float fn_rng_normal(fn_rng *r);               /* standard normal */

/* Data parallelism: the rows [first, first + count) of a batch of n that
 * rank `rank` of `ranks` works on (the loader fills them, the trainer
 * steps on them). */
static inline void fn_shard_rows(int n, int rank, int ranks, int *first, int *count)
{
    int a = (int)((long)n * rank / ranks), b = (int)((long)n * (rank + 1) / ranks);
    *first = a;
    *count = b - a;
}

/* 64-bit FNV-1a, used for cache keys and checksums. */
uint64_t fn_hash64(uint64_t h, const void *data, size_t n);
#define FN_HASH_INIT 1469598103934665603ULL

#endif
