/* Data: datasets held in memory, the batch loader, single image files.
 *
 * Every loader treats its files as hostile: lengths, offsets and counts are
 * checked against what the file really holds, sizes are multiplied with
 * overflow checks, and memory grows only as data actually arrives. Failures
 * return FN_ERR_FORMAT (corrupt or unexpected content) or FN_ERR_IO (cannot
 * read) with a one-line message naming the file. */
#ifndef FN_DATA_H
#define FN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "../focusnet.h"

/* ---- Datasets -------------------------------------------------------------
 * Images are uint8 (N, C, H, W), labels int32 in [0, classes). */
typedef struct fn_dataset fn_dataset;

/* spec:
 *   "fashion-mnist"  Debian's /usr/share/datasets/fashion-mnist (gzipped IDX);
 *                    the environment variable FOCUSNET_FASHION_MNIST_DIR overrides the folder
 *   "mnist:DIR"      train-images-idx3-ubyte[.gz] etc. (gzipped or raw IDX)
 *   "cifar10:DIR"    data_batch_1..5.bin / test_batch.bin (DIR or DIR/cifar-10-batches-bin)
 *   "cifar100:DIR"   train.bin / test.bin (DIR or DIR/cifar-100-binary); fine labels
 *   "folder:DIR"     DIR/<split>/<class>/ *.{jpg,jpeg,png,bmp}; classes are the sorted union
 *                    of the class folders of DIR/train and DIR/test, so both splits agree
 *                    on labels. Each image is resized (antialiased bilinear) to cover the
 *                    target size, keeping its aspect, and centre-cropped. The target size
 *                    and channels (1 or 3) are those of the first image unless the spec
 *                    ends in "@S" or "@HxW" ("folder:photos@64") or fn_dataset_open_sized
 *                    gives them.
 *   "holdout:N:SPEC" a validation split of SPEC's training images (holdout.c): "test"
 *                    is N of them (the last of each class, spread evenly across
 *                    classes), "train" the others; SPEC's test split is not read.
 * split: "train" or "test".
 * limit: keep at most this many images (0 = all), spread evenly across classes (round
 *        robin over the classes that still have images), each class keeping its first
 *        images in file order; the dataset order is preserved. */
fn_status fn_dataset_open(const char *spec, const char *split, int limit, fn_dataset **out);
/* As fn_dataset_open, with a required shape: 0 means "any". Folder datasets are
 * resized to it; fixed-format datasets fail with FN_ERR_MISMATCH when they differ. */
fn_status fn_dataset_open_sized(const char *spec, const char *split, int limit, int channels,
                                int height, int width, fn_dataset **out);

int fn_dataset_count(const fn_dataset *d);
int fn_dataset_channels(const fn_dataset *d);
int fn_dataset_height(const fn_dataset *d);
int fn_dataset_width(const fn_dataset *d);
int fn_dataset_classes(const fn_dataset *d);
const char *fn_dataset_class_name(const fn_dataset *d, int i); /* NULL when out of range */
const uint8_t *fn_dataset_image(const fn_dataset *d, int i);   /* (C, H, W); NULL out of range */
int fn_dataset_label(const fn_dataset *d, int i);              /* -1 when out of range */
const char *fn_dataset_name(const fn_dataset *d); /* "fashion-mnist", "mnist", "cifar10",
                                                     "cifar100", the folder's base name */
/* Per-channel mean and std of pixel/255: the customary values for fashion-mnist,
 * mnist, cifar10 and cifar100; otherwise computed from the data. Channels past
 * C repeat channel 0. */
void fn_dataset_default_norm(const fn_dataset *d, float mean[3], float std[3]);
void fn_dataset_free(fn_dataset *d);

/* Builds a dataset from memory (copied): images (n, c, h, w) uint8, labels in
 * [0, classes). class_names may be NULL ("0", "1", ...). For tests and tiny
 * synthetic datasets. */
fn_status fn_dataset_from_memory(const char *name, int n, int c, int h, int w, int classes,
                                 const uint8_t *images, const int32_t *labels,
                                 const char *const *class_names, fn_dataset **out);

/* Parses an IDX image file and label file held in memory (each gzipped or raw):
 * the entry point for fuzzing the IDX reader. name is used in messages. */
fn_status fn_dataset_from_idx_mem(const char *name, const void *images, size_t images_size,
                                  const void *labels, size_t labels_size, int classes,
                                  fn_dataset **out);

/* Parses one CIFAR binary batch held in memory: records of a label byte
 * (CIFAR-100: a coarse and a fine label byte; the fine one is used) and 3072
 * bytes of pixels (3, 32, 32). The entry point for fuzzing the CIFAR reader. */
fn_status fn_dataset_from_cifar_mem(const char *name, const void *data, size_t size, int hundred,
                                    fn_dataset **out);

/* One IDX file of bytes (magic 0x00000801 labels or 0x00000803 images),
 * gzipped or raw: dims[0..ndims) as in the header, data = the payload. The
 * lowest-level entry point for fuzzing. */
typedef struct {
    int ndims;
    uint32_t dims[3];
    uint8_t *data;
    size_t size;
} fn_idx;
fn_status fn_idx_read_mem(const char *name, const void *data, size_t size, fn_idx *out);
void fn_idx_free(fn_idx *x);

/* ---- Batch loader ---------------------------------------------------------
 * A background thread prepares the next batch while the caller computes. The
 * order of an epoch and each sample's augmentation derive only from (seed,
 * epoch, sample index), so batches never depend on thread timing and
 * restarting at (epoch, batch) reproduces what an uninterrupted run saw. */
typedef struct fn_loader fn_loader;

typedef struct {
    int batch;     /* images per batch, >= 1 */
    int shuffle;   /* a fresh permutation every epoch; otherwise dataset order */
    int augment;   /* turns on random crop and horizontal flip with their defaults */
    int drop_last; /* drop the final partial batch */
    uint64_t seed;
    /* Normalization of pixel/255: (x - mean[c]) / std[c]. When std[0] == 0 the
     * dataset's fn_dataset_default_norm is used for both. */
    float mean[3], std[3];
    /* Random-crop padding in pixels: > 0 that many, 0 = H/8 when augment is
     * set (else none), < 0 none. The image is padded with raw pixel value 0
     * before normalization, as torchvision's RandomCrop(padding) on a PIL image. */
    int pad;
    /* Horizontal flip with probability 0.5: > 0 on, 0 = on when augment is
     * set, < 0 off. */
    int flip;
    /* Data parallelism over `ranks` processes (0 or 1: none): this one, rank
     * `rank`, fills only its rows of each batch (fn_shard_rows); the other
     * rows' memory is left as it is and must not be read. The batch counts
     * and the order stay the global ones. */
    int rank, ranks;
} fn_loader_opts;

/* The dataset must outlive the loader. */
fn_status fn_loader_create(const fn_dataset *d, const fn_loader_opts *o, fn_loader **out);
int fn_loader_batches(const fn_loader *l); /* per epoch */
/* Begins (or restarts) producing epoch `epoch` from batch `first_batch`. */
fn_status fn_loader_start(fn_loader *l, int epoch, int first_batch);
/* The next batch as normalized float (B, C, H, W) and int32 labels; FN_OK with
 * *count = 0 at the end of the epoch. Buffers stay valid until the next call to
 * fn_loader_next, fn_loader_start or fn_loader_free. */
fn_status fn_loader_next(fn_loader *l, const float **images, const int32_t **labels, int *count);
void fn_loader_free(fn_loader *l);

/* ---- Single images --------------------------------------------------------- */
typedef struct {
    int w, h, c;     /* c: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA, as stored in the file */
    uint8_t *pixels; /* (H, W, C) interleaved */
} fn_image;

/* PNG, JPEG or BMP (checked by signature). */
fn_status fn_image_load(const char *path, fn_image *out);
/* The same from memory: the entry point for fuzzing the image reader. */
fn_status fn_image_load_mem(const char *name, const void *data, size_t size, fn_image *out);
void fn_image_free(fn_image *img);

/* Makes a network input (C, H, W) float from an image:
 *  - size: when the image is at least 8/7 of (h, w) both ways, it is scaled so
 *    that it covers (h*8/7, w*8/7), like Resize(256) + CenterCrop(224);
 *    otherwise (small images, e.g. 32x32 for a 32x32 network) it is scaled just
 *    to cover (h, w). Scaling keeps the aspect ratio and is antialiased
 *    bilinear; the centre (h, w) is then cropped. An image of exactly (h, w)
 *    passes unchanged.
 *  - channels: gray -> RGB repeats the value, RGB -> gray is the ITU-R 601
 *    luma (0.299 R + 0.587 G + 0.114 B), alpha is dropped.
 *  - values: (pixel/255 - mean[c]) / std[c]; mean/std may be NULL (0 and 1). */
fn_status fn_image_to_input(const fn_image *img, int c, int h, int w, const float *mean,
                            const float *std, float *out);

/* ---- Internals shared by the data files ------------------------------------ */

/* Resizes src (sh, sw, c) to (rh, rw) with an antialiased bilinear (triangle)
 * filter, like PIL's BILINEAR, and writes the window at (y0, x0) of size
 * (dh, dw) to dst (dh, dw, c) as floats in [0, 255]. */
fn_status fn_resample(const uint8_t *src, int sh, int sw, int c, int rh, int rw, int y0, int x0,
                      int dh, int dw, float *dst);
/* The size (rh, rw) that covers (h, w) at `num/den` times, keeping the aspect
 * of (sh, sw), and the centre-crop offsets of (h, w) within it. */
void fn_cover_size(int sh, int sw, int h, int w, int num, int den, int *rh, int *rw, int *y0,
                   int *x0);
/* Converts n pixels from sc to dc channels (1..4; see fn_image_to_input). */
void fn_pixels_convert(const uint8_t *src, int sc, uint8_t *dst, int dc, size_t n);

#endif
