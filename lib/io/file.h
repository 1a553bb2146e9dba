/* Whole-file reads and atomic writes, shared by every loader and saver. */
#ifndef FN_FILE_H
#define FN_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../focusnet.h"

/* Reads a whole file. Files larger than max bytes fail with FN_ERR_FORMAT, a
 * missing or unreadable one with FN_ERR_IO; messages name the path. The
 * buffer gets one extra zero byte past *size (handy for text) and is freed
 * with free(). */
fn_status fn_file_read(const char *path, size_t max, uint8_t **data, size_t *size);

/* Writes path atomically: write() fills "path.tmp-PID", which is flushed,
 * fsync'ed and renamed over path. On any failure the temporary file is
 * removed and an existing file at path is left untouched. write() returns
 * FN_OK or a status it has already described with fn_error. */
/* A path a user hands over to be read: anything but a regular file (a
 * directory, FIFO, socket, device, a symlink loop) is refused at once, with
 * a message naming path; every reader comes through here, so none can wait
 * on a FIFO forever. fn_file_open_read opens it too ("rb"). */
fn_status fn_file_check_input(const char *path);
fn_status fn_file_open_read(const char *path, FILE **out);
/* A directory path to create or use: refused when a part of it that exists
 * is not a directory ("somefile/sub"). */
fn_status fn_file_check_out_dir(const char *path);
/* A file path to write: refused when it exists and is not a regular file,
 * or when its folder runs through a file. */
fn_status fn_file_check_out_file(const char *path);

/* A 64-bit FNV-1a fingerprint of a file's bytes (read as fn_file_read). */
fn_status fn_file_hash(const char *path, uint64_t *out);

typedef fn_status (*fn_write_fn)(FILE *f, void *ctx);
fn_status fn_file_write_atomic(const char *path, fn_write_fn write, void *ctx);

#endif
