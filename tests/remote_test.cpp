// cask/remote.hpp: values on the wire and functions called by name (the first layer of
// cluster mode, no networking). Round trips of values (scalars, strings, containers,
// optional, a user struct, nested), void results, bad bytes -> SerializationError naming the
// type, CASK_REMOTE'd functions found by name and by address and invoked with encoded
// arguments, arity and argument-type mismatches, exceptions crossing as RemoteError, a name
// registered with two signatures, and the sorted list a worker advertises.
#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <cask/remote.hpp>

#include "helpers.hpp"
#include "remote_helpers.hpp"

namespace remote_test {

struct Point {
  int x = 0;
  int y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};
void to_json(nlohmann::json& j, const Point& p) { j = {{"x", p.x}, {"y", p.y}}; }
void from_json(const nlohmann::json& j, Point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
}

struct Oops : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Point shift(Point p, int dx) { return {p.x + dx, p.y}; }
CASK_REMOTE(shift);  // inside a namespace: registered as "shift"

}  // namespace remote_test

using remote_test::Point;

int remote_repeat(const std::string& s, int times) {
  return static_cast<int>(s.size()) * times;
}
std::vector<int> touched;
void remote_touch(std::vector<int> xs) { touched = std::move(xs); }
int remote_fail(int code) {
  if (code == 1) throw remote_test::Oops("code 1");
  if (code == 2) throw 42;  // not a std::exception
  throw std::invalid_argument("bad code " + std::to_string(code));
}

CASK_REMOTE(remote_repeat);
CASK_REMOTE(remote_touch);
CASK_REMOTE(remote_fail);
CASK_REMOTE(remote_repeat);  // again, same signature: kept once

namespace {

using cask::detail::Bytes;
using cask::detail::decode;
using cask::detail::encode;
using cask::detail::encode_args;
namespace registry = cask::detail::remote_registry;
using remote_helpers::contains;
using remote_helpers::decode_error;

template <class T>
T round_trip(const T& value) {
  return decode<T>(encode(value));
}

std::string invoke_error(const char* name, const Bytes& args) {
  try {
    (void)registry::find(name)->invoke(args);
  } catch (const cask::SerializationError& e) {
    return e.what();
  }
  FAIL("invoke did not throw SerializationError");
  return {};
}

}  // namespace

TEST_CASE("Remote.values_round_trip" * doctest::timeout(10)) {
  static_assert(cask::detail::Serializable<Point>);
  static_assert(cask::detail::Serializable<void>);
  static_assert(!cask::detail::Serializable<std::thread>);

  CHECK(round_trip(42) == 42);
  CHECK(round_trip(-7) == -7);
  CHECK(round_trip(3.25) == 3.25);
  CHECK(round_trip(true) == true);
  CHECK(round_trip(false) == false);
  CHECK(round_trip(std::string("hello, wire")) == "hello, wire");
  CHECK(round_trip(std::string()) == "");
  CHECK(round_trip(std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});
  CHECK(round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}}) ==
        std::map<std::string, int>{{"a", 1}, {"b", 2}});
  CHECK(round_trip(std::optional<int>(5)) == std::optional<int>(5));
  CHECK(round_trip(std::optional<int>()) == std::nullopt);
  CHECK(round_trip(Point{3, -4}) == Point{3, -4});

  using Nested = std::map<std::string, std::vector<std::optional<Point>>>;
  const Nested nested{{"line", {Point{0, 0}, std::nullopt, Point{1, 2}}}, {"empty", {}}};
  CHECK(round_trip(nested) == nested);
  const std::vector<std::vector<std::string>> grid{{"a", "b"}, {}, {"c"}};
  CHECK(round_trip(grid) == grid);

  // MessagePack, not text: a small int is one byte.
  CHECK(encode(5).size() == 1);
}

TEST_CASE("Remote.void_results" * doctest::timeout(10)) {
  const Bytes null = cask::detail::encode_void();
  decode<void>(null);  // does not throw
  const std::string message = decode_error<void>(encode(1));
  CHECK(contains(message, "void"));
}

TEST_CASE("Remote.bad_bytes_throw_serialization_error_naming_the_type" * doctest::timeout(10)) {
  // empty
  CHECK(contains(decode_error<int>(Bytes{}), "int"));
  // truncated: a string with its last bytes missing
  Bytes text = encode(std::string("a string long enough"));
  text.resize(text.size() - 3);
  const std::string truncated = decode_error<std::string>(text);
  CHECK(contains(truncated, "std::string"));
  CHECK(contains(truncated, "parse_error"));  // nlohmann's reason
  // garbage: 0xc1 is never used by MessagePack
  CHECK(contains(decode_error<Point>(Bytes{'\xc1', 'x', 'y'}), "remote_test::Point"));
  // trailing bytes after a complete value
  Bytes trailing = encode(1);
  trailing.push_back('\x01');
  CHECK(contains(decode_error<int>(trailing), "int"));
  // well-formed but the wrong type
  const std::string wrong = decode_error<int>(encode(std::string("seven")));
  CHECK(contains(wrong, "int"));
  CHECK(contains(wrong, "type_error"));
  CHECK(contains(decode_error<Point>(encode(std::vector<int>{1, 2})), "remote_test::Point"));
  CHECK(contains(decode_error<std::vector<int>>(encode(std::map<std::string, int>{{"a", 1}})),
                 "std::vector<int"));
}

TEST_CASE("Remote.functions_found_by_name_and_address_and_invoked" * doctest::timeout(10)) {
  const cask::detail::RemoteFunction* repeat = registry::find("remote_repeat");
  REQUIRE(repeat != nullptr);
  CHECK(repeat->name == "remote_repeat");
  CHECK(repeat->signature == "int(std::string, int)");
  CHECK(repeat->address == reinterpret_cast<const void*>(&remote_repeat));
  CHECK(registry::find(reinterpret_cast<const void*>(&remote_repeat)) == repeat);
  CHECK(decode<int>(repeat->invoke(encode_args(std::string("abc"), 4))) == 12);

  const auto* shift = registry::find("shift");
  REQUIRE(shift != nullptr);
  CHECK(shift->signature == "remote_test::Point(remote_test::Point, int)");
  CHECK(registry::find(reinterpret_cast<const void*>(&remote_test::shift)) == shift);
  CHECK(decode<Point>(shift->invoke(encode_args(Point{1, 2}, 10))) == Point{11, 2});

  const auto* touch = registry::find("remote_touch");
  REQUIRE(touch != nullptr);
  CHECK(touch->signature == "void(std::vector<int, std::allocator<int> >)");
  decode<void>(touch->invoke(encode_args(std::vector<int>{7, 8})));
  CHECK(touched == std::vector<int>{7, 8});

  CHECK(registry::find("no_such_function") == nullptr);
  CHECK(registry::find(static_cast<const void*>(&touched)) == nullptr);
}

TEST_CASE("Remote.invoke_checks_arity_and_argument_types" * doctest::timeout(10)) {
  const std::string too_few = invoke_error("remote_repeat", encode_args(std::string("abc")));
  CHECK(contains(too_few, "expects 2 argument(s), given 1"));
  const std::string too_many = invoke_error("shift", encode_args(Point{}, 1, 2));
  CHECK(contains(too_many, "expects 2 argument(s), given 3"));
  CHECK(contains(invoke_error("remote_touch", encode_args()), "given 0"));

  const std::string wrong = invoke_error("remote_repeat", encode_args(5, 4));
  CHECK(contains(wrong, "std::string"));
  CHECK(contains(wrong, "argument 1 of remote_repeat"));
  CHECK(contains(invoke_error("shift", encode_args(Point{}, std::string("x"))),
                 "argument 2 of shift"));
  // not an array at all, and not MessagePack at all
  CHECK(contains(invoke_error("remote_repeat", encode(3)), "must be an array"));
  CHECK(contains(invoke_error("remote_repeat", Bytes{'\xc1'}), "arguments of remote_repeat"));
}

TEST_CASE("Remote.exceptions_cross_as_remote_error" * doctest::timeout(10)) {
  const auto* fail = registry::find("remote_fail");
  REQUIRE(fail != nullptr);
  auto run_remotely = [&](int code) -> Bytes {  // what a worker will do
    try {
      (void)fail->invoke(encode_args(code));
    } catch (...) {
      return cask::detail::encode_error(std::current_exception());
    }
    FAIL("remote_fail did not throw");
    return {};
  };
  auto rethrown = [](const Bytes& error) -> cask::RemoteError {
    try {
      cask::detail::rethrow_remote(error);
    } catch (const cask::RemoteError& e) {
      return e;
    }
    return cask::RemoteError("none", "none");
  };

  const cask::RemoteError oops = rethrown(run_remotely(1));
  CHECK(oops.type_name() == "remote_test::Oops");
  CHECK(std::string(oops.what()) == "remote_test::Oops: code 1");
  const cask::RemoteError invalid = rethrown(run_remotely(3));
  CHECK(invalid.type_name() == "std::invalid_argument");
  CHECK(std::string(invalid.what()) == "std::invalid_argument: bad code 3");
  const cask::RemoteError unknown = rethrown(run_remotely(2));
  CHECK(unknown.type_name() == "unknown exception");

  // A RemoteError passed on keeps its original type and message.
  const Bytes again = cask::detail::encode_error(std::make_exception_ptr(oops));
  const cask::RemoteError passed_on = rethrown(again);
  CHECK(passed_on.type_name() == "remote_test::Oops");
  CHECK(std::string(passed_on.what()) == "remote_test::Oops: code 1");

  // A message that already names its type (cask's errors do) names it once.
  const cask::RemoteError named = rethrown(
      cask::detail::encode_error(std::make_exception_ptr(cask::Error("cask::Error: input k is gone"))));
  CHECK(named.type_name() == "cask::Error");
  CHECK(std::string(named.what()) == "cask::Error: input k is gone");

  CHECK_THROWS_AS(cask::detail::rethrow_remote(encode(1)), cask::SerializationError);
  CHECK_THROWS_AS(cask::detail::rethrow_remote(Bytes{}), cask::SerializationError);
}

TEST_CASE("Remote.name_with_two_signatures_is_not_registered" * doctest::timeout(10)) {
  auto fn = [](std::string signature, const void* address) {
    return cask::detail::RemoteFunction{"remote_test_conflict", std::move(signature),
                                        [](std::span<const cask::detail::ByteView>) { return Bytes{}; },
                                        address};
  };
  static const int a = 0, b = 0;
  registry::add(fn("int(int)", &a));
  REQUIRE(registry::find("remote_test_conflict") != nullptr);
  registry::add(fn("int(int)", nullptr));  // same signature: fine
  CHECK(registry::find("remote_test_conflict")->signature == "int(int)");

  registry::add(fn("void(std::string)", &b));
  try {
    (void)registry::find("remote_test_conflict");
    FAIL("find did not throw");
  } catch (const cask::NotRegisteredError& e) {
    const std::string message = e.what();
    CHECK(contains(message, "remote_test_conflict"));
    CHECK(contains(message, "int(int)"));
    CHECK(contains(message, "void(std::string)"));
  }
  CHECK_THROWS_AS((void)registry::find(static_cast<const void*>(&b)), cask::NotRegisteredError);
  for (const auto& entry : registry::list()) CHECK(entry.name != "remote_test_conflict");
}

TEST_CASE("Remote.list_is_sorted_with_signatures" * doctest::timeout(10)) {
  const std::vector<cask::detail::RemoteSignature> all = registry::list();
  CHECK(std::is_sorted(all.begin(), all.end(),
                       [](const auto& l, const auto& r) { return l.name < r.name; }));
  auto has = [&](const cask::detail::RemoteSignature& s) {
    return std::find(all.begin(), all.end(), s) != all.end();
  };
  CHECK(has({"remote_repeat", "int(std::string, int)"}));
  CHECK(has({"remote_fail", "int(int)"}));
  CHECK(has({"shift", "remote_test::Point(remote_test::Point, int)"}));
  CHECK(std::count_if(all.begin(), all.end(),
                      [](const auto& s) { return s.name == "remote_repeat"; }) == 1);
}
