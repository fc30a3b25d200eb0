/* SPDX-License-Identifier: MIT */
/*
 * gcc 12's -fanalyzer loses track of a heap pointer once it is stored into
 * an element of a heap array (at an index it cannot follow) or into a
 * struct reached through a pointer, and then reports it as leaked on the
 * next line. FL_LEAK_FP_BEGIN/END around one function silence that one
 * checker there, and only under gcc; each use says who owns the pointer.
 * valgrind (make check-analyze) and LSan (make check-asan) check those
 * paths at run time.
 */
#ifndef FALLACY_ANALYZER_H
#define FALLACY_ANALYZER_H

#if defined(__GNUC__) && !defined(__clang__)
#define FL_LEAK_FP_BEGIN \
	_Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define FL_LEAK_FP_END _Pragma("GCC diagnostic pop")
#else
#define FL_LEAK_FP_BEGIN
#define FL_LEAK_FP_END
#endif

#endif
