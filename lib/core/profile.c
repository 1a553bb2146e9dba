/* Per-kernel device time from OpenCL events (see core.h). Events are held
 * until fn_profile_stop, or until MAX_PENDING of them wait, and then summed by
 * name; a name table is small, so lookups are linear. Nothing here runs unless
 * a caller started recording, so the normal path pays one NULL test. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

#define MAX_PENDING 4096

typedef struct {
    cl_event ev, marker; /* marker: the span's start, or NULL */
    char name[64];
} pending;

struct fn_profile {
    int recording;
    pending *pend;
    int n_pend;
    cl_event slot, marker_slot; /* what fn_prof_begin hands out */
    fn_profile_entry *ent;
    int n_ent, cap_ent;
};

static fn_profile_entry *entry(struct fn_profile *p, const char *name)
{
    for (int i = 0; i < p->n_ent; i++)
        if (strcmp(p->ent[i].name, name) == 0) return &p->ent[i];
    if (p->n_ent == p->cap_ent) {
        int cap = p->cap_ent ? 2 * p->cap_ent : 64;
        fn_profile_entry *ne = realloc(p->ent, (size_t)cap * sizeof *ne);
        if (!ne) return NULL;
        p->ent = ne;
        p->cap_ent = cap;
    }
    fn_profile_entry *e = &p->ent[p->n_ent++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

static cl_ulong stamp(cl_event ev, cl_profiling_info what)
{
    cl_ulong t = 0;
    if (clGetEventProfilingInfo(ev, what, sizeof t, &t, NULL) != CL_SUCCESS) return 0;
    return t;
}

/* Waits for the queue, then adds every pending event to its name's total. */
static fn_status collect(fn_device *dev)
{
    struct fn_profile *p = dev->prof;
    if (!p || p->n_pend == 0) return FN_OK;
    FN_CL(clFinish(dev->queue));
    for (int i = 0; i < p->n_pend; i++) {
        pending *q = &p->pend[i];
        cl_ulong t1 = stamp(q->ev, CL_PROFILING_COMMAND_END);
        cl_ulong t0 = q->marker ? stamp(q->marker, CL_PROFILING_COMMAND_END)
                                : stamp(q->ev, CL_PROFILING_COMMAND_START);
        fn_profile_entry *e = entry(p, q->name);
        if (e && t0 && t1 >= t0) {
            e->ms += (double)(t1 - t0) * 1e-6;
            e->calls++;
        }
        clReleaseEvent(q->ev);
        if (q->marker) clReleaseEvent(q->marker);
    }
    p->n_pend = 0;
    return FN_OK;
}

fn_status fn_profile_start(fn_device *dev)
{
    if (!dev->profiling)
        return fn_error(FN_ERR_ARG, "profiling needs a device opened with a profiling queue");
    if (!dev->prof) {
        dev->prof = calloc(1, sizeof *dev->prof);
        if (dev->prof) dev->prof->pend = malloc(MAX_PENDING * sizeof *dev->prof->pend);
        if (!dev->prof || !dev->prof->pend) {
            if (dev->prof) free(dev->prof);
            dev->prof = NULL;
            return fn_error(FN_ERR_NOMEM, "out of host memory");
        }
    }
    FN_TRY(collect(dev));
    dev->prof->n_ent = 0;
    dev->prof->recording = 1;
    return FN_OK;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const fn_profile_entry *)a)->ms, y = ((const fn_profile_entry *)b)->ms;
    return (x < y) - (x > y);
}

fn_status fn_profile_stop(fn_device *dev)
{
    if (!dev->prof) return FN_OK;
    dev->prof->recording = 0;
    FN_TRY(collect(dev));
    qsort(dev->prof->ent, (size_t)dev->prof->n_ent, sizeof *dev->prof->ent, by_time);
    return FN_OK;
}

int fn_profile_entries(fn_device *dev, const fn_profile_entry **out)
{
    *out = dev->prof ? dev->prof->ent : NULL;
    return dev->prof ? dev->prof->n_ent : 0;
}

cl_event *fn_prof_begin(fn_device *dev, int span)
{
    struct fn_profile *p = dev->prof;
    if (!p || !p->recording) return NULL;
    p->slot = NULL;
    if (p->marker_slot) clReleaseEvent(p->marker_slot); /* left by a call that failed */
    p->marker_slot = NULL;
    if (span && clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &p->marker_slot) != CL_SUCCESS)
        p->marker_slot = NULL;
    return &p->slot;
}

void fn_prof_end(fn_device *dev, cl_event *ev, const char *name)
{
    struct fn_profile *p = dev->prof;
    if (!ev || !p) return;
    if (!*ev) { /* the call failed before enqueuing */
        if (p->marker_slot) clReleaseEvent(p->marker_slot);
        p->marker_slot = NULL;
        return;
    }
    pending *q = &p->pend[p->n_pend++];
    q->ev = *ev;
    q->marker = p->marker_slot;
    snprintf(q->name, sizeof q->name, "%s", name);
    *ev = NULL;
    p->marker_slot = NULL;
    /* Errors here only lose timings, which the totals then lack. */
    if (p->n_pend == MAX_PENDING) (void)collect(dev);
}

void fn_profile_free(fn_device *dev)
{
    if (!dev->prof) return;
    for (int i = 0; i < dev->prof->n_pend; i++) {
        clReleaseEvent(dev->prof->pend[i].ev);
        if (dev->prof->pend[i].marker) clReleaseEvent(dev->prof->pend[i].marker);
    }
    free(dev->prof->pend);
    free(dev->prof->ent);
    free(dev->prof);
    dev->prof = NULL;
}

/* ---- fn_span: one stretch of work, host clock and marker events ---- */
static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static cl_ulong marker_end(cl_event ev)
{
    cl_ulong t = 0;
    if (!ev ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t, &t, NULL) != CL_SUCCESS)
        return 0;
    return t;
}

fn_status fn_span_begin(fn_device *dev, fn_span *s)
{
    s->marker = NULL;
    FN_TRY(fn_finish(dev));
    s->host_t0 = now_ms();
    cl_event ev = NULL;
    /* A driver without usable markers only loses the device column. */
    if (clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &ev) == CL_SUCCESS) s->marker = ev;
    return FN_OK;
}

fn_status fn_span_end(fn_device *dev, fn_span *s, double *host_ms, double *device_ms)
{
    cl_event ev = NULL;
    if (clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &ev) != CL_SUCCESS) ev = NULL;
    fn_status st = fn_finish(dev);
    *host_ms = now_ms() - s->host_t0;
    *device_ms = -1;
    cl_ulong t0 = marker_end(s->marker), t1 = marker_end(ev);
    if (st == FN_OK && t0 != 0 && t1 > t0) *device_ms = (double)(t1 - t0) * 1e-6;
    if (*device_ms > *host_ms) *device_ms = -1; /* the markers ran inside the host's window */
    if (ev) clReleaseEvent(ev);
    if (s->marker) clReleaseEvent(s->marker);
    s->marker = NULL;
    return st;
}
