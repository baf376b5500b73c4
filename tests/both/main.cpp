// The doctest runner of the two-mode suite; the cases live in *_test.cpp (see harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
