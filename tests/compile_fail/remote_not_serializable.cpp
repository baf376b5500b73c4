// Must not compile: `area` takes a Shape, which has no to_json/from_json.
// Expected diagnostic: "values crossing processes must be convertible to and from
// nlohmann::json (to_json/from_json)" (cask/remote.hpp).
#include <cask/remote.hpp>

struct Shape {
  int sides = 0;
};

int area(Shape s) { return s.sides; }
CASK_REMOTE(area);

int main() {}
