// Built against an installed cask by the Packaging.find_package test.
#include <cask/cask.hpp>
int twice(int x) { return 2 * x; }
int main() { cask::Client c{{.workers = 1}}; return c.submit(twice, 21).result() == 42 ? 0 : 1; }
