// Must not compile: `twice` takes an int, it is given a std::string.
// Expected diagnostic: "cannot be called with these arguments" (cask/client.hpp).
#include <cask/cask.hpp>

#include <string>

int twice(int x) { return 2 * x; }

int main() {
  cask::Client client;
  auto f = client.submit(twice, std::string("not an int"));
  (void)f;
}
