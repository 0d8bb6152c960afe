// Whether this test binary runs under AddressSanitizer or ThreadSanitizer,
// which slow everything several times: a bound on elapsed time that pins a
// speed holds only without them.
#ifndef NETPOOL_TESTS_SUPPORT_SANITIZER_H_
#define NETPOOL_TESTS_SUPPORT_SANITIZER_H_

namespace netpool::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace netpool::testing

#endif  // NETPOOL_TESTS_SUPPORT_SANITIZER_H_
