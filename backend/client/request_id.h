// Client-chosen request ids (invariant 4: a retry with the same id applies
// nothing twice). An id is a random UUID version 4 in its canonical text form
// (36 characters, lower-case hex), e.g. "3f1c2a9e-8d4b-4c1e-9a7f-0b5d6e2c4a18".
#pragma once

#include <string>

namespace depot::client {

// 122 random bits from a per-thread 64-bit generator seeded from
// std::random_device (and the time and thread, in case random_device is
// deterministic on some platform). Thread-safe.
std::string newRequestId();

}  // namespace depot::client
