// cask/detail/msgpack.hpp: the fast paths write exactly nlohmann's bytes and read them back
// (and nlohmann reads theirs), other encodings of the same value and bad bytes go through
// nlohmann (same value, or SerializationError naming the type), value_size measures one
// value without decoding it (truncated and malformed bytes, deep nesting), arguments are
// split and spliced as views, and cask's scatter passes its value's bytes on.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <cask/remote.hpp>

#include "helpers.hpp"
#include "remote_helpers.hpp"

namespace {

using cask::detail::ByteView;
using cask::detail::Bytes;
using cask::detail::decode;
using cask::detail::encode;
namespace msgpack = cask::detail::msgpack;
using remote_helpers::contains;
using remote_helpers::decode_error;

template <class T>
Bytes nlohmann_bytes(const T& value) {
  return cask::detail::to_bytes(nlohmann::json(value));
}

/// encode(value) is nlohmann's bytes, and both paths read them back as value.
template <class T>
void check_same_bytes(const T& value) {
  static_assert(cask::detail::FastEncodable<T>);
  const Bytes fast = encode(value);
  CHECK(fast == nlohmann_bytes(value));
  CHECK(decode<T>(fast) == value);
  CHECK(nlohmann::json::from_msgpack(fast).template get<T>() == value);
  const auto direct = cask::detail::fast_decode<T>(fast);  // not through the fallback
  REQUIRE(direct.has_value());
  CHECK(*direct == value);
}

Bytes bytes_of(std::initializer_list<int> xs) {
  Bytes out;
  for (int x : xs) out.push_back(static_cast<char>(x));
  return out;
}

}  // namespace

TEST_CASE("Msgpack.fast_paths_write_the_bytes_nlohmann_writes" * doctest::timeout(30)) {
  // Every header size: fixstr, str 8, str 16, str 32 (and the same for arrays and bins).
  for (std::size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536, 70001}) {
    std::string s(n, 'a');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7);  // every byte value
    check_same_bytes(s);

    std::vector<char> chars(n);
    std::vector<unsigned char> bytes(n);
    for (std::size_t i = 0; i < n; ++i) {
      chars[i] = static_cast<char>(i);
      bytes[i] = static_cast<unsigned char>(i * 13);
    }
    check_same_bytes(chars);
    check_same_bytes(bytes);

    nlohmann::json::binary_t bin(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    check_same_bytes(bin);
  }
  check_same_bytes(std::vector<std::string>{"", "x", std::string(300, 'y')});
  check_same_bytes(std::vector<std::vector<unsigned char>>{{}, {0, 127, 128, 255}});
  check_same_bytes(std::vector<std::vector<std::string>>(20, {"ab", "c"}));  // array 16

  // A binary value with a subtype is an ext value: written by nlohmann, read back by it.
  nlohmann::json::binary_t ext({1, 2, 3}, 7);
  CHECK(encode(ext) == nlohmann_bytes(ext));
  CHECK(decode<nlohmann::json::binary_t>(encode(ext)) == ext);
}

TEST_CASE("Msgpack.other_encodings_and_bad_bytes_go_through_nlohmann" * doctest::timeout(30)) {
  // "abc" as str 16 (nlohmann would write a fixstr): the same value, read by nlohmann.
  CHECK(decode<std::string>(bytes_of({0xda, 0, 3, 'a', 'b', 'c'})) == "abc");
  // [5, 300] as a vector<char>: 300 does not fit a char (nlohmann truncates it, so do we).
  CHECK(decode<std::vector<char>>(bytes_of({0x92, 5, 0xcd, 1, 44})) ==
        std::vector<char>{5, static_cast<char>(300)});
  // A vector<unsigned char> element written as uint 16.
  CHECK(decode<std::vector<unsigned char>>(bytes_of({0x91, 0xcd, 0, 200})) ==
        std::vector<unsigned char>{200});

  // Truncated: the header promises more bytes than there are.
  Bytes text = encode(std::string(100, 'z'));
  text.resize(text.size() - 1);
  const std::string truncated = decode_error<std::string>(text);
  CHECK(contains(truncated, "std::string"));
  CHECK(contains(truncated, "parse_error"));
  // A str 32 header claiming 4 GiB in 5 bytes: an error, not an allocation.
  CHECK(contains(decode_error<std::string>(bytes_of({0xdb, 0xff, 0xff, 0xff, 0xff})), "parse_error"));
  // Trailing bytes after a complete string.
  Bytes trailing = encode(std::string("abc"));
  trailing.push_back('\0');
  CHECK(contains(decode_error<std::string>(trailing), "std::string"));
  // The wrong type.
  CHECK(contains(decode_error<std::string>(encode(42)), "type_error"));
  CHECK_THROWS_AS((void)decode<std::vector<unsigned char>>(encode(std::string("no"))),
                  cask::SerializationError);
  CHECK_THROWS_AS((void)decode<std::vector<std::string>>(bytes_of({0x92, 0xa1, 'a'})),
                  cask::SerializationError);
  // Larger than MessagePack allows: refused at the header, no bytes written.
  Bytes out;
  CHECK_THROWS_AS(msgpack::put_str_header(out, std::size_t(1) << 32), cask::SerializationError);
  CHECK_THROWS_AS(msgpack::put_array_header(out, std::size_t(1) << 32), cask::SerializationError);
  CHECK(out.empty());
}

TEST_CASE("Msgpack.value_size_measures_one_value_without_decoding" * doctest::timeout(30)) {
  const nlohmann::json samples[] = {
      nullptr, true, 0, 127, 128, -1, -33, 70000, -70000, 1ll << 40, -(1ll << 40), 1.5,
      3.14159265358979, "", std::string(40, 's'), std::string(300, 's'),
      std::string(70000, 's'), nlohmann::json::array(), nlohmann::json::array({1, "a", nullptr}),
      nlohmann::json::object({{"k", {1, 2, {{"n", nullptr}}}}, {"z", "w"}}),
      nlohmann::json::binary({1, 2, 3}), nlohmann::json::binary({1, 2, 3}, 9),
      nlohmann::json::binary(std::vector<std::uint8_t>(16, 1), 2),
      nlohmann::json::binary(std::vector<std::uint8_t>(300, 1), 2),
      nlohmann::json(std::vector<int>(20, 1)), nlohmann::json(std::map<std::string, int>{
                                                   {"a", 1}, {"b", 2}, {"c", 3}, {"d", 4},
                                                   {"e", 5}, {"f", 6}, {"g", 7}, {"h", 8},
                                                   {"i", 9}, {"j", 10}, {"k", 11}, {"l", 12},
                                                   {"m", 13}, {"n", 14}, {"o", 15}, {"p", 16}})};
  for (const auto& sample : samples) {
    CAPTURE(sample.dump());
    const Bytes bytes = cask::detail::to_bytes(sample);
    CHECK(msgpack::value_size(bytes) == bytes.size());
    Bytes longer = bytes;
    longer.insert(longer.end(), {'\x01', '\x02'});
    CHECK(msgpack::value_size(longer) == bytes.size());  // one value, not what follows
    for (std::size_t cut = 0; cut < std::min<std::size_t>(bytes.size(), 64); ++cut)
      CHECK(msgpack::value_size(ByteView(bytes).first(cut)) == 0);
    CHECK(msgpack::value_size(ByteView(bytes).first(bytes.size() - 1)) == 0);
  }
  CHECK(msgpack::value_size(bytes_of({0xc1})) == 0);  // never used in MessagePack
  CHECK(msgpack::value_size(bytes_of({0x91, 0xc1})) == 0);
  // An array 32 of 4 billion elements in 5 bytes: fails at once.
  CHECK(msgpack::value_size(bytes_of({0xdd, 0xff, 0xff, 0xff, 0xff})) == 0);
  // Nested 200,000 deep: no recursion, no stack overflow.
  Bytes deep(200000, static_cast<char>(0x91));
  deep.push_back(0x01);
  CHECK(msgpack::value_size(deep) == deep.size());
}

TEST_CASE("Msgpack.arguments_are_split_and_spliced_as_views" * doctest::timeout(30)) {
  const std::string big(100000, 'b');
  const Bytes array = cask::detail::encode_args(1, big, std::vector<unsigned char>{1, 200});
  const auto parts = msgpack::array_elements(array);
  REQUIRE(parts.has_value());
  REQUIRE(parts->size() == 3);
  CHECK(Bytes((*parts)[0].begin(), (*parts)[0].end()) == encode(1));
  CHECK(Bytes((*parts)[1].begin(), (*parts)[1].end()) == encode(big));
  CHECK((*parts)[1].data() > array.data());  // a view into the array, not a copy

  CHECK_FALSE(msgpack::array_elements(encode(1)).has_value());  // not an array
  Bytes trailing = array;
  trailing.push_back(0);
  CHECK_FALSE(msgpack::array_elements(trailing).has_value());
  CHECK_FALSE(msgpack::array_elements(bytes_of({0x93, 1, 2})).has_value());  // 3 announced

  // A task's arguments: a value, a dependency's value, a list of two dependencies' values.
  const std::vector<Bytes> args{encode(7), Bytes{}, Bytes{}};
  const Bytes a = encode(std::string("dep a")), b = encode(2), c = encode(3);
  const std::vector<const Bytes*> deps{&a, &b, &c};
  const std::vector<cask::detail::DepRef> refs{{1, 0, 1, false}, {2, 1, 2, true}};
  std::vector<Bytes> joined;
  const auto views = cask::detail::task_args(args, refs, deps, joined);
  REQUIRE(views.size() == 3);
  CHECK(views[0].data() == args[0].data());
  CHECK(views[1].data() == a.data());  // the dependency's bytes themselves
  CHECK(decode<std::vector<int>>(views[2]) == std::vector<int>{2, 3});
  CHECK(joined.size() == 1);

  const std::vector<cask::detail::DepRef> past_end{{3, 0, 1, false}};
  CHECK_THROWS_AS(cask::detail::task_args(args, past_end, deps, joined), cask::SerializationError);
  const std::vector<cask::detail::DepRef> too_many{{1, 2, 2, true}};
  CHECK_THROWS_AS(cask::detail::task_args(args, too_many, deps, joined), cask::SerializationError);
  CHECK_THROWS_AS(cask::detail::task_args(args, {}, deps, joined), cask::SerializationError);
}

TEST_CASE("Msgpack.scatter_passes_one_value_on" * doctest::timeout(30)) {
  const auto* scatter = cask::detail::remote_registry::find(cask::detail::kScatterFunction);
  REQUIRE(scatter != nullptr);
  const Bytes value = encode(std::string(5000, 'v'));
  const ByteView one[] = {value};
  CHECK(scatter->call(one) == value);
  CHECK(scatter->invoke(cask::detail::encode_args(std::string(5000, 'v'))) == value);

  Bytes cut = value;
  cut.resize(cut.size() - 1);
  const ByteView truncated[] = {cut};
  CHECK_THROWS_AS((void)scatter->call(truncated), cask::SerializationError);
  const ByteView two[] = {value, value};
  CHECK_THROWS_AS((void)scatter->call(two), cask::SerializationError);
}
