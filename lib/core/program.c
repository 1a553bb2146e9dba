/* Programs: embedded kernel sources, an on-disk cache of compiled binaries,
 * build logs on failure, and kernel lookup + launch helpers.
 *
 * Cache key: FNV-1a over the source, the build options, the platform, device
 * and driver version strings, and the focusnet version. A changed kernel or
 * a driver update therefore misses the cache and recompiles. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/file.h"
#include "core.h"

#define BUILD_OPTIONS "-cl-std=CL1.2"

typedef struct {
    const char *name;
    const char *source;
} embedded_kernel;
extern const embedded_kernel fn_embedded_kernels[]; /* generated: kernels_embedded.c */

const char *fn_kernel_source(const char *name)
{
    for (const embedded_kernel *k = fn_embedded_kernels; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k->source;
    return NULL;
}

static char *read_text(const char *path)
{
    uint8_t *data;
    size_t size;
    if (fn_file_read(path, (size_t)64 << 20, &data, &size) != FN_OK) return NULL;
    return (char *)data;
}

const char *fn_cache_dir(void)
{
    static _Thread_local char dir[1024];
    fn_env e;
    fn_env_read(&e);
    if (e.no_cache) return "";
    const char *env = e.cache_dir, *xdg = e.xdg_cache_home, *home = e.home;
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/focusnet", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/focusnet", home);
    else
        return "";
    return dir;
}

static void make_dirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

static uint64_t cache_key(fn_device *dev, const char *source, const char *options)
{
    uint64_t h = FN_HASH_INIT;
    const char *parts[] = {source,           options,
                           dev->info.platform_name, dev->info.name,
                           dev->info.version, dev->info.driver_version,
                           FOCUSNET_VERSION};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = fn_hash64(h, parts[i], strlen(parts[i]) + 1);
    return h;
}

/* A cache entry: "FNCACHE1", the binary's length and FNV-1a hash (both
 * 64-bit little-endian), then the binary. A truncated or bit-flipped entry
 * fails the check before it reaches clCreateProgramWithBinary (drivers trust
 * what they are given: POCL asserts or crashes on a bad one). */
#define CACHE_MAGIC "FNCACHE1"
#define CACHE_HEADER 24
#define CACHE_MAX ((size_t)1 << 30)

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The binary in a cache entry, or NULL when it is not a sound entry. */
const uint8_t *fn_cache_entry_check(const uint8_t *data, size_t size, size_t *len)
{
    if (size < CACHE_HEADER || memcmp(data, CACHE_MAGIC, 8) != 0) return NULL;
    uint64_t n = get_le64(data + 8), h = get_le64(data + 16);
    if (n == 0 || n != size - CACHE_HEADER) return NULL;
    if (fn_hash64(FN_HASH_INIT, data + CACHE_HEADER, (size_t)n) != h) return NULL;
    *len = (size_t)n;
    return data + CACHE_HEADER;
}

/* Tries the cached binary; returns NULL on any miss or problem (then we
 * compile, and the entry is replaced). */
static cl_program load_cached(fn_device *dev, const char *path, const char *options)
{
    if (access(path, F_OK) != 0) return NULL;
    uint8_t *data;
    size_t size, len = 0;
    if (fn_file_read(path, CACHE_MAX, &data, &size) != FN_OK) return NULL;
    const unsigned char *bins[1] = {fn_cache_entry_check(data, size, &len)};
    if (!bins[0]) {
        free(data);
        return NULL;
    }
    cl_int status, err;
    cl_program p = clCreateProgramWithBinary(dev->context, 1, &dev->device, &len, bins, &status,
                                             &err);
    free(data);
    if (err != CL_SUCCESS || status != CL_SUCCESS) {
        if (p) clReleaseProgram(p);
        return NULL;
    }
    if (clBuildProgram(p, 1, &dev->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

static void store_cached(cl_program p, const char *dir, const char *path)
{
    size_t len = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0 || len > CACHE_MAX)
        return;
    uint8_t *entry = malloc(CACHE_HEADER + len);
    if (!entry) return;
    unsigned char *bins[1] = {entry + CACHE_HEADER};
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS) {
        memcpy(entry, CACHE_MAGIC, 8);
        put_le64(entry + 8, len);
        put_le64(entry + 16, fn_hash64(FN_HASH_INIT, entry + CACHE_HEADER, len));
        make_dirs(dir);
        /* Atomic and fsync'ed: a reader never sees half an entry, and a
         * crash cannot leave one. A failure only costs a rebuild next time. */
        (void)fn_write_file_atomic(path, entry, CACHE_HEADER + len);
    }
    free(entry);
}

fn_status fn_program_build_source(fn_device *dev, const char *name, const char *source,
                                  const char *options, cl_program *out)
{
    *out = NULL;
    if (!options)
        options = BUILD_OPTIONS;
    const char *dir = fn_cache_dir();
    char path[1200] = "";
    if (*dir) {
        snprintf(path, sizeof path, "%s/%s-%016llx.bin", dir, name,
                 (unsigned long long)cache_key(dev, source, options));
        cl_program p = load_cached(dev, path, options);
        if (p) {
            *out = p;
            return FN_OK;
        }
    }
    cl_int err;
    size_t len = strlen(source);
    cl_program p = clCreateProgramWithSource(dev->context, 1, &source, &len, &err);
    if (err != CL_SUCCESS)
        return fn_cl_fail(err, "clCreateProgramWithSource", __FILE__, __LINE__);
    err = clBuildProgram(p, 1, &dev->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t log_len = 0;
        clGetProgramBuildInfo(p, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
        char *log = malloc(log_len + 1);
        if (log) {
            log[0] = 0;
            clGetProgramBuildInfo(p, dev->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
            log[log_len] = 0;
        }
        fn_error(FN_ERR_BUILD, "kernel program '%s' failed to build on %s: %s\n%s", name,
                 dev->info.name, fn_cl_error_name(err), log ? log : "(no build log)");
        free(log);
        clReleaseProgram(p);
        return FN_ERR_BUILD;
    }
    if (*dir)
        store_cached(p, dir, path);
    *out = p;
    return FN_OK;
}

/* text with each line `#include "NAME"` replaced by the file kdir/NAME, as
 * tools/embed_kernels.py does for the embedded sources (so that one program
 * is one source, and its cache key covers what it includes); NULL when an
 * included file cannot be read (the error names it). */
static char *with_includes(const char *kdir, char *text)
{
    const char *tag = "#include \"";
    char *at = text;
    while ((at = strstr(at, tag)) != NULL) {
        if (at != text && at[-1] != '\n') {
            at += strlen(tag);
            continue;
        }
        char *name = at + strlen(tag), *end = strchr(name, '"');
        char *eol = end ? strchr(end, '\n') : NULL;
        if (!end || end - name > 200) break;
        char path[1300];
        snprintf(path, sizeof path, "%s/%.*s", kdir, (int)(end - name), name);
        char *piece = read_text(path);
        if (!piece) {
            free(text);
            return NULL;
        }
        size_t head = (size_t)(at - text), plen = strlen(piece);
        while (plen > 0 && piece[plen - 1] == '\n') /* the line's own newline follows */
            plen--;
        const char *rest = eol ? eol : "";
        char *joined = malloc(head + plen + strlen(rest) + 1);
        if (joined) {
            memcpy(joined, text, head);
            memcpy(joined + head, piece, plen);
            strcpy(joined + head + plen, rest);
        }
        free(piece);
        free(text);
        if (!joined) {
            fn_error(FN_ERR_NOMEM, "out of host memory");
            return NULL;
        }
        text = joined;
        at = text + head + plen;
    }
    return text;
}

static fn_status get_program(fn_device *dev, const char *name, fn_program_entry **out)
{
    for (int i = 0; i < dev->n_programs; i++)
        if (strcmp(dev->programs[i].name, name) == 0) {
            *out = &dev->programs[i];
            return FN_OK;
        }
    fn_env env;
    fn_env_read(&env);
    const char *kdir = env.kernel_dir;
    char *from_disk = NULL;
    const char *source;
    if (kdir && *kdir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.cl", kdir, name);
        from_disk = read_text(path);
        if (from_disk) from_disk = with_includes(kdir, from_disk);
        if (!from_disk) {
            char why[1200];
            snprintf(why, sizeof why, "%s", fn_last_error());
            return fn_error(FN_ERR_IO, "cannot read kernel source (FOCUSNET_KERNEL_DIR): %s", why);
        }
        source = from_disk;
    } else {
        source = fn_kernel_source(name);
        if (!source)
            return fn_error(FN_ERR_ARG, "no kernel program named '%s' is built in", name);
    }
    cl_program p;
    fn_status st = fn_program_build_source(dev, name, source, NULL, &p);
    free(from_disk);
    FN_TRY(st);
    if (dev->n_programs == dev->cap_programs) {
        int cap = dev->cap_programs ? dev->cap_programs * 2 : 16;
        fn_program_entry *np = realloc(dev->programs, (size_t)cap * sizeof *np);
        if (!np) {
            clReleaseProgram(p);
            return fn_error(FN_ERR_NOMEM, "out of host memory");
        }
        dev->programs = np;
        dev->cap_programs = cap;
    }
    fn_program_entry *e = &dev->programs[dev->n_programs++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->program = p;
    *out = e;
    return FN_OK;
}

fn_status fn_kernel_get(fn_device *dev, const char *program, const char *kernel, cl_kernel *out)
{
    fn_program_entry *e;
    FN_TRY(get_program(dev, program, &e));
    for (int i = 0; i < e->n_kernels; i++)
        if (strcmp(e->kernels[i].name, kernel) == 0) {
            *out = e->kernels[i].kernel;
            return FN_OK;
        }
    cl_int err;
    cl_kernel k = clCreateKernel(e->program, kernel, &err);
    if (err != CL_SUCCESS)
        return fn_error(FN_ERR_CL, "kernel '%s' not found in program '%s': %s", kernel, program,
                        fn_cl_error_name(err));
    if (e->n_kernels == e->cap_kernels) {
        int cap = e->cap_kernels ? e->cap_kernels * 2 : 8;
        fn_kernel_entry *nk = realloc(e->kernels, (size_t)cap * sizeof *nk);
        if (!nk) {
            clReleaseKernel(k);
            return fn_error(FN_ERR_NOMEM, "out of host memory");
        }
        e->kernels = nk;
        e->cap_kernels = cap;
    }
    fn_kernel_entry *ke = &e->kernels[e->n_kernels++];
    snprintf(ke->name, sizeof ke->name, "%s", kernel);
    ke->kernel = k;
    *out = k;
    return FN_OK;
}

fn_status fn_kernel_args(cl_kernel k, ...)
{
    va_list ap;
    va_start(ap, k);
    for (cl_uint i = 0;; i++) {
        size_t size = va_arg(ap, size_t);
        if (size == 0)
            break;
        const void *ptr = va_arg(ap, const void *);
        cl_int err = clSetKernelArg(k, i, size, ptr);
        if (err != CL_SUCCESS) {
            va_end(ap);
            char name[64] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            return fn_error(FN_ERR_CL, "clSetKernelArg failed: %s for argument %u of kernel %s",
                            fn_cl_error_name(err), i, name);
        }
    }
    va_end(ap);
    return FN_OK;
}

fn_status fn_launch(fn_device *dev, cl_kernel k, int dims, const size_t *global,
                    const size_t *local)
{
    size_t g[3];
    for (int d = 0; d < dims; d++) {
        g[d] = global[d];
        if (g[d] == 0)
            return FN_OK; /* nothing to do */
        if (local)
            g[d] = (g[d] + local[d] - 1) / local[d] * local[d];
    }
    if (dev->launch_hook) dev->launch_hook(dev->launch_hook_ctx, k, dims, g, local);
    cl_event *ev = fn_prof_begin(dev, 0);
    FN_CL(clEnqueueNDRangeKernel(dev->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL, ev));
    if (ev) {
        char name[64] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        fn_prof_end(dev, ev, name);
    }
    return FN_OK;
}

fn_status fn_launch1(fn_device *dev, cl_kernel k, size_t n)
{
    size_t local = 64;
    if (dev->info.max_work_group && dev->info.max_work_group < local)
        local = dev->info.max_work_group;
    return fn_launch(dev, k, 1, &n, &local);
}

fn_status fn_group_target(fn_device *dev, cl_kernel k, size_t *out)
{
    size_t kmax = 0, mult = 0, target = 64;
    FN_CL(clGetKernelWorkGroupInfo(k, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                                   NULL));
    FN_CL(clGetKernelWorkGroupInfo(k, dev->device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                   sizeof mult, &mult, NULL));
    if (mult > target) target = mult; /* one whole unit at least */
    if (mult > 1) target = (target + mult - 1) / mult * mult;
    if (dev->info.max_work_group && dev->info.max_work_group < target)
        target = dev->info.max_work_group;
    if (kmax && kmax < target) target = kmax; /* registers or local memory limit it */
    *out = target ? target : 1;
    return FN_OK;
}

fn_status fn_launch_auto(fn_device *dev, cl_kernel k, int dims, const size_t *global)
{
    size_t local[3] = {1, 1, 1};
    if (!dev->long_runs) {
        size_t left;
        FN_TRY(fn_group_target(dev, k, &left));
        for (int d = 0; d < dims; d++) {
            local[d] = global[d] < left ? (global[d] ? global[d] : 1) : left;
            left /= local[d];
        }
    }
    return fn_launch(dev, k, dims, global, local);
}

int fn_run_length(const fn_device *dev, int len)
{
    if (!dev->long_runs)
        return 16;
    int run = (len + 15) / 16 * 16;
    return run < 16 ? 16 : run > 4096 ? 4096 : run;
}

int fn_planes_per_item(const fn_device *dev, int planes, int q)
{
    int ppi = q >= 256 ? 1 : 256 / q, cores = dev->info.compute_units ? dev->info.compute_units : 1;
    while (ppi > 1 && planes / ppi < 8 * cores)
        ppi /= 2;
    return ppi;
}

fn_status fn_launch_runs(fn_device *dev, cl_kernel k, int len, int planes, int run)
{
    size_t global[2] = {((size_t)len + run - 1) / run, (size_t)planes};
    size_t one[2] = {1, 1};
    if (dev->long_runs)
        return fn_launch(dev, k, 2, global, one);
    /* Runs of one float16 side by side in a row; short rows (a plane of a
     * few floats) stack planes in the group instead of leaving it small. */
    return fn_launch_auto(dev, k, 2, global);
}
