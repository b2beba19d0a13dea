/* Forced into every source of the library (-include pd_export.h), which is
 * compiled with -fvisibility=hidden: the declarations of the public header, and
 * only those, get default visibility, so the shared library exports exactly the
 * API pafdecode.h declares and the helpers of internal.h stay private. The
 * header's include guard keeps the sources' own #include from undoing this.
 * (tests/test_c_api.py compares `nm -D` with the header's declarations.) */
#ifndef PAFDECODE_EXPORT_H
#define PAFDECODE_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#include "pafdecode.h"
#pragma GCC visibility pop
#else
#include "pafdecode.h"
#endif

#endif /* PAFDECODE_EXPORT_H */
