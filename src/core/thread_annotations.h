// Clang thread-safety annotations (checked by the clang fuzz build with -Wthread-safety); no-ops
// under GCC. Members guarded by a mutex say so: `int n_ GF_GUARDED_BY(mu_);`.
#pragma once

#if defined(__clang__)
#define GF_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define GF_THREAD_ANNOTATION_(x)
#endif

#define GF_GUARDED_BY(x) GF_THREAD_ANNOTATION_(guarded_by(x))
#define GF_PT_GUARDED_BY(x) GF_THREAD_ANNOTATION_(pt_guarded_by(x))
#define GF_REQUIRES(...) GF_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define GF_EXCLUDES(...) GF_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define GF_ACQUIRED_AFTER(...) GF_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
#define GF_NO_THREAD_SAFETY_ANALYSIS GF_THREAD_ANNOTATION_(no_thread_safety_analysis)
