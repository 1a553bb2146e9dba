/* CLBlast calls, checked: CLBlast's status codes extend OpenCL's with its own
 * (below -1000), so a failure is reported as a number with the routine's name
 * and the caller's file:line rather than through fn_cl_error_name. */
#ifndef FN_BLAS_H
#define FN_BLAS_H

#include <clblast_c.h>

#include "core.h"

/* FN_ERR_NOMEM for CLBlast's out-of-memory codes, FN_ERR_CL otherwise; sets
 * "ROUTINE failed: status N (FILE:LINE)". */
fn_status fn_blast_fail(CLBlastStatusCode st, const char *routine, const char *file, int line);

/* Returns from the calling function when the CLBlast call fails. */
#define FN_BLAST_CHECK(call, routine)                                                              \
    do {                                                                                           \
        CLBlastStatusCode fn_blast_st_ = (call);                                                   \
        if (fn_blast_st_ != CLBlastSuccess)                                                        \
            return fn_blast_fail(fn_blast_st_, routine, __FILE__, __LINE__);                       \
    } while (0)

#endif
