/* safetensors reading and writing. The reader trusts nothing in the file:
 * see safetensors.h for what is checked. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../core/core.h"
#include "file.h"
#include "safetensors.h"

#define ST_MAX_FILE ((size_t)1 << 40)
/* cJSON spends ~64 bytes per value; bound the values a header may hold. */
#define ST_MAX_JSON_VALUES 4000000
#define ST_MAX_INT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact */

struct fn_st_file {
    char *name;
    uint8_t *buf; /* the whole file */
    size_t size;
    const uint8_t *data; /* the data section */
    size_t data_size;
    fn_st_tensor *t;
    int n;
    int *by_name; /* indices sorted by name */
    char **meta_keys, **meta_values;
    int n_meta;
};

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [FN_ST_F32] = {"F32", 4},   [FN_ST_F64] = {"F64", 8}, [FN_ST_F16] = {"F16", 2},
    [FN_ST_BF16] = {"BF16", 2}, [FN_ST_I64] = {"I64", 8}, [FN_ST_I32] = {"I32", 4},
};
#define N_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

const char *fn_st_dtype_name(fn_st_dtype t)
{
    return (int)t >= 0 && (int)t < N_DTYPES ? dtypes[t].name : "?";
}

size_t fn_st_dtype_size(fn_st_dtype t)
{
    return (int)t >= 0 && (int)t < N_DTYPES ? dtypes[t].size : 0;
}

size_t fn_st_numel(const fn_st_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

/* numel and bytes of a shape, or 0 when they overflow size_t. */
static int shape_bytes(const int64_t *shape, int ndim, size_t esize, size_t *numel, size_t *bytes)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return 0;
        size_t d = (size_t)shape[i];
        if (d && n > SIZE_MAX / d) return 0;
        n *= d;
    }
    if (esize && n > SIZE_MAX / esize) return 0;
    *numel = n;
    *bytes = n * esize;
    return 1;
}

void fn_st_close(fn_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++)
        free((char *)f->t[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    free(f->t);
    free(f->by_name);
    free(f->buf);
    free(f->name);
    free(f);
}

static int as_int(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= ST_MAX_INT && d == floor(d))) return 0;
    *out = d;
    return 1;
}

static int cmp_by_name(const void *a, const void *b, void *ctx)
{
    const fn_st_tensor *t = ctx;
    return strcmp(t[*(const int *)a].name, t[*(const int *)b].name);
}
static int cmp_by_begin(const void *a, const void *b, void *ctx)
{
    const fn_st_file *f = ctx;
    const uint8_t *x = f->t[*(const int *)a].data, *y = f->t[*(const int *)b].data;
    return x < y ? -1 : x > y;
}

static fn_status parse_tensor(fn_st_file *f, const cJSON *item, fn_st_tensor *t)
{
    const char *nm = item->string;
    if (!cJSON_IsObject(item))
        return fn_error(FN_ERR_FORMAT, "%s: tensor '%s': not a JSON object", f->name, nm);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return fn_error(FN_ERR_FORMAT, "%s: tensor '%s': needs dtype, shape and data_offsets",
                        f->name, nm);
    int dt = -1;
    for (int k = 0; k < N_DTYPES; k++)
        if (strcmp(dtype->valuestring, dtypes[k].name) == 0) dt = k;
    if (dt < 0)
        return fn_error(FN_ERR_FORMAT, "%s: tensor '%s': unsupported dtype \"%.32s\"", f->name, nm,
                        dtype->valuestring);
    t->dtype = (fn_st_dtype)dt;
    int nd = cJSON_GetArraySize(shape);
    if (nd > FN_ST_MAX_DIMS)
        return fn_error(FN_ERR_FORMAT, "%s: tensor '%s': %d dimensions, at most %d supported",
                        f->name, nm, nd, FN_ST_MAX_DIMS);
    t->ndim = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        double v;
        if (!as_int(d, &v))
            return fn_error(FN_ERR_FORMAT,
                            "%s: tensor '%s': shape entries must be non-negative integers", f->name,
                            nm);
        t->shape[t->ndim++] = (int64_t)v;
    }
    double begin, end;
    if (cJSON_GetArraySize(offs) != 2 || !as_int(offs->child, &begin) ||
        !as_int(offs->child->next, &end))
        return fn_error(FN_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets must be two non-negative integers", f->name,
                        nm);
    size_t numel, bytes;
    if (!shape_bytes(t->shape, t->ndim, dtypes[dt].size, &numel, &bytes))
        return fn_error(FN_ERR_FORMAT, "%s: tensor '%s': shape too large", f->name, nm);
    if (end < begin || end > (double)f->data_size)
        return fn_error(FN_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%.0f, %.0f] outside the data section "
                        "(%zu bytes)",
                        f->name, nm, begin, end, f->data_size);
    if ((size_t)(end - begin) != bytes)
        return fn_error(
            FN_ERR_FORMAT,
            "%s: tensor '%s': %zu elements of %s need %zu bytes, data_offsets give %.0f", f->name,
            nm, numel, dtypes[dt].name, bytes, end - begin);
    t->data = f->data + (size_t)begin;
    t->nbytes = bytes;
    if (!(t->name = strdup(nm))) return fn_error(FN_ERR_NOMEM, "%s: no memory", f->name);
    return FN_OK;
}

static fn_status parse_metadata(fn_st_file *f, const cJSON *meta)
{
    if (f->meta_keys) return fn_error(FN_ERR_FORMAT, "%s: __metadata__ appears twice", f->name);
    if (!cJSON_IsObject(meta))
        return fn_error(FN_ERR_FORMAT, "%s: __metadata__ is not a JSON object", f->name);
    int n = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)n + 1, sizeof(char *));
    f->meta_values = calloc((size_t)n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values) return fn_error(FN_ERR_NOMEM, "%s: no memory", f->name);
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return fn_error(FN_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string",
                            f->name, m->string);
        for (int i = 0; i < f->n_meta; i++)
            if (strcmp(f->meta_keys[i], m->string) == 0)
                return fn_error(FN_ERR_FORMAT, "%s: __metadata__ key '%s' appears twice", f->name,
                                m->string);
        f->meta_keys[f->n_meta] = strdup(m->string);
        f->meta_values[f->n_meta] = strdup(m->valuestring);
        if (!f->meta_keys[f->n_meta] || !f->meta_values[f->n_meta]) {
            f->n_meta++;
            return fn_error(FN_ERR_NOMEM, "%s: no memory", f->name);
        }
        f->n_meta++;
    }
    return FN_OK;
}

static fn_status parse(fn_st_file *f)
{
    if (f->size < 8)
        return fn_error(FN_ERR_FORMAT, "%s: truncated: %zu bytes, no header length", f->name,
                        f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | f->buf[i];
    if (hlen > f->size - 8)
        return fn_error(FN_ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes)",
                        f->name, (unsigned long long)hlen, f->size);
    if (hlen > FN_ST_MAX_HEADER)
        return fn_error(FN_ERR_FORMAT, "%s: header length %llu is over the 100 MB limit", f->name,
                        (unsigned long long)hlen);
    const char *header = (const char *)f->buf + 8;
    size_t hsize = (size_t)hlen;
    f->data = f->buf + 8 + hsize;
    f->data_size = f->size - 8 - hsize;
    if (memchr(header, 0, hsize))
        return fn_error(FN_ERR_FORMAT, "%s: header holds a NUL byte", f->name);
    size_t values = 0;
    for (size_t i = 0; i < hsize; i++)
        values += header[i] == ',' || header[i] == '[' || header[i] == '{';
    if (values > ST_MAX_JSON_VALUES)
        return fn_error(FN_ERR_FORMAT, "%s: header has too many JSON values", f->name);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(header, hsize, &end, 0);
    if (!root) {
        size_t at = end && end >= header ? (size_t)(end - header) : 0;
        return fn_error(FN_ERR_FORMAT, "%s: header is not valid JSON (at byte %zu of %zu)", f->name,
                        at, hsize);
    }
    fn_status st = FN_OK;
    for (const char *p = end; p < header + hsize; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            st = fn_error(FN_ERR_FORMAT, "%s: header has data after its JSON", f->name);
    if (st == FN_OK && !cJSON_IsObject(root))
        st = fn_error(FN_ERR_FORMAT, "%s: header is not a JSON object", f->name);
    int count = 0;
    for (const cJSON *c = st == FN_OK ? root->child : NULL; c; c = c->next)
        count++;
    if (st == FN_OK) {
        f->t = calloc((size_t)count + 1, sizeof *f->t);
        f->by_name = malloc(sizeof(int) * ((size_t)count + 1));
        if (!f->t || !f->by_name)
            st = fn_error(FN_ERR_NOMEM, "%s: no memory for %d tensors", f->name, count);
    }
    for (const cJSON *c = st == FN_OK ? root->child : NULL; c && st == FN_OK; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            st = parse_metadata(f, c);
        } else {
            st = parse_tensor(f, c, &f->t[f->n]);
            if (st == FN_OK) f->n++;
        }
    }
    cJSON_Delete(root);
    if (st != FN_OK) return st;
    /* cJSON keeps repeated keys; the format forbids them. */
    for (int i = 0; i < f->n; i++)
        f->by_name[i] = i;
    qsort_r(f->by_name, (size_t)f->n, sizeof(int), cmp_by_name, f->t);
    for (int i = 1; i < f->n; i++)
        if (strcmp(f->t[f->by_name[i - 1]].name, f->t[f->by_name[i]].name) == 0)
            return fn_error(FN_ERR_FORMAT, "%s: tensor '%s' appears twice", f->name,
                            f->t[f->by_name[i]].name);
    int *order = malloc(sizeof(int) * ((size_t)f->n + 1));
    if (!order) return fn_error(FN_ERR_NOMEM, "%s: no memory", f->name);
    int k = 0;
    for (int i = 0; i < f->n; i++)
        if (f->t[i].nbytes) order[k++] = i;
    qsort_r(order, (size_t)k, sizeof(int), cmp_by_begin, f);
    for (int i = 1; i < k && st == FN_OK; i++) {
        const fn_st_tensor *a = &f->t[order[i - 1]], *b = &f->t[order[i]];
        if ((const uint8_t *)a->data + a->nbytes > (const uint8_t *)b->data)
            st = fn_error(FN_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", f->name, a->name,
                          b->name);
    }
    free(order);
    return st;
}

static fn_status open_buffer(const char *name, uint8_t *buf, size_t size, fn_st_file **out)
{
    fn_st_file *f = calloc(1, sizeof *f);
    char *nm = strdup(name);
    if (!f || !nm) {
        free(f);
        free(nm);
        free(buf);
        return fn_error(FN_ERR_NOMEM, "%s: no memory", name);
    }
    f->name = nm;
    f->buf = buf;
    f->size = size;
    fn_status st = parse(f);
    if (st != FN_OK) {
        fn_st_close(f);
        return st;
    }
    *out = f;
    return FN_OK;
}

fn_status fn_st_open(const char *path, fn_st_file **out)
{
    *out = NULL;
    if (!path) return fn_error(FN_ERR_ARG, "fn_st_open: NULL path");
    uint8_t *buf;
    size_t size;
    FN_TRY(fn_file_read(path, ST_MAX_FILE, &buf, &size));
    return open_buffer(path, buf, size, out);
}

fn_status fn_st_open_mem(const char *name, const void *data, size_t size, fn_st_file **out)
{
    *out = NULL;
    if (!name || (!data && size)) return fn_error(FN_ERR_ARG, "fn_st_open_mem: bad argument");
    uint8_t *buf = malloc(size + 1);
    if (!buf) return fn_error(FN_ERR_NOMEM, "%s: no memory for %zu bytes", name, size);
    if (size) memcpy(buf, data, size);
    return open_buffer(name, buf, size, out);
}

int fn_st_count(const fn_st_file *f)
{
    return f->n;
}

const fn_st_tensor *fn_st_tensor_at(const fn_st_file *f, int i)
{
    return i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const fn_st_tensor *fn_st_find(const fn_st_file *f, const char *name)
{
    int lo = 0, hi = f->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(f->t[f->by_name[mid]].name, name);
        if (c == 0) return &f->t[f->by_name[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int fn_st_meta_count(const fn_st_file *f)
{
    return f->n_meta;
}

void fn_st_meta_at(const fn_st_file *f, int i, const char **key, const char **value)
{
    int ok = i >= 0 && i < f->n_meta;
    *key = ok ? f->meta_keys[i] : NULL;
    *value = ok ? f->meta_values[i] : NULL;
}

const char *fn_st_meta(const fn_st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24); /* zero or subnormal */
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

fn_status fn_st_get_f32(const fn_st_file *f, const char *name, float *out, size_t count)
{
    const fn_st_tensor *t = fn_st_find(f, name);
    if (!t) return fn_error(FN_ERR_FORMAT, "%s: no tensor '%s'", f->name, name);
    size_t n = fn_st_numel(t);
    if (n != count)
        return fn_error(FN_ERR_MISMATCH, "%s: tensor '%s' has %zu elements, %zu expected", f->name,
                        name, n, count);
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case FN_ST_F32: {
            uint32_t u = (uint32_t)le(p + 4 * i, 4);
            memcpy(&out[i], &u, 4);
            break;
        }
        case FN_ST_F64: {
            uint64_t u = le(p + 8 * i, 8);
            double d;
            memcpy(&d, &u, 8);
            out[i] = (float)d;
            break;
        }
        case FN_ST_F16:
            out[i] = half_to_float((uint16_t)le(p + 2 * i, 2));
            break;
        case FN_ST_BF16: {
            uint32_t u = (uint32_t)le(p + 2 * i, 2) << 16;
            memcpy(&out[i], &u, 4);
            break;
        }
        case FN_ST_I64:
            out[i] = (float)(int64_t)le(p + 8 * i, 8);
            break;
        case FN_ST_I32:
            out[i] = (float)(int32_t)(uint32_t)le(p + 4 * i, 4);
            break;
        }
    }
    return FN_OK;
}

/* ---- Writing ---------------------------------------------------------------- */

/* A JSON string of s, invalid UTF-8 replaced (fn_utf8_sanitize). */
static cJSON *json_string(const char *s)
{
    char *clean = fn_utf8_sanitize(s);
    cJSON *j = clean ? cJSON_CreateString(clean) : NULL;
    free(clean);
    return j;
}

/* Adds item under key (sanitized); 0 when memory ran out. */
static int add_item(cJSON *o, const char *key, cJSON *item)
{
    char *clean = fn_utf8_sanitize(key);
    int ok = clean && item && cJSON_AddItemToObject(o, clean, item);
    if (!ok) cJSON_Delete(item);
    free(clean);
    return ok;
}

static cJSON *json_ints(const int64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

typedef struct {
    const fn_st_tensor *t;
    int n;
    const char *header;
    size_t header_len;
    const char *path;
} write_ctx;

static fn_status write_body(FILE *f, void *arg)
{
    write_ctx *c = arg;
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)c->header_len >> (8 * i));
    if (fwrite(len, 1, 8, f) != 8 || fwrite(c->header, 1, c->header_len, f) != c->header_len)
        return fn_error(FN_ERR_IO, "write failed in the header of %s: %s", c->path,
                        strerror(errno));
    for (int i = 0; i < c->n; i++) {
        size_t numel = 0, bytes = 0;
        shape_bytes(c->t[i].shape, c->t[i].ndim, fn_st_dtype_size(c->t[i].dtype), &numel, &bytes);
        if (bytes && fwrite(c->t[i].data, 1, bytes, f) != bytes)
            return fn_error(FN_ERR_IO, "write failed in tensor '%s' of %s: %s", c->t[i].name,
                            c->path, strerror(errno));
    }
    return FN_OK;
}

fn_status fn_st_write(const char *path, const fn_st_tensor *tensors, int n,
                      const char *const *meta_keys, const char *const *meta_values, int n_meta)
{
    if (!path || n < 0 || n_meta < 0 || (n && !tensors) || (n_meta && (!meta_keys || !meta_values)))
        return fn_error(FN_ERR_ARG, "fn_st_write: bad argument");
    for (int i = 0; i < n_meta; i++) {
        if (!meta_keys[i] || !meta_values[i])
            return fn_error(FN_ERR_ARG, "%s: metadata %d is NULL", path, i);
        for (int j = 0; j < i; j++)
            if (strcmp(meta_keys[i], meta_keys[j]) == 0)
                return fn_error(FN_ERR_ARG, "%s: metadata key '%s' given twice", path,
                                meta_keys[i]);
    }
    /* The header is built with cJSON: the layout is the one the format and
     * earlier focusnet versions write (metadata first, then the tensors in
     * order, no spaces), and every string is escaped and valid UTF-8. */
    cJSON *root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && n_meta) {
        cJSON *meta = cJSON_CreateObject();
        ok = add_item(root, "__metadata__", meta);
        for (int i = 0; ok && i < n_meta; i++)
            ok = add_item(meta, meta_keys[i], json_string(meta_values[i]));
    }
    size_t offset = 0;
    fn_status st = FN_OK;
    for (int i = 0; i < n && st == FN_OK; i++) {
        const fn_st_tensor *t = &tensors[i];
        size_t numel = 0, bytes = 0, esize = fn_st_dtype_size(t->dtype);
        if (!t->name || strcmp(t->name, "__metadata__") == 0)
            st = fn_error(FN_ERR_ARG, "%s: tensor %d has no usable name", path, i);
        else if (!esize || t->ndim < 0 || t->ndim > FN_ST_MAX_DIMS)
            st = fn_error(FN_ERR_ARG, "%s: tensor '%s': bad dtype or dimension count", path,
                          t->name);
        else if (!shape_bytes(t->shape, t->ndim, esize, &numel, &bytes) ||
                 offset > SIZE_MAX - bytes)
            st = fn_error(FN_ERR_ARG, "%s: tensor '%s': bad shape", path, t->name);
        else if (bytes && !t->data)
            st = fn_error(FN_ERR_ARG, "%s: tensor '%s': no data", path, t->name);
        for (int j = 0; j < i && st == FN_OK; j++)
            if (strcmp(t->name, tensors[j].name) == 0)
                st = fn_error(FN_ERR_ARG, "%s: tensor '%s' given twice", path, t->name);
        if (st != FN_OK) break;
        int64_t offs[2] = {(int64_t)offset, (int64_t)(offset + bytes)};
        cJSON *e = cJSON_CreateObject();
        ok = ok && add_item(root, t->name, e);
        ok = ok && add_item(e, "dtype", json_string(fn_st_dtype_name(t->dtype)));
        ok = ok && add_item(e, "shape", json_ints(t->shape, t->ndim));
        ok = ok && add_item(e, "data_offsets", json_ints(offs, 2));
        offset += bytes;
    }
    char *json = st == FN_OK && ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (st == FN_OK && !json) st = fn_error(FN_ERR_NOMEM, "%s: no memory for the header", path);
    size_t len = json ? strlen(json) : 0;
    /* Spaces pad the header so the data section starts 8-byte aligned. */
    char *header = NULL;
    if (st == FN_OK) {
        size_t padded = (len + 7) / 8 * 8;
        header = malloc(padded + 1);
        if (!header) {
            st = fn_error(FN_ERR_NOMEM, "%s: no memory for the header", path);
        } else {
            memcpy(header, json, len);
            memset(header + len, ' ', padded - len);
            header[padded] = 0;
            len = padded;
        }
    }
    free(json);
    if (st == FN_OK) {
        write_ctx c = {tensors, n, header, len, path};
        st = fn_file_write_atomic(path, write_body, &c);
    }
    free(header);
    return st;
}
