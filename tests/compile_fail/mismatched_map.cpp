// Must not compile: `add` takes two ints, map gives it one range of strings.
#include <cask/cask.hpp>

#include <string>
#include <vector>

int add(int a, int b) { return a + b; }

int main() {
  cask::Client client;
  auto fs = client.map(add, std::vector<std::string>{"a", "b"});
  (void)fs;
}
