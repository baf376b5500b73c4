// Control: the same calls with matching arguments compile, so the failures of the other
// snippets come from the argument checks, not from the harness.
#include <cask/cask.hpp>

#include <string>
#include <vector>

int twice(int x) { return 2 * x; }
int add(int a, int b) { return a + b; }

int main() {
  cask::Client client;
  cask::Future<int> f = client.submit(twice, 1);
  cask::Future<int> g = client.submit(twice, f);
  std::vector<cask::Future<int>> fs = client.map(add, std::vector{1, 2}, std::vector{3, 4});
  (void)g;
  (void)fs;
}
