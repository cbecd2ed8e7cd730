// Fixed secrets for tests. Real secrets come from ipc::Secret::Generate().
#ifndef ZEN_TESTING_TEST_SECRET_H_
#define ZEN_TESTING_TEST_SECRET_H_

#include <cstdint>

#include "ipc/secret.h"

namespace zen::testing {

// A secret whose every byte is `fill`; distinct fills give distinct secrets.
inline ipc::Secret TestSecret(uint8_t fill = 0x5a) {
  uint8_t key[ipc::Secret::kSize];
  for (uint8_t& b : key) b = fill;
  return *ipc::Secret::FromBytes(key);
}

}  // namespace zen::testing

#endif  // ZEN_TESTING_TEST_SECRET_H_
