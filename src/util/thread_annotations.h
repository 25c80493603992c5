// Clang thread-safety annotations (no-ops under g++; a clang build with -Wthread-safety checks
// them). Use on every mutex-guarded member.
#pragma once

#if defined(__clang__)
#define NDS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define NDS_THREAD_ANNOTATION(x)
#endif

#define NDS_GUARDED_BY(x) NDS_THREAD_ANNOTATION(guarded_by(x))
#define NDS_PT_GUARDED_BY(x) NDS_THREAD_ANNOTATION(pt_guarded_by(x))
#define NDS_REQUIRES(...) NDS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define NDS_EXCLUDES(...) NDS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
