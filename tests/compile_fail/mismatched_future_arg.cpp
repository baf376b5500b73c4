// Must not compile: a Future<std::string> counts as a std::string, `twice` wants an int.
#include <cask/cask.hpp>

#include <string>

int twice(int x) { return 2 * x; }
std::string word() { return "word"; }

int main() {
  cask::Client client;
  cask::Future<std::string> w = client.submit(word);
  auto f = client.submit(twice, w);
  (void)f;
}
