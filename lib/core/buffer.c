/* Device buffers. Every allocation passes through fn_buffer_new so that
 * failures read alike and FOCUSNET_FAIL_ALLOC=N can make the Nth one fail. */
#include <stdatomic.h>
#include <stdlib.h>

#include "core.h"

static atomic_long alloc_count;

/* Counts a device allocation; its number when FOCUSNET_FAIL_ALLOC asks for
 * this one to fail (the tests of the error paths), else 0. */
static long injected_failure(void)
{
    long nth = atomic_fetch_add(&alloc_count, 1) + 1;
    fn_env env;
    fn_env_read(&env);
    return env.fail_alloc != 0 && env.fail_alloc == nth ? nth : 0;
}

fn_status fn_buffer_new(fn_device *dev, size_t bytes, cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        bytes = 4; /* OpenCL refuses empty buffers; keep callers simple */
    long nth = injected_failure();
    if (nth)
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
    if (slot < 0 || slot >= FN_SCRATCH_SLOTS)
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

/* ---- pinned staging and transfers that do not wait ---- */

fn_status fn_pinned_new(fn_device *dev, size_t bytes, cl_mem *mem, void **host)
{
    *mem = NULL;
    *host = NULL;
    if (bytes == 0) bytes = 4;
    long nth = injected_failure();
    if (nth)
        return fn_error(FN_ERR_NOMEM,
                        "pinned host allocation of %zu bytes failed (injected by "
                        "FOCUSNET_FAIL_ALLOC=%ld)",
                        bytes, nth);
    cl_int err;
    cl_mem m = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL,
                              &err);
    if (err != CL_SUCCESS)
        return fn_error(FN_ERR_NOMEM, "pinned host allocation of %zu bytes failed on %s: %s", bytes,
                        dev->info.name, fn_cl_error_name(err));
    /* Mapped once for good: the pointer is page-locked host memory the
     * driver transfers to and from without a bounce buffer. */
    void *p = clEnqueueMapBuffer(dev->queue, m, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
                                 NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(m);
        return fn_error(FN_ERR_NOMEM, "mapping %zu bytes of pinned memory failed on %s: %s", bytes,
                        dev->info.name, fn_cl_error_name(err));
    }
    *mem = m;
    *host = p;
    return FN_OK;
}

void fn_pinned_free(fn_device *dev, cl_mem mem, void *host)
{
    if (!mem) return;
    if (host && clEnqueueUnmapMemObject(dev->queue, mem, host, 0, NULL, NULL) == CL_SUCCESS)
        clFinish(dev->queue);
    clReleaseMemObject(mem);
}

fn_status fn_buffer_read_async(fn_device *dev, cl_mem m, size_t offset, size_t bytes, void *dst,
                               cl_event *done)
{
    if (done) *done = NULL;
    if (bytes == 0) return FN_OK;
    FN_CL(clEnqueueReadBuffer(dev->queue, m, CL_FALSE, offset, bytes, dst, 0, NULL, done));
    return FN_OK;
}

fn_status fn_buffer_write_async(fn_device *dev, cl_mem m, size_t offset, size_t bytes,
                                const void *src)
{
    if (bytes == 0) return FN_OK;
    FN_CL(clEnqueueWriteBuffer(dev->queue, m, CL_FALSE, offset, bytes, src, 0, NULL, NULL));
    return FN_OK;
}

fn_status fn_event_done(cl_event ev, int wait, int *done)
{
    *done = 1;
    if (!ev) return FN_OK;
    if (wait) {
        FN_CL(clWaitForEvents(1, &ev));
        return FN_OK;
    }
    cl_int s;
    FN_CL(clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof s, &s, NULL));
    if (s < 0) return fn_error(FN_ERR_CL, "a transfer failed on the device (%d)", (int)s);
    *done = s == CL_COMPLETE;
    return FN_OK;
}

void fn_event_release(cl_event ev)
{
    if (ev) clReleaseEvent(ev);
}

fn_status fn_flush(fn_device *dev)
{
    FN_CL(clFlush(dev->queue));
    return FN_OK;
}
