/**
 * @file export.h
 * @brief Symbol visibility and C/C++ linkage macros shared by every public header.
 */
#ifndef MFPO_EXPORT_H
#define MFPO_EXPORT_H

/** Marks a function as part of the exported ABI. */
#if defined(MFPO_BUILDING_LIBRARY) && defined(__GNUC__)
#define MFPO_API __attribute__((visibility("default")))
#else
#define MFPO_API
#endif

#ifdef __cplusplus
/** Opens an `extern "C"` block when compiled as C++. */
#define MFPO_BEGIN_DECLS extern "C" {
/** Closes the block opened by #MFPO_BEGIN_DECLS. */
#define MFPO_END_DECLS }
#else
/** Opens an `extern "C"` block when compiled as C++; expands to nothing in C. */
#define MFPO_BEGIN_DECLS
/** Closes the block opened by #MFPO_BEGIN_DECLS; expands to nothing in C. */
#define MFPO_END_DECLS
#endif

#endif
