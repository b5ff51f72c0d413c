#include "data/npy.h"

#include <cctype>
#include <cstring>

#include "latent/error.h"
#include "latent/files.h"

namespace latent {
namespace {

// A cursor over the header's dict literal.
struct Literal {
  const char* p;
  const char* end;
  const std::string& what;

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(what + ": bad .npy header: " + problem);
  }
  void skip_space() {
    while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
  }
  bool take(char c) {
    skip_space();
    if (p < end && *p == c) return ++p, true;
    return false;
  }
  void expect(char c, const char* where) {
    if (!take(c)) fail(std::string("expected '") + c + "' " + where);
  }
  std::string string() {
    skip_space();
    if (p >= end || (*p != '\'' && *p != '"')) fail("expected a quoted string");
    const char quote = *p++;
    std::string s;
    while (p < end && *p != quote) {
      if (*p == '\\') fail("escapes in strings are not supported");
      s += *p++;
    }
    if (p >= end) fail("unterminated string");
    ++p;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const char* word : {"True", "False"}) {
      const size_t n = std::strlen(word);
      if (size_t(end - p) >= n && std::memcmp(p, word, n) == 0) {
        p += n;
        return word[0] == 'T';
      }
    }
    fail("fortran_order must be True or False");
  }
  std::vector<int64_t> tuple() {
    expect('(', "to open the shape");
    std::vector<int64_t> dims;
    while (!take(')')) {
      skip_space();
      if (p >= end || !std::isdigit(static_cast<unsigned char>(*p))) fail("the shape must be a tuple of non-negative integers");
      int64_t v = 0;
      while (p < end && std::isdigit(static_cast<unsigned char>(*p))) {
        if (v > (int64_t(1) << 40)) fail("a dimension of the shape is absurdly large");
        v = v * 10 + (*p++ - '0');
      }
      if (p < end && *p == 'L') ++p;  // Python 2's long literal
      dims.push_back(v);
      if (int(dims.size()) > kNpyMaxRank) fail("more than " + std::to_string(kNpyMaxRank) + " dimensions");
      if (!take(',')) {
        expect(')', "to close the shape");
        break;
      }
    }
    return dims;
  }
};

void parse_descr(const std::string& descr, NpyHeader& h, const std::string& what) {
  auto unsupported = [&](const std::string& why) {
    throw Error(what + ": unsupported dtype '" + descr + "' (" + why +
                "); images must be uint8, float32 or float64, labels an integer type");
  };
  if (descr.size() < 2) unsupported("not a plain number type");
  const char order = descr[0], code = descr[1];
  if (order != '<' && order != '>' && order != '|' && order != '=') unsupported("unknown byte order");
  if (code == 'O') unsupported("Python objects");
  if (code == 'U' || code == 'S' || code == 'a' || code == 'V') unsupported("strings or raw bytes");
  if (code == 'c') unsupported("complex numbers");
  if (descr.size() < 3) unsupported("not a plain number type");
  if (code == 'b' && descr.size() == 3 && descr[2] == '1') {  // bool
    h.kind = NpyKind::kUnsigned;
    h.item_bytes = 1;
  } else if (code == 'u' || code == 'i' || code == 'f') {
    const std::string digits = descr.substr(2);
    if (digits != "1" && digits != "2" && digits != "4" && digits != "8") unsupported("unsupported item size");
    h.item_bytes = digits[0] - '0';
    h.kind = code == 'u' ? NpyKind::kUnsigned : code == 'i' ? NpyKind::kSigned : NpyKind::kFloat;
    if (h.kind == NpyKind::kFloat && h.item_bytes < 4) unsupported("half precision");
  } else {
    unsupported("not a plain number type");
  }
  h.big_endian = order == '>';
  h.descr = descr;
}

}  // namespace

NpyHeader parse_npy_header(const uint8_t* bytes, size_t size, const std::string& what) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size == 0) throw Error(what + ": file is empty");
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0)
    throw Error(what + ": not a .npy file (it must start with \\x93NUMPY)");
  const int major = bytes[6];
  if (major < 1 || major > 3) throw Error(what + ": unsupported .npy version " + std::to_string(major) + "." + std::to_string(bytes[7]));
  int64_t prefix = 10, length = bytes[8] | (int64_t(bytes[9]) << 8);
  if (major >= 2) {
    if (size < 12) throw Error(what + ": truncated .npy header");
    prefix = 12;
    length = int64_t(bytes[8]) | (int64_t(bytes[9]) << 8) | (int64_t(bytes[10]) << 16) | (int64_t(bytes[11]) << 24);
  }
  if (length > kNpyMaxHeaderBytes)
    throw Error(what + ": the .npy header claims " + std::to_string(length) + " bytes (more than " +
                std::to_string(kNpyMaxHeaderBytes) + ")");
  if (int64_t(size) < prefix + length)
    throw Error(what + ": truncated .npy header (" + std::to_string(size) + " bytes, the header needs " +
                std::to_string(prefix + length) + ")");
  NpyHeader h;
  h.header_bytes = prefix + length;
  Literal lit{reinterpret_cast<const char*>(bytes + prefix), reinterpret_cast<const char*>(bytes + prefix + length), what};
  bool have_descr = false, have_order = false, have_shape = false;
  lit.expect('{', "at the start of the header");
  while (!lit.take('}')) {
    const std::string key = lit.string();
    lit.expect(':', "after a key");
    if (key == "descr") {
      lit.skip_space();
      if (lit.p < lit.end && *lit.p == '[') throw Error(what + ": unsupported dtype (a structured array); images must be uint8, float32 or float64");
      parse_descr(lit.string(), h, what);
      have_descr = true;
    } else if (key == "fortran_order") {
      h.fortran_order = lit.boolean();
      have_order = true;
    } else if (key == "shape") {
      h.shape = lit.tuple();
      have_shape = true;
    } else {
      lit.fail("unknown key '" + key + "'");
    }
    if (!lit.take(',')) {
      lit.expect('}', "to close the header");
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape) lit.fail("it needs 'descr', 'fortran_order' and 'shape'");
  int64_t count = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && count > kIdxMaxBytes / d) throw Error(what + ": the shape's " + [&] {
      std::string s;
      for (int64_t x : h.shape) s += (s.empty() ? "" : "x") + std::to_string(x);
      return s;
    }() + " elements are more than the " + std::to_string(kIdxMaxBytes) + " bytes allowed");
    count *= d;
  }
  if (count > kIdxMaxBytes / h.item_bytes)
    throw Error(what + ": the payload would be more than " + std::to_string(kIdxMaxBytes) + " bytes");
  h.payload_bytes = count * h.item_bytes;
  return h;
}

NpyHeader read_npy_header(const std::string& path) {
  int64_t file_size = 0;
  FilePtr f = open_regular_file(path, &file_size);
  std::vector<uint8_t> head(static_cast<size_t>(std::min<int64_t>(file_size, kNpyMaxHeaderBytes + 12)));
  if (!head.empty() && std::fread(head.data(), 1, head.size(), f.get()) != head.size()) throw Error(path + ": read failed");
  NpyHeader h = parse_npy_header(head.data(), head.size(), path);
  if (file_size - h.header_bytes < h.payload_bytes)
    throw Error(path + ": truncated: the header declares " + std::to_string(h.payload_bytes) + " bytes of data but the file holds " +
                std::to_string(file_size - h.header_bytes));
  return h;
}

NpyArray read_npy(const std::string& path) {
  NpyArray a;
  a.header = read_npy_header(path);
  FilePtr f = open_regular_file(path);
  if (std::fseek(f.get(), long(a.header.header_bytes), SEEK_SET) != 0) throw Error(path + ": seek failed");
  a.data.resize(size_t(a.header.payload_bytes));
  if (a.header.payload_bytes > 0 && std::fread(a.data.data(), 1, a.data.size(), f.get()) != a.data.size())
    throw Error(path + ": truncated (it changed while it was being read)");
  return a;
}

double npy_element(const NpyArray& a, int64_t i) {
  const NpyHeader& h = a.header;
  uint8_t b[8];
  std::memcpy(b, a.data.data() + i * h.item_bytes, size_t(h.item_bytes));
  if (h.big_endian)
    for (int k = 0; k < h.item_bytes / 2; ++k) std::swap(b[k], b[h.item_bytes - 1 - k]);
  switch (h.kind) {
    case NpyKind::kFloat:
      if (h.item_bytes == 4) {
        float v;
        std::memcpy(&v, b, 4);
        return v;
      } else {
        double v;
        std::memcpy(&v, b, 8);
        return v;
      }
    case NpyKind::kUnsigned: {
      uint64_t v = 0;
      for (int k = h.item_bytes; k-- > 0;) v = (v << 8) | b[k];
      return double(v);
    }
    case NpyKind::kSigned: {
      uint64_t v = 0;
      for (int k = h.item_bytes; k-- > 0;) v = (v << 8) | b[k];
      const int shift = 64 - 8 * h.item_bytes;
      return double(int64_t(v << shift) >> shift);
    }
  }
  return 0;
}

}  // namespace latent
