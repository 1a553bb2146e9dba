/* Device buffers. Every allocation passes through fn_buffer_new so that
 * failures read alike and FOCUSNET_FAIL_ALLOC=N can make the Nth one fail. */
#include <stdatomic.h>
#include <stdlib.h>

#include "core.h"

static atomic_long alloc_count;

fn_status fn_buffer_new(fn_device *dev, size_t bytes, cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        bytes = 4; /* OpenCL refuses empty buffers; keep callers simple */
    long nth = atomic_fetch_add(&alloc_count, 1) + 1;
    fn_env env;
    fn_env_read(&env);
    if (env.fail_alloc != 0 && env.fail_alloc == nth)
        return fn_error(FN_ERR_NOMEM,
                        "device allocation of %zu bytes failed: CL_MEM_OBJECT_ALLOCATION_FAILURE "
                        "(injected by FOCUSNET_FAIL_ALLOC=%ld)",
                        bytes, nth);
    cl_int err;
    cl_mem m = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return fn_error(FN_ERR_NOMEM, "device allocation of %zu bytes failed on %s: %s", bytes,
                        dev->info.name, fn_cl_error_name(err));
    *out = m;
    return FN_OK;
}

long fn_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

void fn_buffer_free(cl_mem m)
{
    if (m)
        clReleaseMemObject(m);
}

fn_status fn_buffer_write(fn_device *dev, cl_mem m, size_t offset, size_t bytes, const void *src)
{
    if (bytes == 0)
        return FN_OK;
    cl_event *ev = fn_prof_begin(dev, 0);
    FN_CL(clEnqueueWriteBuffer(dev->queue, m, CL_TRUE, offset, bytes, src, 0, NULL, ev));
    fn_prof_end(dev, ev, "write buffer");
    return FN_OK;
}

fn_status fn_buffer_read(fn_device *dev, cl_mem m, size_t offset, size_t bytes, void *dst)
{
    if (bytes == 0)
        return FN_OK;
    cl_event *ev = fn_prof_begin(dev, 0);
    FN_CL(clEnqueueReadBuffer(dev->queue, m, CL_TRUE, offset, bytes, dst, 0, NULL, ev));
    fn_prof_end(dev, ev, "read buffer");
    return FN_OK;
}

fn_status fn_buffer_fill(fn_device *dev, cl_mem m, size_t offset, size_t bytes, float value)
{
    if (bytes == 0)
        return FN_OK;
    cl_event *ev = fn_prof_begin(dev, 0);
    FN_CL(clEnqueueFillBuffer(dev->queue, m, &value, sizeof value, offset, bytes, 0, NULL, ev));
    fn_prof_end(dev, ev, "fill buffer");
    return FN_OK;
}

fn_status fn_buffer_copy(fn_device *dev, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                         size_t bytes)
{
    if (bytes == 0)
        return FN_OK;
    cl_event *ev = fn_prof_begin(dev, 0);
    FN_CL(clEnqueueCopyBuffer(dev->queue, src, dst, src_off, dst_off, bytes, 0, NULL, ev));
    fn_prof_end(dev, ev, "copy buffer");
    return FN_OK;
}

fn_status fn_scratch(fn_device *dev, int slot, size_t bytes, cl_mem *out)
{
    if (slot < 0 || slot >= 4)
        return fn_error(FN_ERR_ARG, "scratch slot %d out of range", slot);
    if (dev->scratch_size[slot] < bytes) {
        /* Release first so the old and new buffers are never both held. */
        fn_buffer_free(dev->scratch[slot]);
        dev->scratch[slot] = NULL;
        dev->scratch_size[slot] = 0;
        size_t grow = bytes + bytes / 4; /* headroom: fewer regrowths as shapes vary */
        FN_TRY(fn_buffer_new(dev, grow, &dev->scratch[slot]));
        dev->scratch_size[slot] = grow;
    }
    *out = dev->scratch[slot];
    return FN_OK;
}

fn_status fn_finish(fn_device *dev)
{
    FN_CL(clFinish(dev->queue));
    return FN_OK;
}
