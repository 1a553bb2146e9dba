/* The trainer on a tiny synthetic dataset: loss goes down, accuracy goes up,
 * checkpoints round-trip, stage 2 (focus) and KD run against a baseline, and
 * bad checkpoints are refused with messages that name the file. */
#include <cJSON.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "io/file.h"
#include "nn/model.h"

#include "tiny_mnist.h"

#define H TINY_H

static cJSON *read_log(const char *dir, int *lines)
{
    char path[512];
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    cJSON *all = cJSON_CreateArray();
    *lines = 0;
    if (fn_file_read(path, 1 << 20, &data, &size) != FN_OK) return all;
    char *s = (char *)data, *save = NULL;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        if (j) {
            cJSON_AddItemToArray(all, j);
            (*lines)++;
        }
    }
    free(data);
    return all;
}

static double field(cJSON *log, int i, const char *name)
{
    cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int main(void)
{
    char dir[] = "/tmp/focusnet-train-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temp dir");
    tiny_write_split(dir, "train", 240, 1);
    tiny_write_split(dir, "t10k", 90, 2);
    char data[600], base_dir[600], focus_dir[600], kd_dir[600], best[700];
    snprintf(data, sizeof data, "mnist:%s", dir);
    snprintf(base_dir, sizeof base_dir, "%s/base", dir);
    snprintf(focus_dir, sizeof focus_dir, "%s/focus", dir);
    snprintf(kd_dir, sizeof kd_dir, "%s/kd", dir);
    snprintf(best, sizeof best, "%s/best.safetensors", base_dir);

    /* Stage 1. */
    fn_train_config c;
    fn_train_config_default(&c);
    c.data = data;
    c.epochs = 4;
    c.batch = 32;
    c.sgd.lr = 0.05f;
    c.out_dir = base_dir;
    fn_train_result r;
    CHECK_OK(fn_train(&c, &r));
    int lines = 0;
    cJSON *log = read_log(base_dir, &lines);
    CHECK(lines == 4, "one log line per epoch, got %d", lines);
    CHECK(field(log, 3, "train_loss") < field(log, 0, "train_loss"),
          "training loss decreases: %g -> %g", field(log, 0, "train_loss"),
          field(log, 3, "train_loss"));
    CHECK(r.best_top1 >= 0.9, "the bars are learnable: best top-1 %.3f", r.best_top1);
    CHECK(r.steps_done == 4 * 8 && r.epochs_done == 4 && !r.stopped, "steps %ld", r.steps_done);
    CHECK(r.report.n == 90 && r.report.classes == 10,
          "final report over the test split (mnist: has 10 classes)");
    double best_logged = field(log, r.best_epoch - 1, "test_top1");
    /* The reader the viewer and `focusnet plot` use gives back what was logged. */
    fn_run_history hist;
    CHECK_OK(fn_run_history_read(base_dir, &hist));
    CHECK(hist.n == 4, "history: 4 epochs, got %d", hist.n);
    for (int e = 0; e < hist.n && hist.n == 4; e++)
        CHECK(hist.epoch[e] == e + 1 && hist.train_loss[e] == field(log, e, "train_loss") &&
                  hist.test_top1[e] == field(log, e, "test_top1"),
              "history epoch %d as logged", e + 1);
    fn_run_history_free(&hist);
    cJSON_Delete(log);
    {
        /* A stop inside an epoch is not an epoch; a missing field is NaN; a
         * bad line is named by its number; no epoch, or no log, is refused. */
        char hd[700], lp[760];
        snprintf(hd, sizeof hd, "%s/hist", dir);
        snprintf(lp, sizeof lp, "%s/log.jsonl", hd);
        mkdir(hd, 0755);
        fn_status st = fn_run_history_read(hd, &hist);
        CHECK(st == FN_ERR_IO && strstr(fn_last_error(), lp) && hist.n == 0, "no log: %s",
              fn_last_error());
        const char *text = "{\"epoch\":1,\"train_loss\":2,\"test_top1\":0.5}\n\n"
                           "{\"epoch\":2,\"train_loss\":1,\"partial\":true}\n"
                           "{\"epoch\":2,\"train_loss\":0.5}\n";
        CHECK_OK(fn_write_file_atomic(lp, text, strlen(text)));
        CHECK_OK(fn_run_history_read(hd, &hist));
        CHECK(hist.n == 2 && hist.epoch[1] == 2 && hist.train_loss[1] == 0.5 &&
                  isnan(hist.test_top1[1]) && hist.test_top1[0] == 0.5,
              "partial record skipped, missing top-1 NaN: %d epochs", hist.n);
        fn_run_history_free(&hist);
        text = "{\"epoch\":1,\"train_loss\":2}\nnot json\n";
        CHECK_OK(fn_write_file_atomic(lp, text, strlen(text)));
        st = fn_run_history_read(hd, &hist);
        CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), "log.jsonl line 2") && hist.n == 0 &&
                  !hist.epoch,
              "bad line named: %s", fn_last_error());
        text = "{\"epoch\":1,\"partial\":true}\n";
        CHECK_OK(fn_write_file_atomic(lp, text, strlen(text)));
        st = fn_run_history_read(hd, &hist);
        CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), "no finished epoch"),
              "only a partial epoch: %s", fn_last_error());
    }
    fn_eval_report_free(&r.report);

    /* The best checkpoint reloads to the accuracy that was logged for it. */
    fn_device *dev = test_device();
    fn_model *m = NULL;
    CHECK_OK(fn_checkpoint_load(dev, best, NULL, 16, 0, &m));
    if (m) {
        fn_eval_report e;
        CHECK_OK(fn_evaluate(m, data, "test", 0, &e));
        CHECK(fabs(e.top1 - best_logged) < 1e-9, "reloaded top-1 %.4f, logged %.4f", e.top1,
              best_logged);
        fn_eval_report_free(&e);
        CHECK(strcmp(fn_model_class_name(m, 2), "2") == 0, "class names kept");
        CHECK(m->meta.history && strstr(m->meta.history, "test_top1"), "history in the metadata");
        /* Save and load again: identical predictions. */
        char again[700];
        snprintf(again, sizeof again, "%s/again.safetensors", dir);
        CHECK_OK(fn_checkpoint_save(m, again));
        fn_model *m2 = NULL;
        CHECK_OK(fn_checkpoint_load(dev, again, &m->cfg, 16, 0, &m2));
        float x[H * H], z1[10], z2[10]; /* mnist: always 10 classes */
        fn_rng rr;
        fn_rng_seed(&rr, 3);
        fill_uniform(&rr, x, H * H, -1, 1);
        CHECK_OK(fn_model_predict(m, x, 1, z1));
        if (m2) {
            CHECK_OK(fn_model_predict(m2, x, 1, z2));
            CHECK(memcmp(z1, z2, sizeof z1) == 0, "round trip keeps every bit");
        }
        fn_model_free(m2);

        /* A checkpoint for another model is refused, naming both. */
        fn_model_config want = m->cfg;
        want.classes = 7;
        fn_model *bad = NULL;
        fn_status st = fn_checkpoint_load(dev, best, &want, 1, 0, &bad);
        CHECK(st == FN_ERR_MISMATCH && !bad && strstr(fn_last_error(), best) &&
                  strstr(fn_last_error(), "7 classes"),
              "mismatch named: %s", fn_last_error());
    }
    fn_model_free(m);

    /* A truncated checkpoint and a missing one. */
    char cut[700];
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    {
        uint8_t *bytes = NULL;
        size_t size = 0;
        CHECK_OK(fn_file_read(best, 1 << 24, &bytes, &size));
        FILE *f = fopen(cut, "wb");
        CHECK(f != NULL, "%s: %s", cut, strerror(errno));
        if (f) {
            fwrite(bytes, 1, size / 2, f);
            fclose(f);
        }
        free(bytes);
    }
    fn_model *bad = NULL;
    fn_status st = fn_checkpoint_load(dev, cut, NULL, 1, 0, &bad);
    CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), cut), "truncated checkpoint: %s",
          fn_last_error());
    st = fn_checkpoint_load(dev, "/nonexistent/x.safetensors", NULL, 1, 0, &bad);
    CHECK(st == FN_ERR_IO && strstr(fn_last_error(), "/nonexistent/x.safetensors"),
          "missing checkpoint: %s", fn_last_error());
    fn_device_free(dev);

    /* Stage 2: FocusNet against the frozen baseline, and KD from it. */
    fn_train_config f = c;
    fn_loss_opts_default(&f.loss, FN_LOSS_FOCUS);
    f.baseline = best;
    f.out_dir = focus_dir;
    f.epochs = 3;
    CHECK_OK(fn_train(&f, &r));
    CHECK(r.epochs_done == 3 && r.best_top1 >= 0.6, "focus stage trains: %.3f", r.best_top1);
    fn_eval_report_free(&r.report);
    fn_loss_opts_default(&f.loss, FN_LOSS_KD);
    f.out_dir = kd_dir;
    f.max_steps = 3;
    CHECK_OK(fn_train(&f, &r));
    CHECK(r.stopped && r.steps_done == 3, "max-steps stops the run after 3 steps (%ld)",
          r.steps_done);
    fn_eval_report_free(&r.report);
    fn_loss_opts_default(&f.loss, FN_LOSS_FOCUS);
    f.baseline = NULL;
    f.overwrite = c.overwrite = 1; /* the folders hold runs: the errors below come first */
    st = fn_train(&f, &r);
    CHECK(st == FN_ERR_ARG && strstr(fn_last_error(), "--baseline"), "focus needs a baseline: %s",
          fn_last_error());
    f.baseline = cut;
    st = fn_train(&f, &r);
    CHECK(st == FN_ERR_FORMAT && strstr(fn_last_error(), cut), "bad baseline named: %s",
          fn_last_error());
    c.data = "mnist:/nonexistent-dir";
    st = fn_train(&c, &r);
    CHECK(st != FN_OK && strstr(fn_last_error(), "/nonexistent-dir"), "missing data named: %s",
          fn_last_error());
    return check_summary("test_train");
}
