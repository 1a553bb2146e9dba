/* The environment variables focusnet reads, in one place (README
 * "Environment variables"). They are read when asked, not cached, so a
 * program (or a test) that sets one sees it take effect at the next device
 * open, allocation, kernel build, dataset open or evaluation forward. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

void fn_env_read(fn_env *e)
{
    const char *fail = getenv("FOCUSNET_FAIL_ALLOC");
    const char *off = getenv("FOCUSNET_NO_CACHE");
    e->device = getenv("FOCUSNET_DEVICE");
    e->gemm = getenv("FOCUSNET_GEMM");
    const char *wino = getenv("FOCUSNET_WINOGRAD");
    e->no_winograd = wino && strcmp(wino, "0") == 0;
    const char *rows = getenv("FOCUSNET_WINO_ROWS");
    e->no_wino_rows = rows && strcmp(rows, "0") == 0;
    const char *dw = getenv("FOCUSNET_WINO_DW");
    e->wino_dw = dw && strcmp(dw, "0") == 0 ? 0 : dw && strcmp(dw, "1") == 0 ? 1 : -1;
    e->fail_alloc = fail && *fail ? atol(fail) : 0;
    e->no_cache = off && *off && strcmp(off, "0") != 0;
    e->cache_dir = getenv("FOCUSNET_CACHE_DIR");
    e->xdg_cache_home = getenv("XDG_CACHE_HOME");
    e->home = getenv("HOME");
    e->kernel_dir = getenv("FOCUSNET_KERNEL_DIR");
    e->fashion_mnist_dir = getenv("FOCUSNET_FASHION_MNIST_DIR");
    const char *fold = getenv("FOCUSNET_FOLD");
    e->no_fold = fold && strcmp(fold, "0") == 0;
    const char *group = getenv("FOCUSNET_BN_GROUP");
    e->no_bn_group = group && strcmp(group, "0") == 0;
    const char *fuse = getenv("FOCUSNET_BN_FUSE");
    e->no_bn_fuse = fuse && strcmp(fuse, "0") == 0;
    const char *pw = getenv("FOCUSNET_POINTWISE");
    e->no_pointwise = pw && strcmp(pw, "0") == 0;
}
