// IDX reading and writing. Reading streams the file through zlib's gzread (which inflates gzip and
// passes other files through unchanged) in chunks that are converted straight into the tensor: no
// copy of the compressed or the inflated file is ever held, so the tensor is the only large
// allocation (on virtual machines, touching fresh memory is what costs most).
#include "descent/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "descent/io/atomic_file.h"
#include "internal/check.h"

namespace descent::data {
namespace {

struct TypeInfo {
  IdxType type;
  std::size_t size;  // bytes per value
  const char* name;  // the IDX specification's C name
};

constexpr TypeInfo kTypes[] = {
    {IdxType::UInt8, 1, "unsigned byte"}, {IdxType::Int8, 1, "signed byte"}, {IdxType::Int16, 2, "short"},
    {IdxType::Int32, 4, "int"},           {IdxType::Float32, 4, "float"},    {IdxType::Float64, 8, "double"},
};

const TypeInfo* find_type(std::uint8_t code) {
  for (const TypeInfo& t : kTypes) {
    if (static_cast<std::uint8_t>(t.type) == code) return &t;
  }
  return nullptr;
}

std::string type_list() {
  std::string out;
  for (const TypeInfo& t : kTypes) {
    if (!out.empty()) out += ", ";
    out += fmt::format("0x{:02X} ({})", static_cast<unsigned>(t.type), t.name);
  }
  return out;
}

// Big-endian loads and stores (the compiler turns these into single byte-swapping instructions).
template <typename U>
U load_be(const unsigned char* p) {
  U v = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>(v << 8 | p[i]);
  return v;
}

template <typename U>
void store_be(unsigned char* p, U v) {
  for (std::size_t i = sizeof(U); i-- > 0;) {
    p[i] = static_cast<unsigned char>(v & 0xFF);
    v = static_cast<U>(v >> 8);
  }
}

// A gzFile that closes itself, with reads that turn zlib's errors into IOErrors naming the file.
class GzReader {
 public:
  explicit GzReader(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw IOError(fmt::format("{}: is a folder, not a file", path.string()));
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw IOError(
          fmt::format("{}: cannot open: {}", path.string(), errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_, 1 << 18);
  }
  ~GzReader() { gzclose_r(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  bool compressed() const { return gzdirect(file_) == 0; }

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(void* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      const int got = gzread(file_, static_cast<char*>(out) + done, want);
      check();
      if (got <= 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  // Reads to the end, returning how many bytes there were.
  std::size_t skip_rest() {
    std::vector<char> sink(1 << 16);
    std::size_t total = 0;
    for (std::size_t got; (got = read(sink.data(), sink.size())) > 0;) total += got;
    return total;
  }

 private:
  void check() {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (code == Z_OK) return;
    if (code == Z_ERRNO) throw IOError(fmt::format("{}: cannot read: {}", path_.string(), std::strerror(errno)));
    if (code == Z_BUF_ERROR) {
      throw IOError(fmt::format("{}: corrupt gzip stream: it ends before the compressed data does (truncated file?)",
                                path_.string()));
    }
    throw IOError(fmt::format("{}: corrupt gzip stream: {}", path_.string(), message));
  }

  const std::filesystem::path& path_;
  gzFile file_ = nullptr;
};

std::string gzip(const std::filesystem::path& path, std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw IOError(fmt::format("{}: cannot start zlib", path.string()));
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t size = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw IOError(fmt::format("{}: gzip compression failed (zlib error {})", path.string(), rc));
  out.resize(size);
  return out;
}

// The value of element i of the data block, as the IDX type's C++ type.
template <IdxType kType>
auto load_value(const unsigned char* data, std::int64_t i) {
  if constexpr (kType == IdxType::UInt8)
    return data[i];
  else if constexpr (kType == IdxType::Int8)
    return static_cast<std::int8_t>(data[i]);
  else if constexpr (kType == IdxType::Int16)
    return static_cast<std::int16_t>(load_be<std::uint16_t>(data + 2 * i));
  else if constexpr (kType == IdxType::Int32)
    return static_cast<std::int32_t>(load_be<std::uint32_t>(data + 4 * i));
  else if constexpr (kType == IdxType::Float32)
    return std::bit_cast<float>(load_be<std::uint32_t>(data + 4 * i));
  else
    return std::bit_cast<double>(load_be<std::uint64_t>(data + 8 * i));
}

// Converts n values of the data block into out; `first` is the index of data's first value in the file.
template <IdxType kType, typename T>
void convert(const std::filesystem::path& path, const unsigned char* data, std::int64_t n, T* out, std::int64_t first) {
  for (std::int64_t i = 0; i < n; ++i) {
    const auto v = load_value<kType>(data, i);
    if constexpr (std::is_integral_v<T> && std::is_floating_point_v<decltype(v)>) {
      // A float value read into int64 must be an integer (and not NaN): converting anything else is undefined.
      if (!(std::trunc(v) == v && std::abs(v) < 9.2e18)) {
        throw IOError(fmt::format("{}: value {} (element {}) is not an integer; read the file as float32 or float64",
                                  path.string(), v, first + i));
      }
    }
    out[i] = static_cast<T>(v);
  }
}

template <typename T>
void convert_any(const std::filesystem::path& path, IdxType type, const unsigned char* data, std::int64_t n, T* out,
                 std::int64_t first) {
  switch (type) {
    case IdxType::UInt8:
      return convert<IdxType::UInt8>(path, data, n, out, first);
    case IdxType::Int8:
      return convert<IdxType::Int8>(path, data, n, out, first);
    case IdxType::Int16:
      return convert<IdxType::Int16>(path, data, n, out, first);
    case IdxType::Int32:
      return convert<IdxType::Int32>(path, data, n, out, first);
    case IdxType::Float32:
      return convert<IdxType::Float32>(path, data, n, out, first);
    case IdxType::Float64:
      return convert<IdxType::Float64>(path, data, n, out, first);
  }
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string out;
  for (std::uint32_t d : dims) out += (out.empty() ? "" : "x") + std::to_string(d);
  return out;
}

// Whether v is representable in the IDX type (integers in range; finite values within float's range).
bool fits(IdxType type, double v) {
  auto integer_in = [v](double lo, double hi) { return std::trunc(v) == v && v >= lo && v <= hi; };
  switch (type) {
    case IdxType::UInt8:
      return integer_in(0, 255);
    case IdxType::Int8:
      return integer_in(-128, 127);
    case IdxType::Int16:
      return integer_in(-32768, 32767);
    case IdxType::Int32:
      return integer_in(-2147483648.0, 2147483647.0);
    case IdxType::Float32:
      return !std::isfinite(v) || std::abs(v) <= std::numeric_limits<float>::max();
    case IdxType::Float64:
      return true;
  }
  return false;
}

std::string range_text(IdxType type) {
  switch (type) {
    case IdxType::UInt8:
      return "integers 0..255";
    case IdxType::Int8:
      return "integers -128..127";
    case IdxType::Int16:
      return "integers -32768..32767";
    case IdxType::Int32:
      return "integers -2147483648..2147483647";
    case IdxType::Float32:
      return "float32's range";
    case IdxType::Float64:
      return "float64";
  }
  return "?";
}

void store_value(IdxType type, unsigned char* p, double v) {
  switch (type) {
    case IdxType::UInt8:
      *p = static_cast<std::uint8_t>(v);
      return;
    case IdxType::Int8:
      *p = static_cast<unsigned char>(static_cast<std::int8_t>(v));
      return;
    case IdxType::Int16:
      store_be(p, static_cast<std::uint16_t>(static_cast<std::int16_t>(v)));
      return;
    case IdxType::Int32:
      store_be(p, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
      return;
    case IdxType::Float32:
      store_be(p, std::bit_cast<std::uint32_t>(static_cast<float>(v)));
      return;
    case IdxType::Float64:
      store_be(p, std::bit_cast<std::uint64_t>(v));
      return;
  }
}

}  // namespace

Tensor read_idx(const std::filesystem::path& path, DType dtype) {
  GzReader in(path);
  unsigned char magic[4];
  const std::size_t got = in.read(magic, 4);
  if (got == 0) throw IOError(fmt::format("{}: empty file", path.string()));
  if (got < 4) throw IOError(fmt::format("{}: too short for an IDX header ({} bytes)", path.string(), got));
  if (magic[0] != 0 || magic[1] != 0) {
    throw IOError(fmt::format("{}: not an IDX file: its magic number starts with 0x{:02X} 0x{:02X}, expected 0x00 0x00",
                              path.string(), magic[0], magic[1]));
  }
  const TypeInfo* type = find_type(magic[2]);
  if (type == nullptr) {
    throw IOError(fmt::format("{}: not an IDX file: unknown type code 0x{:02X} (expected one of {})", path.string(),
                              magic[2], type_list()));
  }
  const std::size_t ndim = magic[3];
  if (ndim == 0) throw IOError(fmt::format("{}: not an IDX file: the header announces no dimensions", path.string()));
  std::vector<unsigned char> sizes(4 * ndim);
  const std::size_t header = 4 + in.read(sizes.data(), sizes.size());
  if (header < 4 + 4 * ndim) {
    throw IOError(fmt::format("{}: truncated header: {} dimensions need {} bytes, found {}", path.string(), ndim,
                              4 + 4 * ndim, header));
  }

  std::vector<std::uint32_t> dims(ndim);
  Shape shape(ndim);
  std::uint64_t count = 1;
  bool overflow = false;
  for (std::size_t d = 0; d < ndim; ++d) {
    dims[d] = load_be<std::uint32_t>(sizes.data() + 4 * d);
    shape[d] = dims[d];
    if (dims[d] != 0 && count > (std::uint64_t{1} << 56) / dims[d]) overflow = true;
    count *= dims[d];
  }
  const std::uint64_t expected = count * type->size;
  const std::string unit = type->size == 1 ? "" : fmt::format(" values of {} bytes", type->size);
  auto truncated = [&](std::size_t found) {
    return IOError(fmt::format("{}: truncated: header announces {}{} = {} bytes of data, found {}", path.string(),
                               dims_text(dims), unit,
                               overflow ? std::string("more than 2^56") : std::to_string(expected), found));
  };

  // Before allocating, rule out sizes the file cannot hold (deflate expands at most 1032-fold), so a
  // corrupt header cannot ask for terabytes.
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  const std::uint64_t bound =
      ec ? std::numeric_limits<std::uint64_t>::max()
         : (in.compressed() ? file_size * 1032 : file_size - std::min<std::uint64_t>(file_size, header));
  if (overflow || expected > bound) throw truncated(in.skip_rest());

  Tensor out = empty(shape, dtype);
  const auto n = static_cast<std::int64_t>(count);
  constexpr std::int64_t kChunk = 1 << 20;  // bytes; a multiple of every value size
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min<std::int64_t>(kChunk, n * type->size)));
  std::size_t found = 0;
  for (std::int64_t first = 0; first < n;) {
    const std::int64_t values = std::min<std::int64_t>(n - first, kChunk / static_cast<std::int64_t>(type->size));
    const std::size_t want = static_cast<std::size_t>(values) * type->size;
    const std::size_t got_now = in.read(buffer.data(), want);
    found += got_now;
    if (got_now < want) throw truncated(found);
    switch (dtype) {
      case DType::Float32:
        convert_any(path, type->type, buffer.data(), values, out.data_ptr<float>() + first, first);
        break;
      case DType::Float64:
        convert_any(path, type->type, buffer.data(), values, out.data_ptr<double>() + first, first);
        break;
      case DType::Int64:
        convert_any(path, type->type, buffer.data(), values, out.data_ptr<std::int64_t>() + first, first);
        break;
    }
    first += values;
  }
  if (const std::size_t extra = in.skip_rest(); extra > 0) {
    throw IOError(fmt::format("{}: {} trailing bytes: header announces {}{} = {} bytes of data, found {}",
                              path.string(), extra, dims_text(dims), unit, expected, expected + extra));
  }
  return out;
}

void write_idx(const std::filesystem::path& path, const Tensor& values, IdxType type, bool compress) {
  DESCENT_CHECK_VALUE(values.defined(), "write_idx {}: the tensor is undefined", path.string());
  const TypeInfo* info = find_type(static_cast<std::uint8_t>(type));
  DESCENT_CHECK_VALUE(info != nullptr, "write_idx {}: unknown IDX type code 0x{:02X} (expected one of {})",
                      path.string(), static_cast<unsigned>(type), type_list());
  const Shape& shape = values.shape();
  DESCENT_CHECK_SHAPE(values.dim() >= 1 && values.dim() <= 255,
                      "write_idx {}: IDX holds 1 to 255 dimensions, the tensor has shape {}", path.string(), shape);
  for (std::int64_t d : shape) {
    DESCENT_CHECK_SHAPE(d <= std::numeric_limits<std::uint32_t>::max(),
                        "write_idx {}: dimension {} of shape {} does not fit IDX's 32-bit sizes", path.string(), d,
                        shape);
  }

  const std::size_t header = 4 + 4 * shape.size();
  const auto n = static_cast<std::size_t>(values.numel());
  std::string bytes(header + n * info->size, '\0');
  auto* p = reinterpret_cast<unsigned char*>(bytes.data());
  p[2] = static_cast<unsigned char>(type);
  p[3] = static_cast<unsigned char>(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) store_be(p + 4 + 4 * d, static_cast<std::uint32_t>(shape[d]));

  const std::vector<double> flat = values.to_vector<double>();
  for (std::size_t i = 0; i < n; ++i) {
    DESCENT_CHECK_VALUE(fits(type, flat[i]), "write_idx {}: element {} (value {}) does not fit IDX type {} ({})",
                        path.string(), i, flat[i], info->name, range_text(type));
    store_value(type, p + header + i * info->size, flat[i]);
  }
  io::write_file_atomically(path, compress ? gzip(path, bytes) : bytes);
}

}  // namespace descent::data
