// Clang thread-safety annotations. Members guarded by a mutex say so: `int n_ GF_GUARDED_BY(mu_);`.
// Today they document locking only: libstdc++'s std::mutex carries no capability attributes, so
// clang's -Wthread-safety cannot check them. Define GPUFLEET_THREAD_SAFETY_ANALYSIS once an
// annotated core::Mutex wrapper replaces std::mutex (tracked in docs/core.md).
#pragma once

#if defined(__clang__) && defined(GPUFLEET_THREAD_SAFETY_ANALYSIS)
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
