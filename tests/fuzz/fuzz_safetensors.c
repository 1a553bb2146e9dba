/* libFuzzer target: safetensors headers, metadata and tensor conversion. */
#include <stdlib.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_st_file *f = NULL;
    if (fn_st_open_mem("fuzz.safetensors", data, size, &f) == FN_OK) {
        for (int i = 0; i < fn_st_count(f); i++) {
            const fn_st_tensor *t = fn_st_tensor_at(f, i);
            size_t n = fn_st_numel(t);
            float *buf = malloc(sizeof(float) * (n ? n : 1));
            if (buf) fn_st_get_f32(f, t->name, buf, n);
            free(buf);
            fn_st_find(f, t->name);
        }
        for (int i = 0; i < fn_st_meta_count(f); i++) {
            const char *k, *v;
            fn_st_meta_at(f, i, &k, &v);
            fn_st_meta(f, k);
        }
    }
    fn_st_close(f);
    return 0;
}
