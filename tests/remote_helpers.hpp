// tests/remote_helpers.hpp: what the tests of values on the wire share.
#pragma once

#include <string>

#include <cask/remote.hpp>
#include <doctest/doctest.h>

namespace remote_helpers {

/// The SerializationError message of decoding `bytes` as T (fails the case when none).
template <class T>
std::string decode_error(const cask::detail::Bytes& bytes) {
  try {
    (void)cask::detail::decode<T>(bytes);
  } catch (const cask::SerializationError& e) {
    return e.what();
  }
  FAIL("decode did not throw SerializationError");
  return {};
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace remote_helpers
