/* --keep-epochs E (fn_train_config.keep_epochs): every E-th epoch's
 * checkpoint in DIR/epochs/epoch-NNN.safetensors, the same checkpoint (and
 * metadata keys) as the run's last.safetensors at that epoch; kept epochs
 * survive a resume, which keeps adding later ones bit for bit as an
 * uninterrupted run would; --overwrite takes the old run's epochs away (and
 * leaves a user's other files); kept epochs alone count as a run. */
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "io/safetensors.h"
#include "train/train.h"
#include "tiny_mnist.h"
#include "tmpdir.h"

static int exists(const char *dir, const char *name)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Tensors bit for bit, and the same metadata keys (values hold timings). */
static int same_checkpoint(const char *a, const char *b)
{
    fn_st_file *fa = NULL, *fb = NULL;
    if (fn_st_open(a, &fa) != FN_OK || fn_st_open(b, &fb) != FN_OK) {
        fprintf(stderr, "  %s\n", fn_last_error());
        fn_st_close(fa);
        return 0;
    }
    int ok = fn_st_count(fa) == fn_st_count(fb) && fn_st_count(fa) > 0;
    for (int i = 0; ok && i < fn_st_count(fa); i++) {
        const fn_st_tensor *t = fn_st_tensor_at(fa, i), *u = fn_st_find(fb, t->name);
        ok = u && u->nbytes == t->nbytes && memcmp(u->data, t->data, t->nbytes) == 0;
        if (!ok) fprintf(stderr, "  tensor %s differs between %s and %s\n", t->name, a, b);
    }
    /* The metadata of a checkpoint (checkpoint.c), equal but for the
     * history's timings. */
    static const char *const keys[] = {
        "focusnet.version", "focusnet.arch", "focusnet.classes", "focusnet.class_names",
        "focusnet.input",   "focusnet.mean", "focusnet.std",     "focusnet.small_stem",
        "focusnet.width",   "focusnet.data", "focusnet.dataset", "focusnet.loss",
        "focusnet.history"};
    for (size_t k = 0; ok && k < sizeof keys / sizeof *keys; k++) {
        const char *x = fn_st_meta(fa, keys[k]), *y = fn_st_meta(fb, keys[k]);
        ok = (x != NULL) == (y != NULL) &&
             (!x || strcmp(keys[k], "focusnet.history") == 0 || strcmp(x, y) == 0);
        if (!ok) fprintf(stderr, "  metadata %s differs between %s and %s\n", keys[k], a, b);
    }
    fn_st_close(fa);
    fn_st_close(fb);
    return ok;
}

static int count_kept(const char *dir)
{
    char p[700];
    snprintf(p, sizeof p, "%s/epochs", dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

int main(void)
{
    char dir[512];
    tmpdir_make(dir, sizeof dir, "epochs");
    tiny_write_split(dir, "train", 96, 1);
    tiny_write_split(dir, "t10k", 30, 2);
    char data[600], a[600], b[600], c4[600], path[800], path2[800];
    snprintf(data, sizeof data, "mnist:%s", dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c4, sizeof c4, "%s/c4", dir);

    /* 5 epochs of 3 steps; a fixed milestone so that a 4-epoch run takes
     * the same steps as the first 4 of 5. */
    fn_train_config c;
    fn_train_config_default(&c);
    c.data = data;
    c.epochs = 5;
    c.batch = 32;
    c.sgd.lr = 0.05f;
    c.augment = 1;
    c.seed = 4;
    c.sched.milestones[0] = 3;
    c.sched.n_milestones = 1;
    c.keep_epochs = 2;
    c.out_dir = a;
    fn_train_result r;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    CHECK(exists(a, "epochs/epoch-002.safetensors") && exists(a, "epochs/epoch-004.safetensors"),
          "epochs 2 and 4 kept");
    CHECK(count_kept(a) == 2, "nothing else in epochs/ (%d files)", count_kept(a));

    /* Epoch 4's checkpoint is last.safetensors of a run that ends there. */
    fn_train_config c4c = c;
    c4c.epochs = 4;
    c4c.keep_epochs = 0;
    c4c.out_dir = c4;
    CHECK_OK(fn_train(&c4c, &r));
    fn_eval_report_free(&r.report);
    snprintf(path, sizeof path, "%s/epochs/epoch-004.safetensors", a);
    snprintf(path2, sizeof path2, "%s/last.safetensors", c4);
    CHECK(same_checkpoint(path, path2), "epoch-004 is epoch 4's checkpoint");
    CHECK(!exists(c4, "epochs"), "keep_epochs 0: no epochs/ folder");
    /* An empty epochs/ made before a fresh run (as tests/test_epochs.sh
     * does, to copy checkpoints in later) stays. */
    char pre[600], pre_epochs[700];
    snprintf(pre, sizeof pre, "%s/pre", dir);
    mkdir(pre, 0755);
    snprintf(pre_epochs, sizeof pre_epochs, "%s/epochs", pre);
    mkdir(pre_epochs, 0755);
    c4c.out_dir = pre;
    c4c.epochs = 1;
    CHECK_OK(fn_train(&c4c, &r));
    fn_eval_report_free(&r.report);
    CHECK(exists(pre, "epochs") && count_kept(pre) == 0, "a user's empty epochs/ stays");
    char **names = NULL;
    int classes = 0;
    CHECK_OK(fn_checkpoint_class_names(path, &classes, &names));
    CHECK(classes >= TINY_K && names, "a checkpoint with its class names (%d)", classes);
    for (int i = 0; names && i < classes; i++)
        free(names[i]);
    free(names);

    /* b: stopped in epoch 3 (after 7 steps), resumed to the end. */
    c.out_dir = b;
    c.max_steps = 7;
    CHECK_OK(fn_train(&c, &r));
    CHECK(r.stopped && r.epochs_done == 2, "stopped in epoch 3 (%d done)", r.epochs_done);
    fn_eval_report_free(&r.report);
    CHECK(count_kept(b) == 1 && exists(b, "epochs/epoch-002.safetensors"), "epoch 2 kept");
    struct stat before, after;
    snprintf(path, sizeof path, "%s/epochs/epoch-002.safetensors", b);
    CHECK(stat(path, &before) == 0, "stat");
    CHECK_OK(fn_train_resume(b, NULL, &r));
    CHECK(!r.stopped && r.epochs_done == 5, "resumed to the end");
    fn_eval_report_free(&r.report);
    CHECK(stat(path, &after) == 0 && after.st_ino == before.st_ino &&
              after.st_mtime == before.st_mtime,
          "the kept epoch 2 stays as it was");
    CHECK(count_kept(b) == 2, "epoch 4 added (%d files)", count_kept(b));
    for (int e = 2; e <= 4; e += 2) {
        snprintf(path, sizeof path, "%s/epochs/epoch-%03d.safetensors", a, e);
        snprintf(path2, sizeof path2, "%s/epochs/epoch-%03d.safetensors", b, e);
        CHECK(same_checkpoint(path, path2), "resumed run's epoch %d as uninterrupted", e);
    }

    /* --overwrite: the old run's epochs go, a user's file in epochs/ stays. */
    snprintf(path, sizeof path, "%s/epochs/notes.txt", b);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    c.max_steps = 0;
    c.epochs = 3;
    c.keep_epochs = 3;
    CHECK(fn_train(&c, &r) == FN_ERR_ARG, "a folder holding a run is refused");
    c.overwrite = 1;
    CHECK_OK(fn_train(&c, &r));
    fn_eval_report_free(&r.report);
    CHECK(exists(b, "epochs/epoch-003.safetensors") && !exists(b, "epochs/epoch-002.safetensors") &&
              !exists(b, "epochs/epoch-004.safetensors") && exists(b, "epochs/notes.txt"),
          "overwritten: epoch 3 only, and the user's notes");

    /* Kept epochs alone are a run: a fresh run there would mix in. */
    char only[600];
    snprintf(only, sizeof only, "%s/only", dir);
    snprintf(path, sizeof path, "%s/epochs", only);
    mkdir(only, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/epochs/epoch-001.safetensors", only);
    f = fopen(path, "w");
    if (f) fclose(f);
    CHECK(fn_train_check_out_dir(only, 0) == FN_ERR_ARG && strstr(fn_last_error(), "epochs/"),
          "kept epochs alone hold a run: %s", fn_last_error());
    CHECK_OK(fn_train_check_out_dir(only, 1));

    tmpdir_remove(dir);
    return check_summary("test_train_epochs");
}
