/* safetensors files (https://github.com/huggingface/safetensors), read and
 * written: an 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 2],
 *    "data_offsets": [begin, end]}, ...}
 * and then the data section; offsets are relative to its start.
 *
 * Reading checks everything against the file: the header length (at most the
 * file and 100 MB), JSON validity, known dtypes, shapes (non-negative
 * integers, products without overflow), offsets inside the data section with
 * end - begin == numel * dtype size, no duplicate names, no overlapping
 * tensors. */
#ifndef FN_SAFETENSORS_H
#define FN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../focusnet.h"

typedef enum {
    FN_ST_F32,
    FN_ST_F64,
    FN_ST_F16,
    FN_ST_BF16,
    FN_ST_I64,
    FN_ST_I32,
} fn_st_dtype;

#define FN_ST_MAX_DIMS 8
#define FN_ST_MAX_HEADER ((uint64_t)100 << 20)

typedef struct {
    const char *name;
    fn_st_dtype dtype;
    int ndim; /* 0 is a scalar */
    int64_t shape[FN_ST_MAX_DIMS];
    /* Little-endian element bytes. Read: points into the file's buffer, maybe
     * unaligned, valid until fn_st_close. Write: numel * dtype size bytes. */
    const void *data;
    size_t nbytes; /* read: the tensor's size in bytes; ignored on write */
} fn_st_tensor;

typedef struct fn_st_file fn_st_file;

fn_status fn_st_open(const char *path, fn_st_file **out);
/* Parses a copy of size bytes; name is used in messages (the fuzzing entry point). */
fn_status fn_st_open_mem(const char *name, const void *data, size_t size, fn_st_file **out);
void fn_st_close(fn_st_file *f);

int fn_st_count(const fn_st_file *f);
const fn_st_tensor *fn_st_tensor_at(const fn_st_file *f, int i);       /* header order */
const fn_st_tensor *fn_st_find(const fn_st_file *f, const char *name); /* NULL if absent */
/* Converts tensor `name` to float32; fails with FN_ERR_MISMATCH unless it has
 * exactly count elements, FN_ERR_FORMAT if it is absent. */
fn_status fn_st_get_f32(const fn_st_file *f, const char *name, float *out, size_t count);

int fn_st_meta_count(const fn_st_file *f);
void fn_st_meta_at(const fn_st_file *f, int i, const char **key, const char **value);
const char *fn_st_meta(const fn_st_file *f, const char *key); /* NULL if absent */

const char *fn_st_dtype_name(fn_st_dtype t); /* "F32", ... */
size_t fn_st_dtype_size(fn_st_dtype t);
size_t fn_st_numel(const fn_st_tensor *t); /* product of the shape; 1 for a scalar */

/* Writes tensors (in the given order, data packed in that order) and n_meta
 * string pairs as "__metadata__". The header is padded with spaces so the
 * data section starts 8-byte aligned. Atomic: written to "path.tmp-PID",
 * flushed, fsync'ed and renamed over path; on failure nothing is left behind
 * and an existing file is untouched. */
fn_status fn_st_write(const char *path, const fn_st_tensor *tensors, int n,
                      const char *const *meta_keys, const char *const *meta_values, int n_meta);

#endif
