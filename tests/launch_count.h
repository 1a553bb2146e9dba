/* Kernel launches counted by name through dev->launch_hook, for tests that
 * check which kernels a dispatch ran (test_conv_winograd, test_conv_pointwise). */
#ifndef FN_LAUNCH_COUNT_H
#define FN_LAUNCH_COUNT_H

#include <string.h>

#include "core/core.h"

typedef struct {
    const char *name; /* the kernel counted in hits */
    int hits, total;  /* its launches, all launches */
} launch_count;

static void launch_count_hook(void *ctx, cl_kernel k, int dims, const size_t *global,
                              const size_t *local)
{
    (void)dims, (void)global, (void)local;
    launch_count *l = ctx;
    char name[64] = "";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    l->total++;
    if (strcmp(name, l->name) == 0) l->hits++;
}

/* Counts from now on into *l (zeroed), launches of `name` in l->hits. */
static void launch_count_start(fn_device *dev, launch_count *l, const char *name)
{
    *l = (launch_count){name, 0, 0};
    dev->launch_hook = launch_count_hook;
    dev->launch_hook_ctx = l;
}

static void launch_count_stop(fn_device *dev)
{
    dev->launch_hook = NULL;
    dev->launch_hook_ctx = NULL;
}

#endif
