/* Test-only workarounds for the sanitizer runtimes' limits around fork(),
 * one implementation for the C++ harness (testing/forked_child.cc) and the
 * C ABI's C tests (capi/c_test_util.h): plain C declarations, so C99 code
 * can call them. Each does nothing in a binary built without the sanitizer
 * it is about, and the default build needs none of this. */
#ifndef ZEN_TESTING_FORK_UNDER_SANITIZERS_H_
#define ZEN_TESTING_FORK_UNDER_SANITIZERS_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Call right before fork() in a parent whose other threads run. GCC 12's
 * and clang 14's AddressSanitizer runtimes take no allocator lock around
 * fork() (newer runtimes do): a child forked while another thread of the
 * parent is inside malloc inherits that lock held and hangs at its first
 * allocation of the same size class (seen with gdb: a child blocked in
 * SizeClassAllocator64::GetFromAllocator). Under ASan this waits, up to
 * 2 s, until every other thread of the process is asleep in a wait, so
 * inside no allocator. A thread can still wake between the look and the
 * fork: this narrows the window, it does not close it. */
void zen_testing_before_fork(void);

/* Call first thing in a child forked from a multi-threaded parent that
 * will start threads. GCC 12's ThreadSanitizer keeps the parent's threads
 * registered in the child; glibc hands their stacks to the child's first
 * new threads, whose pthread ids then equal a registered one, and TSan dies
 * with "dup thread with used id" (newer runtimes forget the parent's
 * threads at fork). Under TSan this asks for larger stacks than the
 * parent's threads have, so glibc reuses none of theirs. */
void zen_testing_after_fork_in_child(void);

#ifdef __cplusplus
}
#endif

#endif /* ZEN_TESTING_FORK_UNDER_SANITIZERS_H_ */
