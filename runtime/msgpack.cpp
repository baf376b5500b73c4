// MessagePack headers and value sizes (cask/detail/msgpack.hpp).
#include "cask/detail/msgpack.hpp"

#include <limits>
#include <string>

#include "cask/errors.hpp"

namespace cask::detail::msgpack {
namespace {

void put_big_endian(Bytes& out, std::uint64_t n, int width) {
  for (int shift = 8 * (width - 1); shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
}

void check_32_bits(std::size_t n, const char* what) {
  // nlohmann writes no header at all beyond this; refuse rather than send bytes nobody reads.
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw SerializationError(std::string("cask: a ") + what + " of " + std::to_string(n) +
                             " bytes is larger than MessagePack allows (4 GiB)");
}

// A header with 1-, 2- and 4-byte length forms tagged tag8, tag8 + 1, tag8 + 2.
void put_sized_header(Bytes& out, std::size_t n, unsigned tag8) {
  if (n <= 0xff) {
    out.push_back(static_cast<char>(tag8));
    put_big_endian(out, n, 1);
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(tag8 + 1));
    put_big_endian(out, n, 2);
  } else {
    out.push_back(static_cast<char>(tag8 + 2));
    put_big_endian(out, n, 4);
  }
}

}  // namespace

void put_array_header(Bytes& out, std::size_t n) {
  check_32_bits(n, "array");
  if (n <= 15) {
    out.push_back(static_cast<char>(0x90 | n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(0xdc));
    put_big_endian(out, n, 2);
  } else {
    out.push_back(static_cast<char>(0xdd));
    put_big_endian(out, n, 4);
  }
}

void put_str_header(Bytes& out, std::size_t n) {
  check_32_bits(n, "string");
  if (n <= 31)
    out.push_back(static_cast<char>(0xa0 | n));
  else
    put_sized_header(out, n, 0xd9);
}

void put_bin_header(Bytes& out, std::size_t n) {
  check_32_bits(n, "binary value");
  put_sized_header(out, n, 0xc4);
}

std::size_t value_size(ByteView bytes) noexcept {
  const auto* const begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const unsigned char* p = begin;
  // Reads a big-endian length of `width` bytes; false when the buffer ends first.
  auto length = [&](int width, std::uint64_t& n) {
    if (end - p < width) return false;
    n = 0;
    for (int i = 0; i < width; ++i) n = (n << 8) | *p++;
    return true;
  };
  // Values still to skip. Each takes at least one byte, which bounds the count by the
  // bytes left (no overflow, and a huge array header in a short buffer fails at once).
  std::uint64_t pending = 1;
  while (pending > 0) {
    if (pending > std::uint64_t(end - p)) return 0;
    const unsigned c = *p++;
    --pending;
    std::uint64_t n = 0;     // a length or count read from the header
    std::uint64_t skip = 0;  // payload bytes after the header
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) continue;
    if ((c & 0xf0) == 0x80) {  // fixmap: keys and values
      pending += 2 * (c & 0x0f);
      continue;
    }
    if ((c & 0xf0) == 0x90) {  // fixarray
      pending += c & 0x0f;
      continue;
    }
    if ((c & 0xe0) == 0xa0) {  // fixstr
      skip = c & 0x1f;
    } else {
      switch (c) {
        case 0xc4: case 0xd9:  // bin 8, str 8
          if (!length(1, skip)) return 0;
          break;
        case 0xc5: case 0xda:
          if (!length(2, skip)) return 0;
          break;
        case 0xc6: case 0xdb:
          if (!length(4, skip)) return 0;
          break;
        case 0xc7: case 0xc8: case 0xc9:  // ext 8/16/32: length, type byte, data
          if (!length(1 << (c - 0xc7), skip)) return 0;
          ++skip;
          break;
        case 0xca: skip = 4; break;  // float 32
        case 0xcb: skip = 8; break;  // float 64
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:  // fixext: type + 1..16
          skip = 1 + (std::uint64_t(1) << (c - 0xd4));
          break;
        case 0xdc: case 0xdd:  // array 16/32
          if (!length(c == 0xdc ? 2 : 4, n)) return 0;
          pending += n;
          break;
        case 0xde: case 0xdf:  // map 16/32
          if (!length(c == 0xde ? 2 : 4, n)) return 0;
          pending += 2 * n;
          break;
        default:  // 0xc1: never used
          return 0;
      }
    }
    if (skip > std::uint64_t(end - p)) return 0;
    p += skip;
  }
  return std::size_t(p - begin);
}

std::optional<std::vector<ByteView>> array_elements(ByteView bytes) {
  Reader in(bytes);
  std::size_t n = 0;
  if (!in.array_header(n) || n > in.left()) return std::nullopt;
  std::vector<ByteView> out;
  out.reserve(n);
  ByteView rest = bytes.subspan(bytes.size() - in.left());
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = value_size(rest);
    if (size == 0) return std::nullopt;
    out.push_back(rest.first(size));
    rest = rest.subspan(size);
  }
  if (!rest.empty()) return std::nullopt;
  return out;
}

}  // namespace cask::detail::msgpack
