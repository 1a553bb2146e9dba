/* The committed seed corpus for fuzzing (tests/corpus/): every ok-* file
 * loads and every bad-* file fails with FN_ERR_FORMAT, through the same
 * in-memory entry points a fuzzer calls. */
#include <dirent.h>

#include "check.h"
#include "data/data.h"
#include "io/file.h"
#include "io/safetensors.h"

static fn_status load(const char *kind, const char *name, const uint8_t *data, size_t size)
{
    if (strcmp(kind, "idx") == 0) {
        fn_idx x;
        fn_status st = fn_idx_read_mem(name, data, size, &x);
        fn_idx_free(&x);
        return st;
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
        CHECK(size <= 1024, "%s: corpus files stay small (%zu bytes)", e->d_name, size);
        fn_status st = load(kind, e->d_name, data, size);
        if (is_ok) {
            CHECK(st == FN_OK, "%s should load: %s", e->d_name, fn_last_error());
            ok++;
        } else {
            CHECK(st == FN_ERR_FORMAT, "%s should fail with a format error, got %s", e->d_name,
                  fn_status_name(st));
            if (st == FN_ERR_FORMAT && getenv("VERBOSE"))
                printf("%-32s %s\n", e->d_name, fn_last_error());
            bad++;
        }
        free(data);
    }
    closedir(d);
    CHECK(ok >= 3 && bad >= 3, "%s: %d valid and %d invalid seeds", kind, ok, bad);
}

int main(void)
{
    const char *root = getenv("FOCUSNET_SOURCE_DIR");
    if (!root) root = ".";
    check_dir(root, "idx");
    check_dir(root, "safetensors");
    check_dir(root, "image");
    return check_summary("corpus");
}
