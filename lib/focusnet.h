/* focusnet: train image classifiers with the FocusNet method on any OpenCL device.
 *
 * The one public header. Handles are opaque; results are plain structs.
 * Every function that can fail returns an fn_status; on failure the reason is
 * available, as one line, from fn_last_error() on the same thread.
 * The library never exits or aborts. */
#ifndef FOCUSNET_H
#define FOCUSNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOCUSNET_VERSION "0.1.0"

typedef enum {
    FN_OK = 0,
    FN_ERR_ARG,       /* a bad argument or option */
    FN_ERR_IO,        /* a file could not be read or written */
    FN_ERR_FORMAT,    /* a file is corrupt or not of the expected kind */
    FN_ERR_MISMATCH,  /* shapes, architectures or class counts disagree */
    FN_ERR_NOMEM,     /* host or device memory ran out */
    FN_ERR_CL,        /* an OpenCL call failed */
    FN_ERR_BUILD,     /* a kernel failed to compile; the message holds the log */
    FN_ERR_DEVICE,    /* no such OpenCL device */
    FN_ERR_NUMERIC,   /* a loss or gradient became NaN or infinite */
    FN_ERR_INTERRUPTED,
} fn_status;

/* The last error on this thread, one line (build logs follow on later lines). */
const char *fn_last_error(void);
const char *fn_status_name(fn_status s);

/* ---- Devices ------------------------------------------------------------ */

typedef struct fn_device fn_device;

typedef struct {
    int platform_index;
    int device_index; /* index within its platform */
    int global_index; /* index across all platforms: what --device N means */
    char platform_name[128];
    char name[128];
    char vendor[128];
    char version[128];        /* OpenCL version string of the device */
    char driver_version[128];
    int is_gpu;
    int is_cpu;
    uint32_t compute_units;
    uint64_t global_mem;
    uint64_t local_mem;
    size_t max_work_group;
    int is_default;
} fn_device_info;

/* Fills up to max entries of out; *count receives the number of devices found. */
fn_status fn_devices_list(fn_device_info *out, int max, int *count);

/* Opens a device. spec may be NULL (then FOCUSNET_DEVICE, then the default:
 * the first GPU, else the first CPU device), a global index ("1"), or a
 * case-insensitive substring of the device or platform name ("nvidia"). */
fn_status fn_device_open(const char *spec, fn_device **out);
void fn_device_free(fn_device *dev);
const fn_device_info *fn_device_get_info(const fn_device *dev);

#ifdef __cplusplus
}
#endif
#endif
