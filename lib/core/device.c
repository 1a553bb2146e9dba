/* Devices: enumeration, selection by index or name, and the context + queue. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    fn_device_info info;
} found_device;

static void info_string(cl_device_id d, cl_device_info what, char *out, size_t n)
{
    out[0] = 0;
    if (clGetDeviceInfo(d, what, n, out, NULL) != CL_SUCCESS)
        out[0] = 0;
    out[n - 1] = 0;
}

/* Lists every device of every platform; marks the default (first GPU, else first CPU,
 * else the first device of any kind). */
static fn_status enumerate(found_device *out, int max, int *count)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint np = 0;
    *count = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, platforms, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return fn_error(FN_ERR_DEVICE,
                        "no OpenCL platform found: install an OpenCL driver "
                        "(for the CPU: apt-get install pocl-opencl-icd)");
    if (err != CL_SUCCESS)
        return fn_cl_fail(err, "clGetPlatformIDs", __FILE__, __LINE__);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    int n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) !=
            CL_SUCCESS)
            continue;
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        char pname[128];
        pname[0] = 0;
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        pname[sizeof pname - 1] = 0;
        for (cl_uint d = 0; d < nd && n < max; d++) {
            found_device *f = &out[n];
            memset(f, 0, sizeof *f);
            f->platform = platforms[p];
            f->device = devs[d];
            fn_device_info *i = &f->info;
            i->platform_index = (int)p;
            i->device_index = (int)d;
            i->global_index = n;
            memcpy(i->platform_name, pname, sizeof pname);
            info_string(devs[d], CL_DEVICE_NAME, i->name, sizeof i->name);
            info_string(devs[d], CL_DEVICE_VENDOR, i->vendor, sizeof i->vendor);
            info_string(devs[d], CL_DEVICE_VERSION, i->version, sizeof i->version);
            info_string(devs[d], CL_DRIVER_VERSION, i->driver_version, sizeof i->driver_version);
            cl_device_type type = 0;
            cl_uint cu = 0;
            cl_ulong gmem = 0, lmem = 0;
            size_t wg = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
            i->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
            i->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
            i->compute_units = cu;
            i->global_mem = gmem;
            i->local_mem = lmem;
            i->max_work_group = wg;
            n++;
        }
    }
    if (n == 0)
        return fn_error(FN_ERR_DEVICE, "OpenCL platforms found, but no devices");
    int def = -1;
    for (int k = 0; k < n && def < 0; k++)
        if (out[k].info.is_gpu)
            def = k;
    for (int k = 0; k < n && def < 0; k++)
        if (out[k].info.is_cpu)
            def = k;
    if (def < 0)
        def = 0;
    out[def].info.is_default = 1;
    *count = n;
    return FN_OK;
}

fn_status fn_devices_list(fn_device_info *out, int max, int *count)
{
    found_device all[MAX_DEVICES];
    int n = 0;
    FN_TRY(enumerate(all, MAX_DEVICES, &n));
    for (int i = 0; i < n && i < max; i++)
        out[i] = all[i].info;
    *count = n;
    return FN_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t k = 0;
        while (k < nl && h[k] && tolower((unsigned char)h[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == nl)
            return 1;
    }
    return nl == 0;
}

/* Picks a device by spec; on failure the message lists what there is. */
static fn_status choose(found_device *all, int n, const char *spec, const char *origin, int *pick)
{
    if (!spec || !*spec) {
        for (int i = 0; i < n; i++)
            if (all[i].info.is_default)
                *pick = i;
        return FN_OK;
    }
    char *end = NULL;
    long idx = strtol(spec, &end, 10);
    if (end != spec && *end == 0) {
        if (idx >= 0 && idx < n) {
            *pick = (int)idx;
            return FN_OK;
        }
    } else {
        for (int i = 0; i < n; i++)
            if (contains_nocase(all[i].info.name, spec) ||
                contains_nocase(all[i].info.platform_name, spec) ||
                contains_nocase(all[i].info.vendor, spec)) {
                *pick = i;
                return FN_OK;
            }
    }
    char list[2048];
    size_t used = 0;
    list[0] = 0;
    for (int i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%d: %s (%s)", i ? "; " : "",
                                 i, all[i].info.name, all[i].info.platform_name);
    return fn_error(FN_ERR_DEVICE, "%s '%s' matches no OpenCL device; devices are: %s", origin,
                    spec, list);
}

fn_status fn_device_open_ex(const char *spec, int profiling, fn_device **out)
{
    *out = NULL;
    found_device all[MAX_DEVICES];
    int n = 0;
    FN_TRY(enumerate(all, MAX_DEVICES, &n));
    const char *origin = "device";
    fn_env env;
    fn_env_read(&env);
    if (!spec || !*spec) {
        spec = env.device;
        origin = "FOCUSNET_DEVICE";
    }
    int pick = 0;
    FN_TRY(choose(all, n, spec, origin, &pick));

    fn_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return fn_error(FN_ERR_NOMEM, "out of host memory opening a device");
    dev->info = all[pick].info;
    dev->platform = all[pick].platform;
    dev->device = all[pick].device;
    dev->profiling = profiling;
    dev->long_runs = dev->info.is_cpu && !dev->info.is_gpu;
    dev->winograd = dev->long_runs && !env.no_winograd;
    dev->bn_group = !env.no_bn_group;
    dev->bn_fuse = !env.no_bn_fuse;
    dev->wino_rows = !env.no_wino_rows;
    dev->wino_dw = env.wino_dw;
    dev->pointwise = dev->long_runs && !env.no_pointwise;
    cl_uint vec = 0;
    if (clGetDeviceInfo(dev->device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof vec, &vec, NULL) !=
        CL_SUCCESS)
        vec = 16;
    dev->simd_floats = vec >= 16 ? 16 : 8;
    const char *gemm = env.gemm;
    if (gemm && strcmp(gemm, "clblast") == 0)
        dev->gemm_path = FN_GEMM_CLBLAST;
    if (gemm && strcmp(gemm, "own") == 0)
        dev->gemm_path = FN_GEMM_OWN;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform,
                                     0};
    dev->context = clCreateContext(props, 1, &dev->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(dev);
        return fn_cl_fail(err, "clCreateContext", __FILE__, __LINE__);
    }
    dev->queue = clCreateCommandQueue(dev->context, dev->device,
                                      profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) {
        clReleaseContext(dev->context);
        free(dev);
        return fn_cl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__);
    }
    *out = dev;
    return FN_OK;
}

fn_status fn_device_open(const char *spec, fn_device **out)
{
    return fn_device_open_ex(spec, 0, out);
}

const fn_device_info *fn_device_get_info(const fn_device *dev)
{
    return &dev->info;
}

void fn_device_free(fn_device *dev)
{
    if (!dev)
        return;
    if (dev->queue)
        clFinish(dev->queue);
    fn_profile_free(dev);
    for (int p = 0; p < dev->n_programs; p++) {
        fn_program_entry *e = &dev->programs[p];
        for (int k = 0; k < e->n_kernels; k++)
            clReleaseKernel(e->kernels[k].kernel);
        free(e->kernels);
        clReleaseProgram(e->program);
    }
    free(dev->programs);
    for (int i = 0; i < FN_SCRATCH_SLOTS; i++)
        if (dev->scratch[i])
            clReleaseMemObject(dev->scratch[i]);
    if (dev->queue)
        clReleaseCommandQueue(dev->queue);
    if (dev->context)
        clReleaseContext(dev->context);
    free(dev);
}
