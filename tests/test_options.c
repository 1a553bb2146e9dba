/* The table of training options (lib/train/options.def): the defaults it
 * gives, every option refusing a bad value with one line naming it and
 * leaving the configuration as it was, and the resume state's configuration
 * written and read back field for field, old states (keys missing) included. */
#include "check.h"
#include "train/train.h"

static int same_config(const fn_train_config *a, const fn_train_config *b)
{
    return fn_train_config_hash(a) == fn_train_config_hash(b) && a->keep_epochs == b->keep_epochs;
}

static void defaults(void)
{
    fn_train_config c;
    fn_train_config_default(&c);
    fn_loss_opts lo;
    fn_loss_opts_default(&lo, FN_LOSS_CE);
    fn_sgd_opts so;
    fn_sgd_opts_default(&so);
    /* What fn_train_config_default gave before the table (the paper's recipe). */
    CHECK(strcmp(c.arch, "lenet5") == 0 && strcmp(c.data, "fashion-mnist") == 0, "arch, data");
    CHECK(c.small_stem == -1 && c.width == 0 && c.limit_train == 0 && c.limit_test == 0,
          "stem -1, width 0, limits 0");
    CHECK(memcmp(&c.loss, &lo, sizeof lo) == 0, "the loss's own defaults (ce)");
    CHECK(memcmp(&c.sgd, &so, sizeof so) == 0, "the optimizer's own defaults");
    CHECK(c.sgd.lr == 0.1f && c.sgd.momentum == 0.9f && c.sgd.weight_decay == 1e-4f, "SGD");
    CHECK(c.sched.gamma == 0.1f && c.sched.warmup_epochs == -1 && c.sched.n_milestones == 0 &&
              !c.sched.cosine,
          "schedule: gamma 0.1, warm-up -1 (%g)", c.sched.warmup_epochs);
    CHECK(c.epochs == 10 && c.batch == 128 && c.seed == 1, "epochs 10, batch 128, seed 1");
    CHECK(c.augment == -1 && c.shuffle == 1 && c.max_steps == 0 && c.save_every == 0,
          "augment -1, shuffle 1, no max_steps / save_every");
    CHECK(c.keep_epochs == 0, "keep_epochs 0 (off)");
    CHECK(!c.baseline && !c.init && !c.device && strcmp(c.out_dir, "runs/train") == 0,
          "no baseline, init, device; out runs/train");
}

static void options(void)
{
    int n = 0;
    const fn_train_option *o;
    for (; (o = fn_train_option_at(n)) != NULL; n++) {
        CHECK(o->name && *o->name && o->help && *o->help, "option %d has a name and help", n);
        CHECK(fn_train_option_find(o->name) == n, "--%s is found at its index", o->name);
    }
    CHECK(n >= 35, "the options of focusnet train are in the table (%d)", n);
    CHECK(!fn_train_option_at(-1) && !fn_train_option_at(n), "no option out of range");
    CHECK(fn_train_option_find("bogus") == -1 && fn_train_option_find(NULL) == -1, "no --bogus");
    CHECK(fn_train_option_find("keep-epochs") >= 0, "--keep-epochs is one of them");
    const char *resume[] = {"device", "epochs", "max-steps", "save-every"};
    int n_resume = 0;
    for (int i = 0; i < n; i++)
        n_resume += fn_train_option_at(i)->resume_ok;
    CHECK(n_resume == 4, "four options go with a resume (%d)", n_resume);
    for (int i = 0; i < 4; i++)
        CHECK(fn_train_option_at(fn_train_option_find(resume[i]))->resume_ok, "--%s with a resume",
              resume[i]);

    /* Every option with a value refuses garbage naming itself and changes
     * nothing, except those taking any text (paths, names). */
    int refused = 0;
    for (int i = 0; i < n; i++) {
        o = fn_train_option_at(i);
        if (!o->arg) continue;
        fn_train_config c, before;
        fn_train_config_default(&c);
        before = c;
        fn_status st = fn_train_option_set(&c, i, "1,x");
        if (st == FN_OK) {
            CHECK(!strcmp(o->arg, "NAME") || !strcmp(o->arg, "SPEC") || !strcmp(o->arg, "CKPT") ||
                      !strcmp(o->arg, "N|NAME"),
                  "--%s takes '1,x'", o->name);
            continue;
        }
        refused++;
        char want[64];
        snprintf(want, sizeof want, "option '--%s' ", o->name);
        CHECK(st == FN_ERR_ARG && strncmp(fn_last_error(), want, strlen(want)) == 0, "--%s: %s",
              o->name, fn_last_error());
        CHECK(!strchr(fn_last_error(), '\n'), "one line");
        CHECK(memcmp(&c, &before, sizeof c) == 0, "--%s '1,x' leaves the config as it was",
              o->name);
    }
    CHECK(refused >= 24, "numbers and choices refuse garbage (%d)", refused);

    fn_train_config c;
    fn_train_config_default(&c);
    int lr = fn_train_option_find("lr"), ke = fn_train_option_find("keep-epochs");
    CHECK_OK(fn_train_option_set(&c, lr, "0.05"));
    CHECK(c.sgd.lr == 0.05f, "--lr 0.05 (%g)", c.sgd.lr);
    CHECK(fn_train_option_set(&c, lr, "1e10") == FN_ERR_ARG &&
              strcmp(fn_last_error(), "option '--lr' needs a number from 0 to 1e+09, not '1e10'") ==
                  0,
          "--lr 1e10: %s", fn_last_error());
    CHECK(fn_train_option_set(&c, ke, "-1") == FN_ERR_ARG &&
              strstr(fn_last_error(), "'--keep-epochs' needs a whole number from 0"),
          "--keep-epochs -1: %s", fn_last_error());
    CHECK_OK(fn_train_option_set(&c, ke, "5"));
    CHECK(c.keep_epochs == 5, "--keep-epochs 5");
    /* Order matters as on the command line: --loss resets the loss's options. */
    int loss = fn_train_option_find("loss"), authors = fn_train_option_find("authors");
    CHECK(fn_train_option_set(&c, authors, "1") == FN_ERR_ARG &&
              strstr(fn_last_error(), "'--authors' goes with --loss focus"),
          "--authors without --loss focus");
    CHECK_OK(fn_train_option_set(&c, fn_train_option_find("smoothing"), "0.3"));
    CHECK_OK(fn_train_option_set(&c, loss, "focus"));
    CHECK(c.loss.kind == FN_LOSS_FOCUS && c.loss.smoothing == 0.1f, "--loss focus resets");
    CHECK_OK(fn_train_option_set(&c, authors, "1"));
    CHECK(c.loss.rule == FN_MULTIWARM_SOFTMAX && c.loss.cls_smoothing == 0.1f, "--authors");
    int stem = fn_train_option_find("stem"), ms = fn_train_option_find("milestones");
    CHECK_OK(fn_train_option_set(&c, stem, "imagenet"));
    CHECK(c.small_stem == 0, "--stem imagenet");
    CHECK_OK(fn_train_option_set(&c, stem, "small"));
    CHECK(c.small_stem == 1, "--stem small");
    CHECK_OK(fn_train_option_set(&c, ms, "3,7"));
    CHECK(c.sched.n_milestones == 2 && c.sched.milestones[1] == 7, "--milestones 3,7");
    CHECK(fn_train_option_set(&c, ms, "7,3") == FN_ERR_ARG && c.sched.n_milestones == 2,
          "--milestones 7,3 refused, the old ones kept");
    CHECK(fn_train_option_set(&c, fn_train_option_find("seed"), "4611686018427387905") ==
              FN_ERR_ARG,
          "--seed above 2^62");
}

/* A configuration far from the defaults, written and read back. */
static void state_round_trip(void)
{
    fn_train_config c;
    fn_train_config_default(&c);
    const char *set[][2] = {
        {"model", "resnet18"},  {"stem", "small"},        {"width", "0.75"},
        {"data", "cifar10:/x"}, {"limit-train", "100"},   {"limit-test", "7"},
        {"loss", "focus"},      {"authors", "1"},         {"alpha", "0.5"},
        {"beta", "2"},          {"detach-d", "1"},        {"baseline", "/b.safetensors"},
        {"epochs", "12"},       {"batch", "64"},          {"lr", "0.03"},
        {"momentum", "0.5"},    {"wd", "5e-4"},           {"nesterov", "1"},
        {"milestones", "4,9"},  {"warmup-epochs", "1.5"}, {"seed", "4611686018427387904"},
        {"save-every", "33"},   {"keep-epochs", "3"},     {"no-augment", "1"},
        {"no-shuffle", "1"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK_OK(fn_train_option_set(&c, fn_train_option_find(set[i][0]), set[i][1]));
    c.out_dir = NULL;
    char *json = fn_train_config_json(&c);
    CHECK(json != NULL, "written");
    fn_train_state s;
    memset(&s, 0, sizeof s);
    CHECK_OK(fn_train_config_parse(json, "mem", &s));
    CHECK(same_config(&c, &s.c), "read back as written: %s", json);
    CHECK(s.c.seed == 4611686018427387904ull && s.c.keep_epochs == 3 && s.c.augment == 0 &&
              s.c.shuffle == 0 && s.c.loss.rule == FN_MULTIWARM_SOFTMAX,
          "seed, keep_epochs, augment, shuffle, rule");
    CHECK(strcmp(s.c.baseline, "/b.safetensors") == 0 && !s.c.init, "baseline kept, init null");
    fn_train_state_free(&s);

    /* A state from before --keep-epochs and --warmup-epochs: neither key. */
    char old[4096];
    char *p = strstr(json, ",\"keep_epochs\":3");
    CHECK(p != NULL, "keep_epochs is saved");
    if (p)
        memmove(p, p + strlen(",\"keep_epochs\":3"), strlen(p + strlen(",\"keep_epochs\":3")) + 1);
    p = strstr(json, ",\"warmup_epochs\":1.5");
    CHECK(p != NULL, "warmup_epochs is saved");
    if (p)
        memmove(p, p + strlen(",\"warmup_epochs\":1.5"),
                strlen(p + strlen(",\"warmup_epochs\":1.5")) + 1);
    snprintf(old, sizeof old, "%s", json);
    memset(&s, 0, sizeof s);
    CHECK_OK(fn_train_config_parse(old, "old", &s));
    CHECK(s.c.keep_epochs == 0 && s.c.sched.warmup_epochs == 0 && s.c.epochs == 12,
          "an old state keeps no epochs, has no warm-up");
    fn_train_state_free(&s);
    /* A required key missing or out of range: refused, naming it. */
    p = strstr(old, "\"lr\":");
    if (p) p[1] = 'L';
    memset(&s, 0, sizeof s);
    CHECK(fn_train_config_parse(old, "old", &s) == FN_ERR_FORMAT &&
              strstr(fn_last_error(), "has no 'lr'"),
          "no lr: %s", fn_last_error());
    fn_train_state_free(&s);
    if (p) p[1] = 'l';
    p = strstr(old, "\"alpha\":0.5");
    if (p) memcpy(p, "\"alpha\":1e9", 11);
    memset(&s, 0, sizeof s);
    CHECK(fn_train_config_parse(old, "old", &s) == FN_ERR_FORMAT &&
              strstr(fn_last_error(), "'alpha' is not a number in [0, 1000]"),
          "alpha 1e9: %s", fn_last_error());
    fn_train_state_free(&s);
    free(json);
}

/* What MPI ranks must agree on: every saved option changes the hash (the
 * table feeds it, so an option added later is covered without a line of
 * its own); where to run does not. */
static void hash_covers(void)
{
    static const char *const changed[][2] = {
        {"model", "resnet18"}, {"data", "cifar10:/x"}, {"lr", "0.05"},
        {"epochs", "3"},       {"seed", "7"},          {"keep-epochs", "2"},
        {"sync-bn", ""},       {"alpha", "0"},         {"warmup-epochs", "2"},
        {"save-every", "9"},   {"no-shuffle", ""},     {"multiwarm", "softmax"},
    };
    fn_train_config a;
    fn_train_config_default(&a);
    uint64_t h0 = fn_train_config_hash(&a);
    for (size_t k = 0; k < sizeof changed / sizeof changed[0]; k++) {
        fn_train_config c;
        fn_train_config_default(&c);
        int i = fn_train_option_find(changed[k][0]);
        CHECK(i >= 0, "option %s exists", changed[k][0]);
        if (i < 0) continue;
        CHECK_OK(fn_train_option_set(&c, i, changed[k][1]));
        CHECK(fn_train_config_hash(&c) != h0, "--%s changes the ranks' hash", changed[k][0]);
    }
    fn_train_config c;
    fn_train_config_default(&c);
    c.device = "1";
    CHECK(fn_train_config_hash(&c) == h0, "--device does not change it");
    c.out_dir = "elsewhere";
    CHECK(fn_train_config_hash(&c) != h0, "the output folder does");
}

int main(void)
{
    defaults();
    options();
    state_round_trip();
    hash_covers();
    return check_summary("test_options");
}
