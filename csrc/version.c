/* The library's version: the Python package's, which CMake reads from
 * pyproject.toml (through scikit-build-core) and passes in as PD_VERSION_STRING. */
#include "internal.h"

/* Builds that bypass CMake (tests/test_c_sanitizers.py compiles csrc/ directly)
 * have no version to report; they say so rather than claim one. */
#ifndef PD_VERSION_STRING
#define PD_VERSION_STRING "unknown"
#endif

const char *pd_version(void) { return PD_VERSION_STRING; }
