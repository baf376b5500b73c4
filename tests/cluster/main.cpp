// The doctest runner of the cluster-mode suite; the cases live in cluster_*_test.cpp.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
