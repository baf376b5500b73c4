// cask/detail/msgpack.hpp: MessagePack without nlohmann::json where bulk bytes travel.
//
// nlohmann::json turns a value into a json tree and reads MessagePack one byte at a time:
// a 100 MB std::string takes about a second each way. The values that carry bulk bytes
// (std::string, std::vector<char>, std::vector<unsigned char>, nlohmann::json::binary_t,
// and std::vectors of them) are written and read here directly, in exactly the bytes
// nlohmann writes for them, so either side may use either path:
//   std::string                  str 8/16/32 header + the bytes (one memcpy each way)
//   nlohmann::json::binary_t     bin 8/16/32 header + the bytes (no subtype; with one: nlohmann)
//   std::vector<char / uchar>    an array of small integers (nlohmann's form for them): one
//                                tight loop each way, 1-2 bytes per element
//   std::vector<T>               array header + each T this way
// FastCodec<T>::read accepts only these canonical forms and returns false on anything else
// (another encoding of the same value, a wrong type, truncated bytes): the caller then goes
// through nlohmann, which decodes what it can and names what is wrong.
// Also here: the size of one encoded value without decoding it (value_size), which lets a
// worker pass each argument's bytes to its decoder separately.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace cask::detail {

/// Bytes on the wire (MessagePack).
using Bytes = std::vector<char>;
/// Encoded bytes inside a larger buffer (one value, or an argument array).
using ByteView = std::span<const char>;

namespace msgpack {

/// Appends an array header for n elements (fixarray, array 16 or array 32).
void put_array_header(Bytes& out, std::size_t n);
/// Appends a str header for n bytes (fixstr, str 8/16/32); n must fit 32 bits.
void put_str_header(Bytes& out, std::size_t n);
/// Appends a bin header for n bytes (bin 8/16/32); n must fit 32 bits.
void put_bin_header(Bytes& out, std::size_t n);

/// The size of the first complete MessagePack value in `bytes` (headers, nested elements
/// and payload), or 0 when `bytes` does not start with one (truncated, or the unused byte
/// 0xc1). Does not recurse: any nesting depth is fine.
std::size_t value_size(ByteView bytes) noexcept;

/// The elements of the array that `bytes` holds, each as its own bytes; nullopt unless
/// `bytes` is exactly one complete array.
std::optional<std::vector<ByteView>> array_elements(ByteView bytes);

/// Reads canonical MessagePack headers and payloads from a buffer, never past its end.
class Reader {
 public:
  explicit Reader(ByteView bytes)
      : p_(reinterpret_cast<const unsigned char*>(bytes.data())), end_(p_ + bytes.size()) {}
  bool at_end() const { return p_ == end_; }
  std::size_t left() const { return std::size_t(end_ - p_); }

  /// A str header: its length in n.
  bool str_header(std::size_t& n) { return header(n, 0xa0, 0x1f, 0xd9); }
  /// A bin header (bin 8/16/32): its length in n.
  bool bin_header(std::size_t& n) { return header(n, 0, 0, 0xc4); }
  /// An array header: its element count in n.
  bool array_header(std::size_t& n) {
    if (p_ == end_) return false;
    if ((*p_ & 0xf0) == 0x90) {
      n = *p_++ & 0x0f;
      return true;
    }
    if (*p_ == 0xdc) return ++p_, big_endian(2, n);
    if (*p_ == 0xdd) return ++p_, big_endian(4, n);
    return false;
  }
  /// The next n payload bytes, in place.
  bool take(std::size_t n, const char*& data) {
    if (left() < n) return false;
    data = reinterpret_cast<const char*>(p_);
    p_ += n;
    return true;
  }
  /// An integer encoded as a fixint, negative fixint, uint 8 or int 8 (nlohmann's form
  /// for every integer in [-128, 255]).
  bool small_int(int& v) {
    if (p_ == end_) return false;
    const unsigned char c = *p_;
    if (c < 0x80 || c >= 0xe0) {  // fixint, negative fixint
      v = static_cast<signed char>(c);
      ++p_;
      return true;
    }
    if ((c != 0xcc && c != 0xd0) || left() < 2) return false;
    v = c == 0xcc ? int(p_[1]) : int(static_cast<signed char>(p_[1]));
    p_ += 2;
    return true;
  }

 private:
  // A header whose short form is `fix_tag | n` (n <= fix_mask; fix_mask 0: no short form)
  // and whose long forms are tag8, tag8 + 1, tag8 + 2 with 1, 2, 4 length bytes.
  bool header(std::size_t& n, unsigned fix_tag, unsigned fix_mask, unsigned tag8) {
    if (p_ == end_) return false;
    const unsigned c = *p_;
    if (fix_mask && (c & ~fix_mask) == fix_tag) {
      n = c & fix_mask;
      ++p_;
      return true;
    }
    if (c < tag8 || c > tag8 + 2) return false;
    ++p_;
    return big_endian(std::size_t(1) << (c - tag8), n);
  }
  bool big_endian(std::size_t width, std::size_t& n) {
    if (left() < width) return false;
    n = 0;
    for (std::size_t i = 0; i < width; ++i) n = (n << 8) | *p_++;
    return true;
  }
  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace msgpack

/// How T is written and read without nlohmann (the types listed above); the primary
/// template has no fast path.
template <class T>
struct FastCodec {
  static constexpr bool enabled = false;
};

template <>
struct FastCodec<std::string> {
  static constexpr bool enabled = true;
  static void write(Bytes& out, const std::string& s) {
    msgpack::put_str_header(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  static bool read(msgpack::Reader& in, std::string& s) {
    std::size_t n = 0;
    const char* data = nullptr;
    if (!in.str_header(n) || !in.take(n, data)) return false;
    s.assign(data, n);  // one pass: no zero-filling first
    return true;
  }
};

template <>
struct FastCodec<nlohmann::json::binary_t> {
  static constexpr bool enabled = true;
  static void write(Bytes& out, const nlohmann::json::binary_t& b);  // below: may need nlohmann
  static bool read(msgpack::Reader& in, nlohmann::json::binary_t& b) {
    std::size_t n = 0;
    const char* data = nullptr;
    if (!in.bin_header(n) || !in.take(n, data)) return false;
    const auto* first = reinterpret_cast<const std::uint8_t*>(data);
    b = nlohmann::json::binary_t(std::vector<std::uint8_t>(first, first + n));  // no subtype
    return true;
  }
};

inline void FastCodec<nlohmann::json::binary_t>::write(Bytes& out,
                                                        const nlohmann::json::binary_t& b) {
  if (b.has_subtype()) {  // an ext value: rare, nlohmann writes it
    nlohmann::json::to_msgpack(nlohmann::json(b), nlohmann::detail::output_adapter<char>(out));
    return;
  }
  msgpack::put_bin_header(out, b.size());
  const auto* data = reinterpret_cast<const char*>(b.data());
  out.insert(out.end(), data, data + b.size());
}

/// A vector of bytes as nlohmann writes it: an array of integers, one per element.
template <class Byte>
struct ByteVectorCodec {
  static constexpr bool enabled = true;
  static void write(Bytes& out, const std::vector<Byte>& v) {
    msgpack::put_array_header(out, v.size());
    const std::size_t at = out.size();
    out.resize(at + 2 * v.size());  // the most it can take; trimmed below
    char* p = out.data() + at;
    for (const Byte b : v) {
      const int x = static_cast<int>(b);
      if (x >= -32 && x < 128) {  // fixint or negative fixint: the byte itself
        *p++ = static_cast<char>(b);
      } else {
        *p++ = static_cast<char>(x < 0 ? 0xd0 : 0xcc);  // int 8 / uint 8
        *p++ = static_cast<char>(b);
      }
    }
    out.resize(std::size_t(p - out.data()));
  }
  static bool read(msgpack::Reader& in, std::vector<Byte>& v) {
    std::size_t n = 0;
    if (!in.array_header(n) || in.left() < n) return false;
    v.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      int x = 0;
      if (!in.small_int(x) || x < int(std::numeric_limits<Byte>::min()) ||
          x > int(std::numeric_limits<Byte>::max()))
        return false;
      v[i] = static_cast<Byte>(x);
    }
    return true;
  }
};

template <>
struct FastCodec<std::vector<char>> : ByteVectorCodec<char> {};
template <>
struct FastCodec<std::vector<unsigned char>> : ByteVectorCodec<unsigned char> {};

template <class T>
  requires FastCodec<T>::enabled
struct FastCodec<std::vector<T>> {
  static constexpr bool enabled = true;
  static void write(Bytes& out, const std::vector<T>& v) {
    msgpack::put_array_header(out, v.size());
    for (const T& x : v) FastCodec<T>::write(out, x);
  }
  static bool read(msgpack::Reader& in, std::vector<T>& v) {
    std::size_t n = 0;
    if (!in.array_header(n) || in.left() < n) return false;  // each element takes a byte
    v.resize(n);
    for (auto& x : v)
      if (!FastCodec<T>::read(in, x)) return false;
    return true;
  }
};

/// T has a fast path (see FastCodec).
template <class T>
concept FastEncodable = FastCodec<T>::enabled;

/// The value of T in `bytes` by the fast path, or nullopt when they are not exactly T's
/// canonical form (the caller then asks nlohmann).
template <FastEncodable T>
std::optional<T> fast_decode(ByteView bytes) {
  msgpack::Reader in(bytes);
  std::optional<T> value(std::in_place);
  if (FastCodec<T>::read(in, *value) && in.at_end()) return value;
  return std::nullopt;
}

}  // namespace cask::detail
