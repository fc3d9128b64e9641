// safetensors reading and writing. Loading trusts nothing in the file: the header is checked in
// full (dtypes, shapes, byte ranges that tile the data exactly) before any tensor is allocated, so a
// corrupt or hostile file yields an IOError naming the file and the tensor, never a crash or a
// gigantic allocation.
#include "descent/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "descent/io/atomic_file.h"
#include "internal/check.h"

namespace descent::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data are little-endian; so is every host descent supports");

using nlohmann::json;

constexpr std::string_view kMetadataKey = "__metadata__";

// --- dtypes -------------------------------------------------------------------------------------

/// The element types a file may hold; each is read into one of descent's dtypes.
enum class FileType { F32, F64, I64, F16, BF16, I32, I16, I8, U8, Bool };

struct FileTypeInfo {
  FileType type;
  std::string_view name;
  std::size_t size;
  DType dtype;  // what descent reads it as
};

constexpr FileTypeInfo kFileTypes[] = {
    {FileType::F32, "F32", 4, kFloat32}, {FileType::F64, "F64", 8, kFloat64},   {FileType::I64, "I64", 8, kInt64},
    {FileType::F16, "F16", 2, kFloat32}, {FileType::BF16, "BF16", 2, kFloat32}, {FileType::I32, "I32", 4, kInt64},
    {FileType::I16, "I16", 2, kInt64},   {FileType::I8, "I8", 1, kInt64},       {FileType::U8, "U8", 1, kInt64},
    {FileType::Bool, "BOOL", 1, kInt64},
};

std::optional<FileTypeInfo> file_type(std::string_view name) {
  for (const auto& info : kFileTypes) {
    if (info.name == name) return info;
  }
  return std::nullopt;
}

std::string_view file_type_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::Int64:
      return "I64";
  }
  return "?";
}

/// IEEE half to float, exactly: every half (subnormals, infinities, NaN payloads) is a float.
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  const std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, nan
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  // zero or subnormal: mantissa * 2^-24, exact in float
  const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  return sign != 0 ? -magnitude : magnitude;
}

/// bfloat16 is the top half of a float.
float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

template <typename From, typename To, typename Convert>
void convert(const unsigned char* in, To* out, std::size_t n, Convert&& f) {
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, in + i * sizeof(From), sizeof(From));
    out[i] = f(v);
  }
}

/// Converts n elements of a narrower file type into the tensor's storage.
void convert_into(FileType type, const unsigned char* in, std::size_t n, const Tensor& out) {
  auto same = [](auto v) { return static_cast<std::int64_t>(v); };
  switch (type) {
    case FileType::F16:
      convert<std::uint16_t>(in, out.data_ptr<float>(), n, half_to_float);
      break;
    case FileType::BF16:
      convert<std::uint16_t>(in, out.data_ptr<float>(), n, bfloat16_to_float);
      break;
    case FileType::I32:
      convert<std::int32_t>(in, out.data_ptr<std::int64_t>(), n, same);
      break;
    case FileType::I16:
      convert<std::int16_t>(in, out.data_ptr<std::int64_t>(), n, same);
      break;
    case FileType::I8:
      convert<std::int8_t>(in, out.data_ptr<std::int64_t>(), n, same);
      break;
    case FileType::U8:
      convert<std::uint8_t>(in, out.data_ptr<std::int64_t>(), n, same);
      break;
    case FileType::Bool:
      convert<std::uint8_t>(in, out.data_ptr<std::int64_t>(), n, [](std::uint8_t v) { return std::int64_t{v != 0}; });
      break;
    default:
      DESCENT_DCHECK(false);
  }
}

// --- the file -------------------------------------------------------------------------------------

class File {
 public:
  explicit File(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(fmt::format("cannot open: {}", std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(fmt::format("cannot stat: {}", std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) fail("is a folder, not a file");
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::uint64_t size() const { return size_; }

  void read(std::uint64_t offset, void* out, std::size_t n) const {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
      ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(fmt::format("cannot read: {}", std::strerror(errno)));
      if (got == 0) fail("the file shrank while it was being read");
      p += got;
      n -= static_cast<std::size_t>(got);
      offset += static_cast<std::uint64_t>(got);
    }
  }

  [[noreturn]] void fail(std::string_view what) const { throw IOError(fmt::format("{}: {}", path_.string(), what)); }
  [[noreturn]] void fail_tensor(std::string_view name, std::string_view what) const {
    fail(fmt::format("tensor '{}': {}", name, what));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

/// One tensor as the header describes it, checked.
struct Entry {
  std::string name;
  FileTypeInfo type;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

/// A JSON value for an error message, cut short: a hostile header may hold megabytes in one value.
std::string brief(std::string text) {
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}
std::string brief(const json& v) { return brief(v.dump()); }

/// Parses the header, refusing duplicate top-level keys (JSON parsers would keep one silently and
/// the other's bytes would look uncovered, a confusing message) and nesting deeper than a header
/// needs (the JSON library recurses when it copies, prints or compares values: a header of a
/// million '[' would overflow the stack).
json parse_header(const File& file, const std::string& text) {
  constexpr int kMaxDepth = 8;  // a valid header has 3: header, entry, shape
  struct TooDeep {};
  std::set<std::string> seen;
  std::string duplicate;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxDepth) {
      throw TooDeep{};
    }
    if (event == json::parse_event_t::key && depth == 1) {
      auto key = parsed.get<std::string>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, on_event);
  } catch (const json::exception& e) {
    file.fail(fmt::format("the header is not valid JSON: {}", e.what()));
  } catch (const TooDeep&) {
    file.fail(fmt::format("the header nests JSON deeper than {} levels", kMaxDepth));
  }
  if (!header.is_object()) file.fail(fmt::format("the header is not a JSON object but a {}", header.type_name()));
  if (!duplicate.empty()) file.fail(fmt::format("the header names '{}' twice", duplicate));
  return header;
}

std::uint64_t as_offset(const File& file, const std::string& name, const json& v) {
  if (!v.is_number_unsigned()) {
    file.fail(fmt::format("tensor '{}': data_offsets must hold non-negative integers, got {}", name, brief(v)));
  }
  return v.get<std::uint64_t>();
}

Entry parse_entry(const File& file, const std::string& name, const json& spec, std::uint64_t data_size) {
  if (!spec.is_object())
    file.fail_tensor(name, fmt::format("expected an object with dtype, shape and data_offsets, got {}", brief(spec)));
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!spec.contains(field)) file.fail_tensor(name, fmt::format("missing \"{}\"", field));
  }
  Entry e;
  e.name = name;

  const json& dtype = spec["dtype"];
  if (!dtype.is_string()) file.fail_tensor(name, fmt::format("dtype must be a string, got {}", brief(dtype)));
  auto type = file_type(dtype.get<std::string>());
  if (!type) {
    file.fail_tensor(name,
                     fmt::format("unknown dtype '{}' (descent reads F32, F64, I64, F16, BF16, I32, I16, I8, U8, BOOL)",
                                 dtype.get<std::string>()));
  }
  e.type = *type;

  const json& shape = spec["shape"];
  if (!shape.is_array()) file.fail_tensor(name, fmt::format("shape must be an array, got {}", brief(shape)));
  // numel in unsigned arithmetic with an overflow check, so a shape of huge sizes cannot wrap
  // around to match a small byte range
  std::uint64_t numel = 1;
  bool overflow = false;
  for (const json& d : shape) {
    if (!d.is_number_unsigned() ||
        d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      file.fail_tensor(name, fmt::format("shape must hold non-negative integers, got {}", brief(shape)));
    }
    e.shape.push_back(d.get<std::int64_t>());
    overflow = overflow || __builtin_mul_overflow(numel, d.get<std::uint64_t>(), &numel);
  }

  const json& offsets = spec["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    file.fail_tensor(name, fmt::format("data_offsets must be [begin, end], got {}", brief(offsets)));
  e.begin = as_offset(file, name, offsets[0]);
  e.end = as_offset(file, name, offsets[1]);
  if (e.begin > e.end)
    file.fail_tensor(name, fmt::format("data_offsets [{}, {}] end before they begin", e.begin, e.end));
  if (e.end > data_size) {
    file.fail_tensor(name, fmt::format("data_offsets [{}, {}] lie outside the data ({} bytes after the header)",
                                       e.begin, e.end, data_size));
  }
  std::uint64_t nbytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, e.type.size, &nbytes);
  if (overflow || nbytes != e.end - e.begin) {
    file.fail_tensor(name, fmt::format("shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                                       brief(fmt::format("{}", e.shape)), e.type.name,
                                       overflow ? std::string("more than 2^64") : std::to_string(nbytes), e.begin,
                                       e.end, e.end - e.begin));
  }
  return e;
}

std::map<std::string, std::string> parse_metadata(const File& file, const json& metadata) {
  std::map<std::string, std::string> out;
  if (!metadata.is_object())
    file.fail(fmt::format("__metadata__ must be an object of strings, got {}", brief(metadata)));
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) file.fail(fmt::format("__metadata__ '{}' must be a string, got {}", key, brief(value)));
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

/// The byte ranges must tile the data exactly, as the reference implementation requires: no
/// overlap (one tensor's bytes read as another's) and no gap (bytes nobody accounts for).
void check_tiling(const File& file, std::vector<const Entry*> entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return std::tie(a->begin, a->end) < std::tie(b->begin, b->end); });
  std::uint64_t covered = 0;    // the data before this offset belong to some tensor
  const Entry* last = nullptr;  // the tensor that ends at `covered`
  for (const Entry* e : entries) {
    if (e->begin < covered) {
      file.fail(fmt::format("tensors '{}' (data_offsets [{}, {}]) and '{}' (data_offsets [{}, {}]) overlap", last->name,
                            last->begin, last->end, e->name, e->begin, e->end));
    }
    if (e->begin > covered) {
      file.fail(fmt::format("bytes [{}, {}) of the data are not covered by any tensor (before tensor '{}')", covered,
                            e->begin, e->name));
    }
    if (e->end > covered) {
      covered = e->end;
      last = e;
    }
  }
  if (covered != data_size) {
    file.fail(fmt::format("bytes [{}, {}) of the data are not covered by any tensor (after the last one)", covered,
                          data_size));
  }
}

Tensor read_tensor(const File& file, const Entry& e, std::uint64_t data_start) {
  Tensor t = empty(e.shape, e.type.dtype);
  const std::size_t nbytes = e.end - e.begin;
  if (nbytes == 0) return t;
  const std::uint64_t at = data_start + e.begin;
  if (e.type.size == element_size(e.type.dtype) && file_type_name(e.type.dtype) == e.type.name) {
    file.read(at, t.impl()->storage->data(), nbytes);  // same layout: straight into the storage
    return t;
  }
  std::vector<unsigned char> raw(nbytes);
  file.read(at, raw.data(), nbytes);
  convert_into(e.type.type, raw.data(), nbytes / e.type.size, t);
  return t;
}

void write_u64(std::ostream& out, std::uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
  out.write(bytes, 8);
}

}  // namespace

void save_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header[std::string(kMetadataKey)] = metadata;
  // Contiguous copies only of the tensors that need one (views, transposes, expands).
  std::vector<Tensor> data;
  data.reserve(tensors.size());
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    DESCENT_CHECK_VALUE(!name.empty(), "save_safetensors: {}: a tensor has an empty name", path.string());
    DESCENT_CHECK_VALUE(name != kMetadataKey, "save_safetensors: {}: the name '{}' is reserved for the metadata",
                        path.string(), name);
    DESCENT_CHECK_VALUE(tensor.defined(), "save_safetensors: {}: tensor '{}' is undefined", path.string(), name);
    Tensor c = tensor.detach().contiguous();
    const std::uint64_t nbytes = static_cast<std::uint64_t>(c.numel()) * element_size(c.dtype());
    header[name] = {{"dtype", std::string(file_type_name(c.dtype()))},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(std::move(c));
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // names and metadata must be UTF-8
    throw ValueError(fmt::format("save_safetensors: {}: {}", path.string(), e.what()));
  }
  // Spaces after the JSON so that the data start 8-byte aligned (the format allows trailing spaces).
  text.append((8 - text.size() % 8) % 8, ' ');

  write_file_atomically(path, [&](std::ostream& out) {
    write_u64(out, text.size());
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const Tensor& t : data) {
      const auto nbytes = static_cast<std::streamsize>(t.numel() * static_cast<std::int64_t>(element_size(t.dtype())));
      if (nbytes == 0) continue;
      const auto* bytes = static_cast<const char*>(t.impl()->storage->data()) +
                          t.offset() * static_cast<std::int64_t>(element_size(t.dtype()));
      out.write(bytes, nbytes);
    }
  });
}

SafetensorsContent load_safetensors(const std::filesystem::path& path) {
  const File file(path);
  if (file.size() < 8) {
    file.fail(
        fmt::format("not a safetensors file: {} bytes, fewer than the 8 that give the header length", file.size()));
  }
  unsigned char length_bytes[8];
  file.read(0, length_bytes, 8);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | length_bytes[i];
  if (header_size > file.size() - 8) {
    file.fail(fmt::format("header length {} reaches beyond the end of the file ({} bytes)", header_size, file.size()));
  }
  std::string text(header_size, '\0');
  file.read(8, text.data(), text.size());
  const json header = parse_header(file, text);

  const std::uint64_t data_start = 8 + header_size;
  const std::uint64_t data_size = file.size() - data_start;
  SafetensorsContent content;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, spec] : header.items()) {
    if (name == kMetadataKey) {
      content.metadata = parse_metadata(file, spec);
    } else {
      entries.push_back(parse_entry(file, name, spec, data_size));
    }
  }
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  check_tiling(file, order, data_size);

  for (const Entry& e : entries) content.tensors.emplace(e.name, read_tensor(file, e, data_start));
  return content;
}

}  // namespace descent::io
