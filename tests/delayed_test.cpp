// cask::delayed without a Client. Every other Delayed case runs in both modes
// (tests/both/delayed_test.cpp and nested_test.cpp). Embedded-only:
// - Delayed.compute_without_client_throws: about having no Client at all, which neither
//   mode's harness can express (each case runs with its mode's Client).
#include "helpers.hpp"

using namespace cask_test;

TEST_CASE("Delayed.compute_without_client_throws" * doctest::timeout(10)) {
  auto d = cask::delayed(add)(1, 2);
  CHECK_THROWS_AS((void)cask::compute(d), cask::Error);
}
