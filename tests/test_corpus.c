/* The committed seed corpus for fuzzing (tests/corpus/): every ok-* file
 * loads and every bad-* file fails with FN_ERR_FORMAT (checkpoints: or
 * FN_ERR_MISMATCH, a tensor the model lacks or needs), through the same
 * in-memory entry points the fuzzers in tests/fuzz/ call. */
#include <dirent.h>

#include "check.h"
#include "data/data.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "train/train.h"

static fn_status load(const char *kind, const char *name, const uint8_t *data, size_t size)
{
    if (strcmp(kind, "idx") == 0) {
        fn_idx x;
        fn_status st = fn_idx_read_mem(name, data, size, &x);
        fn_idx_free(&x);
        return st;
    }
    if (strcmp(kind, "cifar") == 0) {
        fn_dataset *d = NULL;
        fn_status st =
            fn_dataset_from_cifar_mem(name, data, size, strstr(name, "-c100-") != NULL, &d);
        if (st == FN_OK)
            CHECK(fn_dataset_count(d) >= 1 && fn_dataset_label(d, 0) >= 0, "%s: labels", name);
        fn_dataset_free(d);
        return st;
    }
    if (strcmp(kind, "checkpoint") == 0) {
        if (strstr(name, "-state-")) return fn_train_state_read_mem(name, data, size);
        fn_model_config cfg;
        return fn_checkpoint_read_config_mem(name, data, size, &cfg);
    }
    if (strcmp(kind, "safetensors") == 0) {
        fn_st_file *f = NULL;
        fn_status st = fn_st_open_mem(name, data, size, &f);
        for (int i = 0; st == FN_OK && i < fn_st_count(f); i++) {
            const fn_st_tensor *t = fn_st_tensor_at(f, i);
            size_t n = fn_st_numel(t);
            float *buf = malloc(sizeof(float) * (n ? n : 1));
            st = fn_st_get_f32(f, t->name, buf, n);
            free(buf);
        }
        fn_st_close(f);
        return st;
    }
    fn_image img;
    fn_status st = fn_image_load_mem(name, data, size, &img);
    if (st == FN_OK) {
        float out[3 * 5 * 5];
        st = fn_image_to_input(&img, 3, 5, 5, NULL, NULL, out);
    }
    fn_image_free(&img);
    return st;
}

static void check_dir(const char *root, const char *kind)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/tests/corpus/%s", root, kind);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "corpus folder %s", dir);
    if (!d) return;
    int ok = 0, bad = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int is_ok = strncmp(e->d_name, "ok-", 3) == 0, is_bad = strncmp(e->d_name, "bad-", 4) == 0;
        if (!is_ok && !is_bad) continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        uint8_t *data;
        size_t size;
        CHECK_OK(fn_file_read(path, 1 << 20, &data, &size));
        if (!data) continue;
        /* Small seeds give the fuzzer room; a CIFAR record or a LeNet-5 is larger. */
        size_t limit = strcmp(kind, "cifar") == 0 ? 16384
                       : strncmp(e->d_name, "ok-", 3) == 0 && strcmp(kind, "checkpoint") == 0
                           ? 131072
                           : 1024;
        CHECK(size <= limit, "%s: corpus files stay small (%zu bytes)", e->d_name, size);
        fn_status st = load(kind, e->d_name, data, size);
        if (is_ok) {
            CHECK(st == FN_OK, "%s should load: %s", e->d_name, fn_last_error());
            ok++;
        } else {
            int want =
                st == FN_ERR_FORMAT || (strcmp(kind, "checkpoint") == 0 && st == FN_ERR_MISMATCH);
            CHECK(want, "%s should fail with a format error, got %s", e->d_name,
                  fn_status_name(st));
            if (want && getenv("VERBOSE")) printf("%-32s %s\n", e->d_name, fn_last_error());
            bad++;
        }
        free(data);
    }
    closedir(d);
    CHECK(ok >= (strcmp(kind, "checkpoint") == 0 ? 2 : 3) && bad >= 3,
          "%s: %d valid and %d invalid seeds", kind, ok, bad);
}

int main(void)
{
    const char *root = getenv("FOCUSNET_SOURCE_DIR");
    if (!root) root = ".";
    check_dir(root, "idx");
    check_dir(root, "safetensors");
    check_dir(root, "image");
    check_dir(root, "cifar");
    check_dir(root, "checkpoint");
    return check_summary("corpus");
}
