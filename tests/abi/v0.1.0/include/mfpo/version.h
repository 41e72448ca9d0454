/**
 * @file version.h
 * @brief Compile-time version macros and the run-time version query.
 */
#ifndef MFPO_VERSION_H
#define MFPO_VERSION_H

#include "export.h"

/** Major version: changes only with an incompatible ABI (and a new soname). */
#define MFPO_VERSION_MAJOR 0
/** Minor version: backward-compatible additions. */
#define MFPO_VERSION_MINOR 1
/** Patch version: fixes only. */
#define MFPO_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define MFPO_VERSION_STRING "0.1.0"
/** The version as one number, MAJOR*10000 + MINOR*100 + PATCH. */
#define MFPO_VERSION_NUMBER (MFPO_VERSION_MAJOR * 10000 + MFPO_VERSION_MINOR * 100 + MFPO_VERSION_PATCH)

MFPO_BEGIN_DECLS

/** @return the version of the library actually loaded, as #MFPO_VERSION_NUMBER computes it. */
MFPO_API unsigned mfpo_version_number(void);
/** @return the version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
MFPO_API const char *mfpo_version_string(void);

MFPO_END_DECLS

#endif
