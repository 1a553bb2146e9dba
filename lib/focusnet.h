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


/* ---- Models -------------------------------------------------------------
 * Architectures: "lenet5", "resnet18", "resnet34", "mobilenetv2".
 * small_stem: ResNet with a 3x3 stride-1 first convolution and no max pool,
 * MobileNetV2 with its first convolution and first stride-2 block at stride 1
 * (both down-sample 8x instead of 32x). width: MobileNetV2's multiplier. */
typedef struct fn_model fn_model;

typedef struct {
    char arch[32];
    int small_stem;
    float width;
    int classes;
    int channels, height, width_px; /* input */
} fn_model_config;

/* Fills cfg for arch with the defaults for an input of c x h x w and k classes:
 * small_stem when h and w are at most 64, width 0.5 for MobileNetV2. */
fn_status fn_model_config_default(fn_model_config *cfg, const char *arch, int classes, int c,
                                  int h, int w);
/* Names of the architectures, NULL-terminated. */
const char *const *fn_model_arch_names(void);

/* Builds a model. dev NULL builds shapes only (counting parameters and FLOPs);
 * training 0 keeps nothing for backward and shares activation memory. */
fn_status fn_model_create(fn_device *dev, const fn_model_config *cfg, int max_batch, int training,
                          fn_model **out);
void fn_model_free(fn_model *m);
const fn_model_config *fn_model_get_config(const fn_model *m);
int64_t fn_model_param_count(const fn_model *m);
/* Forward FLOPs per image, counted as 2 x multiply-adds of convolutions and linear layers. */
double fn_model_flops(const fn_model *m);
/* Evaluation-mode forward of n host images (n, C, H, W) into host logits (n, K). */
fn_status fn_model_predict(fn_model *m, const float *images, int n, float *logits);

#ifdef __cplusplus
}
#endif
#endif
