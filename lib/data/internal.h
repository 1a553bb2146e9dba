/* What the dataset readers (idx.c, cifar.c, folder.c) share with dataset.c. */
#ifndef FN_DATA_INTERNAL_H
#define FN_DATA_INTERNAL_H

#include "data.h"

/* Limits that keep every size computation far from overflow. */
#define FN_MAX_IMAGE_SIDE 65536
#define FN_MAX_IMAGE_BYTES ((size_t)1 << 28) /* C*H*W of one image */

struct fn_dataset {
    char name[64];
    int n, c, h, w, classes;
    uint8_t *images; /* (n, c, h, w) */
    int32_t *labels; /* (n) */
    char **class_names;
    int has_norm; /* the customary normalization below is known */
    float mean[3], std[3];
};

/* A dataset with room for n images of (c, h, w) and `classes` unnamed classes. */
fn_status fn_dataset_alloc(const char *name, int n, int c, int h, int w, int classes,
                           fn_dataset **out);
/* Copies names (NULL: "0", "1", ...). */
fn_status fn_dataset_set_class_names(fn_dataset *d, const char *const *names);
/* How many images of each class to keep so that at most `limit` remain, spread
 * round robin over the classes that still have images. limit <= 0 keeps all. */
void fn_limit_quotas(const int *per_class, int classes, int limit, int *quota);
/* Keeps the first quota images of each class, in dataset order. */
fn_status fn_dataset_apply_limit(fn_dataset *d, int limit);

/* Readers; the dataset they return is complete and limited. */
fn_status fn_dataset_open_idx_dir(const char *dir, const char *kind, const char *split, int limit,
                                  fn_dataset **out);
fn_status fn_dataset_open_cifar(const char *dir, int hundred, const char *split, int limit,
                                fn_dataset **out);
fn_status fn_dataset_open_folder(const char *dir, const char *split, int limit, int channels,
                                 int height, int width, fn_dataset **out);
/* arg: "N:SPEC", the part of a "holdout:N:SPEC" spec after "holdout:". */
fn_status fn_dataset_open_holdout(const char *arg, const char *split, int limit, int channels,
                                  int height, int width, fn_dataset **out);

/* The last path component of path (for messages and names). */
const char *fn_basename(const char *path);

#endif
