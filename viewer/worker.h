/* The inference thread. Every focusnet call that touches OpenCL runs on this
 * one thread, in the order jobs were submitted; each finished job is handed
 * back to the main loop (g_idle_add), where its done callback runs and the job
 * is freed. A job superseded by a newer one of the same kind before it starts
 * is skipped (status FNV_JOB_SKIPPED) and still handed back. */
#ifndef FNV_WORKER_H
#define FNV_WORKER_H

#include <glib.h>
#include <stdint.h>

#include "focusnet.h"

typedef struct FnvWorker FnvWorker;

typedef enum {
    FNV_JOB_LOAD,    /* a checkpoint into a slot */
    FNV_JOB_IMAGE,   /* an image (file or dataset index) through both models, with CAMs */
    FNV_JOB_DATASET, /* a dataset split through both models */
    FNV_JOB_KINDS
} FnvJobKind;

enum { FNV_BASELINE = 0, FNV_FOCUSNET = 1, FNV_SLOTS = 2 };
#define FNV_JOB_SKIPPED ((fn_status)-1)

/* What the main thread knows of a loaded model. */
typedef struct {
    char *path;
    char *arch;
    char *dataset; /* the dataset it was trained on, "" when unknown */
    char *loss;
    int k, c, h, w;
    char **names; /* (K) */
    int cam_available;
} FnvModelInfo;

typedef struct FnvJob FnvJob;
/* Runs on the main thread; returns TRUE to keep the job (free it later with
 * fnv_job_free), FALSE to have it freed. */
typedef gboolean (*FnvJobDone)(FnvJob *job, gpointer user);

struct FnvJob {
    FnvJobKind kind;
    int generation;
    /* ---- request ---- */
    int slot;     /* LOAD: FNV_BASELINE, FNV_FOCUSNET, or -1: by the checkpoint's loss */
    int replace;  /* LOAD: close the other slot's model too (a new run folder) */
    char *path;   /* LOAD: the checkpoint; IMAGE: the image file, or NULL for index */
    int index;    /* IMAGE: the dataset image */
    int cls;      /* IMAGE: the class to map; -1: the top class (FocusNet's, else the baseline's) */
    int grad_cam; /* IMAGE: Grad-CAM even where plain CAM applies */
    int pair;     /* IMAGE: the confusing pair's class B (issue 17.1): -1 the most
                   * probable class after A in the baseline (else FocusNet),
                   * -2 (default) no pair */
    /* IMAGE, the epoch slider: per slot the checkpoint to use in place of the
     * slot's model (NULL: the model as opened), or skip: the slot's run kept
     * no checkpoint of the epoch, leave it out. Loaded on first use and kept
     * in a small cache on the worker (EPOCH_CACHE per slot). */
    char *ckpt[FNV_SLOTS];
    int skip[FNV_SLOTS];
    int epoch;          /* IMAGE: what the slider showed, 0: the checkpoints as opened */
    char *spec, *split; /* DATASET */
    int limit;
    /* ---- result ---- */
    fn_status status;  /* FN_OK, FNV_JOB_SKIPPED, or the failure */
    char *error;       /* the failure, one line */
    FnvModelInfo info; /* LOAD: the model now in info_slot */
    int info_slot;
    int closed_other; /* LOAD: the other slot is empty now */
    /* IMAGE: per slot, NULL where no model is loaded or the slot is skipped; k as in DATASET */
    int c[FNV_SLOTS], h[FNV_SLOTS], w[FNV_SLOTS];
    float *pixels[FNV_SLOTS]; /* (C, H, W) in [0, 1] */
    float *logits[FNV_SLOTS]; /* (K) */
    float *heat[FNV_SLOTS];   /* (H, W) */
    int used_grad_cam[FNV_SLOTS];
    int shown_class; /* the class chosen, or FocusNet's (else the baseline's) top class */
    /* the class each model's map shows: the chosen one, or with "each model's
     * top class" (cls -1) the model's own top class (issue 17.6) */
    int mapped_class[FNV_SLOTS];
    int true_class; /* -1 when unknown */
    /* IMAGE with pair >= -1: A is the true class (else the baseline's top
     * class), B as asked; per slot the maps of A, of B and of "A, not B" */
    int pair_a, pair_b;
    float *pair_heat[FNV_SLOTS][3]; /* (H, W) each */
    /* DATASET */
    int n, k;
    int *labels;              /* (n) */
    int *pred[FNV_SLOTS];     /* (n) */
    float *zs[FNV_SLOTS];     /* (n, K) logits, for the multi-warm matrix */
    int64_t *conf[FNV_SLOTS]; /* (K, K) */
    char **class_names;       /* (K) of the dataset */
    /* ---- delivery ---- */
    FnvJobDone done;
    gpointer user;
};

FnvWorker *fnv_worker_new(const char *device);
/* Finishes the job in progress, drops the others, releases every model and the
 * device on the worker thread, and joins it. */
void fnv_worker_free(FnvWorker *w);
FnvJob *fnv_job_new(FnvJobKind kind, FnvJobDone done, gpointer user);
/* Takes ownership of the job; sets its generation (newer jobs of a kind make
 * older queued ones skip). */
void fnv_worker_submit(FnvWorker *w, FnvJob *job);
void fnv_job_free(FnvJob *job);
void fnv_model_info_clear(FnvModelInfo *info);

#endif
