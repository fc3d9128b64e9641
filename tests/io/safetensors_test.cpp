// safetensors: round trips of every dtype and layout, the exact bytes written, the dtypes only read,
// every kind of corrupt file, and atomicity under SIGKILL.
#include "descent/io/safetensors.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "descent/core/generator.h"
#include "descent/io/atomic_file.h"
#include "io/io_test_util.h"
#include "ops/op_check.h"

namespace {

using descent::IOError;
using descent::Shape;
using descent::Tensor;
using descent::ValueError;
using descent::io::load_safetensors;
using descent::io::save_safetensors;
using iotest::safetensors_bytes;
using iotest::ScratchDir;
using iotest::write_bytes;

/// Same dtype, shape and bit-identical elements (NaNs included).
void expect_identical(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  switch (want.dtype()) {
    case descent::kFloat32: {
      auto g = got.to_vector<float>(), w = want.to_vector<float>();
      for (std::size_t i = 0; i < w.size(); ++i) {
        EXPECT_EQ(std::bit_cast<std::uint32_t>(g[i]), std::bit_cast<std::uint32_t>(w[i])) << what << " element " << i;
      }
      break;
    }
    case descent::kFloat64: {
      auto g = got.to_vector<double>(), w = want.to_vector<double>();
      for (std::size_t i = 0; i < w.size(); ++i) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(g[i]), std::bit_cast<std::uint64_t>(w[i])) << what << " element " << i;
      }
      break;
    }
    case descent::kInt64:
      EXPECT_EQ(got.to_vector<std::int64_t>(), want.to_vector<std::int64_t>()) << what;
      break;
  }
}

Tensor filled(const Shape& shape, descent::DType dtype, descent::Generator& gen) {
  if (dtype == descent::kInt64) return descent::randint(-1000000, 1000000, shape, gen);
  return descent::randn(shape, gen, dtype);
}

/// The parsed JSON header of a file.
nlohmann::json header_of(const std::filesystem::path& path, std::uint64_t* header_size = nullptr) {
  const std::string bytes = descent::io::read_file(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (header_size != nullptr) *header_size = n;
  return nlohmann::json::parse(bytes.substr(8, n));
}

// --- round trips ---------------------------------------------------------------------------------

TEST(Safetensors, RoundTripEveryDtypeAndShape) {
  ScratchDir dir;
  descent::Generator gen(7);
  const std::vector<Shape> shapes = {{}, {0}, {1}, {5}, {2, 3}, {3, 0, 2}, {1, 2, 3, 4}, {2, 1, 1, 3, 1}};
  std::map<std::string, Tensor> tensors;
  for (auto dtype : {descent::kFloat32, descent::kFloat64, descent::kInt64}) {
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      tensors[std::string(descent::dtype_name(dtype)) + "." + std::to_string(i)] = filled(shapes[i], dtype, gen);
    }
  }
  save_safetensors(dir / "all.safetensors", tensors);
  const auto loaded = load_safetensors(dir / "all.safetensors");
  EXPECT_TRUE(loaded.metadata.empty());
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(loaded.tensors.contains(name)) << name;
    expect_identical(loaded.tensors.at(name), t, name);
  }
}

TEST(Safetensors, EachDtypeAloneAndEmptyFile) {
  ScratchDir dir;
  descent::Generator gen(1);
  for (auto dtype : {descent::kFloat32, descent::kFloat64, descent::kInt64}) {
    save_safetensors(dir / "one.safetensors", {{"x", filled({4, 3}, dtype, gen)}});
    Tensor again = load_safetensors(dir / "one.safetensors").tensors.at("x");
    EXPECT_EQ(again.dtype(), dtype);
  }
  save_safetensors(dir / "none.safetensors", {});
  const auto none = load_safetensors(dir / "none.safetensors");
  EXPECT_TRUE(none.tensors.empty());
  EXPECT_TRUE(none.metadata.empty());
}

TEST(Safetensors, SpecialFloatValuesAreBitExact) {
  ScratchDir dir;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      inf,
                                      -inf,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::lowest(),
                                      1e-310};
  Tensor f64 = descent::tensor(values, {static_cast<std::int64_t>(values.size())}, descent::kFloat64);
  Tensor f32 = f64.to(descent::kFloat32);
  f32.set_flat(5, std::numeric_limits<float>::denorm_min());
  Tensor i64 = descent::tensor_int64(
      {std::numeric_limits<std::int64_t>::min(), -1, 0, 1, std::numeric_limits<std::int64_t>::max()}, {5});
  save_safetensors(dir / "s.safetensors", {{"f32", f32}, {"f64", f64}, {"i64", i64}});
  const auto loaded = load_safetensors(dir / "s.safetensors");
  expect_identical(loaded.tensors.at("f32"), f32, "f32");
  expect_identical(loaded.tensors.at("f64"), f64, "f64");
  expect_identical(loaded.tensors.at("i64"), i64, "i64");
}

TEST(Safetensors, NonContiguousViewsSaveTheirElements) {
  ScratchDir dir;
  descent::Generator gen(3);
  Tensor base = descent::randn({4, 6}, gen);
  Tensor base64 = descent::randn({3, 4, 5}, gen, descent::kFloat64);
  Tensor ints = descent::arange(0, 24, 1, descent::kInt64).reshape({2, 3, 4});
  const std::map<std::string, Tensor> views = {
      {"transposed", base.t()},
      {"strided_slice", base.slice(1, 1, 6, 2)},
      {"row_with_offset", base.select(0, 2)},  // contiguous, but at an offset
      {"column", base.select(1, 3)},
      {"permuted", base64.permute({2, 0, 1})},
      {"expanded", descent::tensor({1, 2, 3}, {3, 1}).expand({3, 4})},
      {"scalar_from_view", base.select(0, 1).select(0, 4)},
      {"int_transposed", ints.transpose(0, 2)},
      {"empty_slice", base.slice(0, 2, 2)},
  };
  save_safetensors(dir / "v.safetensors", views);
  const auto loaded = load_safetensors(dir / "v.safetensors");
  for (const auto& [name, view] : views) {
    expect_identical(loaded.tensors.at(name), view.contiguous(), name);
    EXPECT_TRUE(loaded.tensors.at(name).is_contiguous()) << name;
  }
  // Only the elements are stored: the expanded [3, 4] float32 view takes 48 bytes, not its storage.
  const auto header = header_of(dir / "v.safetensors");
  const auto& offsets = header["expanded"]["data_offsets"];
  EXPECT_EQ(offsets[1].get<std::uint64_t>() - offsets[0].get<std::uint64_t>(), 48u);
}

TEST(Safetensors, TensorsThatRequireGradAreSaved) {
  ScratchDir dir;
  Tensor w = descent::tensor({1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor y = w * 2.0;  // a non-leaf
  save_safetensors(dir / "g.safetensors", {{"w", w}, {"y", y}});
  const auto loaded = load_safetensors(dir / "g.safetensors");
  EXPECT_EQ(loaded.tensors.at("y").to_vector<float>(), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_FALSE(loaded.tensors.at("w").requires_grad());
}

TEST(Safetensors, MetadataRoundTrips) {
  ScratchDir dir;
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"empty", ""},
                                                       {"json", R"({"lr": 0.1, "layers": [1, 2]})"},
                                                       {"unicode", "λ → ∞"},
                                                       {"quote\"key", "a\nb"}};
  save_safetensors(dir / "m.safetensors", {{"x", descent::ones({2})}}, metadata);
  const auto loaded = load_safetensors(dir / "m.safetensors");
  EXPECT_EQ(loaded.metadata, metadata);
  // Without metadata, the header has no "__metadata__" entry at all.
  save_safetensors(dir / "n.safetensors", {{"x", descent::ones({2})}});
  EXPECT_FALSE(header_of(dir / "n.safetensors").contains("__metadata__"));
}

// The layout the format prescribes: little-endian length, a header padded with spaces so that the
// data start 8-byte aligned, the data in key order, back to back.
TEST(Safetensors, FileLayoutIsTheFormatsLayout) {
  ScratchDir dir;
  const std::map<std::string, Tensor> tensors = {{"b", descent::ones({3})},
                                                 {"a", descent::zeros({2, 2}, descent::kFloat64)},
                                                 {"c.weight", descent::tensor_int64({5, 6}, {2})},
                                                 {"a.0", descent::scalar_tensor(2.5)}};
  save_safetensors(dir / "l.safetensors", tensors, {{"k", "v"}});
  const std::string bytes = descent::io::read_file(dir / "l.safetensors");
  std::uint64_t n = 0;
  const auto header = header_of(dir / "l.safetensors", &n);
  EXPECT_EQ((8 + n) % 8, 0u);
  const std::string text = bytes.substr(8, n);
  EXPECT_EQ(text.front(), '{');
  EXPECT_EQ(text.find_last_not_of(' '), text.rfind('}'));

  EXPECT_EQ(header["a"]["dtype"], "F64");
  EXPECT_EQ(header["b"]["dtype"], "F32");
  EXPECT_EQ(header["c.weight"]["dtype"], "I64");
  EXPECT_EQ(header["a.0"]["shape"], nlohmann::json::array());
  EXPECT_EQ(header["a"]["shape"], nlohmann::json({2, 2}));
  EXPECT_EQ(header["__metadata__"], nlohmann::json({{"k", "v"}}));
  // key order: a, a.0, b, c.weight
  std::uint64_t expected_begin = 0;
  for (const char* key : {"a", "a.0", "b", "c.weight"}) {
    const auto& offsets = header[key]["data_offsets"];
    EXPECT_EQ(offsets[0].get<std::uint64_t>(), expected_begin) << key;
    expected_begin = offsets[1].get<std::uint64_t>();
  }
  EXPECT_EQ(8 + n + expected_begin, bytes.size());
  // the data of "b" (three float32 ones) sit where its offsets say
  const std::uint64_t b_begin = header["b"]["data_offsets"][0];
  float first = 0;
  std::memcpy(&first, bytes.data() + 8 + n + b_begin, 4);
  EXPECT_EQ(first, 1.0f);
}

TEST(Safetensors, BadNamesAndUndefinedTensorsAreRefused) {
  ScratchDir dir;
  const auto path = dir / "bad.safetensors";
  EXPECT_THROW_WITH(save_safetensors(path, {{"", descent::ones({1})}}), ValueError, "empty name", "bad.safetensors");
  EXPECT_THROW_WITH(save_safetensors(path, {{"__metadata__", descent::ones({1})}}), ValueError, "__metadata__",
                    "reserved");
  EXPECT_THROW_WITH(save_safetensors(path, {{"w", Tensor()}}), ValueError, "'w'", "undefined");
  EXPECT_THROW_WITH(save_safetensors(path, {{"w", descent::ones({1})}}, {{"bad", std::string("\xff\xfe")}}), ValueError,
                    "bad.safetensors", "UTF-8");
  EXPECT_TRUE(dir.files().empty());
}

// --- dtypes that are only read -----------------------------------------------------------------------

template <typename T>
std::string raw(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string one_tensor_file(const std::string& dtype, const std::string& shape, const std::string& data) {
  return safetensors_bytes(R"({"t": {"dtype": ")" + dtype + R"(", "shape": )" + shape + R"(, "data_offsets": [0, )" +
                               std::to_string(data.size()) + "]}}",
                           data);
}

std::vector<std::uint32_t> float_bits(const Tensor& t) {
  std::vector<std::uint32_t> out;
  for (float v : t.to_vector<float>()) out.push_back(std::bit_cast<std::uint32_t>(v));
  return out;
}

TEST(Safetensors, ReadsFloat16ExactlyIncludingSubnormalsInfinitiesAndNan) {
  ScratchDir dir;
  const std::vector<std::uint16_t> halves = {
      0x0000, 0x8000,  // +0, -0
      0x3c00, 0xc000,  // 1, -2
      0x3555,          // 0.333251953125
      0x0001, 0x8001,  // smallest subnormal 2^-24, negated
      0x03ff,          // largest subnormal 1023 * 2^-24
      0x0200,          // 2^-15
      0x0400,          // smallest normal 2^-14
      0x7bff,          // largest 65504
      0x7c00, 0xfc00,  // inf, -inf
      0x7e00, 0x7c01,  // quiet NaN, signalling NaN (payload kept)
  };
  const auto path = write_bytes(dir, "h.safetensors", one_tensor_file("F16", "[15]", raw(halves)));
  Tensor t = load_safetensors(path).tensors.at("t");
  ASSERT_EQ(t.dtype(), descent::kFloat32);
  ASSERT_EQ(t.shape(), Shape{15});
  const std::vector<float> want = {0.0f,
                                   -0.0f,
                                   1.0f,
                                   -2.0f,
                                   0.333251953125f,
                                   std::ldexp(1.0f, -24),
                                   -std::ldexp(1.0f, -24),
                                   1023 * std::ldexp(1.0f, -24),
                                   std::ldexp(1.0f, -15),
                                   std::ldexp(1.0f, -14),
                                   65504.0f,
                                   std::numeric_limits<float>::infinity(),
                                   -std::numeric_limits<float>::infinity()};
  const auto bits = float_bits(t);
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(bits[i], std::bit_cast<std::uint32_t>(want[i])) << "half 0x" << std::hex << halves[i];
  }
  EXPECT_EQ(bits[13], 0x7fc00000u);                   // quiet NaN
  EXPECT_EQ(bits[14], 0x7f800000u | (0x001u << 13));  // signalling NaN with its payload
}

TEST(Safetensors, ReadsBFloat16Exactly) {
  ScratchDir dir;
  const std::vector<std::uint16_t> values = {0x3f80, 0xc2f7, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x7f7f};
  const auto path = write_bytes(dir, "b.safetensors", one_tensor_file("BF16", "[2, 4]", raw(values)));
  Tensor t = load_safetensors(path).tensors.at("t");
  ASSERT_EQ(t.dtype(), descent::kFloat32);
  ASSERT_EQ(t.shape(), (Shape{2, 4}));
  const auto bits = float_bits(t);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(bits[i], std::uint32_t{values[i]} << 16) << i;
  EXPECT_EQ(t.at({0, 0}), 1.0);
  EXPECT_EQ(t.at({0, 1}), -123.5);
  EXPECT_EQ(t.at({0, 2}), std::ldexp(1.0, -133));  // a float32 subnormal
}

TEST(Safetensors, ReadsNarrowIntegersAndBoolAsInt64) {
  ScratchDir dir;
  struct Case {
    std::string dtype, data;
    std::vector<std::int64_t> want;
  };
  const std::vector<Case> cases = {
      {"I32", raw<std::int32_t>({-2147483647 - 1, -1, 0, 2147483647}), {-2147483648LL, -1, 0, 2147483647}},
      {"I16", raw<std::int16_t>({-32768, -1, 7, 32767}), {-32768, -1, 7, 32767}},
      {"I8", raw<std::int8_t>({-128, -1, 0, 127}), {-128, -1, 0, 127}},
      {"U8", raw<std::uint8_t>({0, 1, 128, 255}), {0, 1, 128, 255}},
      {"BOOL", raw<std::uint8_t>({0, 1, 1, 0}), {0, 1, 1, 0}},
  };
  for (const auto& c : cases) {
    const auto path = write_bytes(dir, c.dtype + ".safetensors", one_tensor_file(c.dtype, "[2, 2]", c.data));
    Tensor t = load_safetensors(path).tensors.at("t");
    EXPECT_EQ(t.dtype(), descent::kInt64) << c.dtype;
    EXPECT_EQ(t.shape(), (Shape{2, 2})) << c.dtype;
    EXPECT_EQ(t.to_vector<std::int64_t>(), c.want) << c.dtype;
  }
}

TEST(Safetensors, AcceptsUnpaddedAndSpacePaddedHeadersAndAnyKeyOrder) {
  ScratchDir dir;
  const std::string data = raw<float>({1, 2}) + raw<double>({3});
  // "b" comes first in the data although the header lists "a" first; no padding (odd length)
  const std::string header =
      R"({"a":{"dtype":"F64","shape":[],"data_offsets":[8,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  for (const std::string& h : {header, header + "     ", header + std::string(64, ' ')}) {
    const auto path = write_bytes(dir, "p.safetensors", safetensors_bytes(h, data));
    const auto loaded = load_safetensors(path);
    EXPECT_EQ(loaded.tensors.at("a").item(), 3.0);
    EXPECT_EQ(loaded.tensors.at("b").to_vector<float>(), (std::vector<float>{1, 2}));
  }
}

TEST(Safetensors, EmptyTensorsMayShareAnOffset) {
  ScratchDir dir;
  const std::string header =
      R"({"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"e2":{"dtype":"I64","shape":[2,0],"data_offsets":[0,0]},)"
      R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e3":{"dtype":"F64","shape":[0,3],"data_offsets":[4,4]}})";
  const auto loaded = load_safetensors(write_bytes(dir, "e.safetensors", safetensors_bytes(header, raw<float>({9}))));
  EXPECT_EQ(loaded.tensors.at("e2").shape(), (Shape{2, 0}));
  EXPECT_EQ(loaded.tensors.at("e3").dtype(), descent::kFloat64);
  EXPECT_EQ(loaded.tensors.at("x").item(), 9.0);
}

// --- corrupt files ---------------------------------------------------------------------------------

/// Expects load_safetensors of the bytes to throw IOError naming the file and every fragment.
#define EXPECT_CORRUPT(bytes, ...)                                                            \
  do {                                                                                        \
    ScratchDir dir_;                                                                          \
    const auto path_ = write_bytes(dir_, "corrupt.safetensors", bytes);                       \
    EXPECT_THROW_WITH(load_safetensors(path_), IOError, path_.string().c_str(), __VA_ARGS__); \
  } while (false)

const std::string kF32x2 = raw<float>({1, 2});

TEST(Safetensors, MissingFileAndFolderAreErrors) {
  ScratchDir dir;
  const auto missing = dir / "missing.safetensors";
  EXPECT_THROW_WITH(load_safetensors(missing), IOError, missing.string().c_str(), "cannot open", "No such file");
  EXPECT_THROW_WITH(load_safetensors(dir.path()), IOError, dir.path().string().c_str(), "folder");
}

TEST(Safetensors, ShortFile) {
  EXPECT_CORRUPT("", "0 bytes", "fewer than the 8");
  EXPECT_CORRUPT(std::string("\x02\0\0", 3), "3 bytes", "fewer than the 8");
}

TEST(Safetensors, HeaderLengthBeyondTheFile) {
  std::string bytes = safetensors_bytes("{}");
  bytes[0] = 100;
  EXPECT_CORRUPT(bytes, "header length 100", "beyond the end of the file (10 bytes)");
  EXPECT_CORRUPT(std::string(8, '\xff'), "header length 18446744073709551615", "beyond");
}

TEST(Safetensors, BadJson) {
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32",)"), "not valid JSON");
  EXPECT_CORRUPT(safetensors_bytes(""), "not valid JSON");
  EXPECT_CORRUPT(safetensors_bytes("[1, 2]"), "not a JSON object", "array");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": 5})"), "tensor 't'", "expected an object");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [2]}})", kF32x2), "tensor 't'",
                 "missing \"data_offsets\"");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": 1, "shape": [2], "data_offsets": [0, 8]}})", kF32x2),
                 "tensor 't'", "dtype must be a string");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", kF32x2),
                 "tensor 't'", "non-negative integers", "[-2]");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}})", kF32x2),
                 "tensor 't'", "shape must hold non-negative integers");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})", kF32x2),
                 "tensor 't'", "shape must be an array");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", kF32x2),
                 "tensor 't'", "data_offsets must be [begin, end]");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, -8]}})", kF32x2),
                 "tensor 't'", "non-negative integers");
  EXPECT_CORRUPT(safetensors_bytes(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "t": {}})", kF32x2),
                 "names 't' twice");
  EXPECT_CORRUPT(safetensors_bytes(R"({"__metadata__": {"k": 1}})"), "__metadata__ 'k' must be a string");
  EXPECT_CORRUPT(safetensors_bytes(R"({"__metadata__": [1]})"), "__metadata__ must be an object");
}

TEST(Safetensors, UnknownDtypeIsNamed) {
  EXPECT_CORRUPT(safetensors_bytes(R"({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})", "ab"),
                 "tensor 'w'", "unknown dtype 'F8_E4M3'");
  EXPECT_CORRUPT(
      safetensors_bytes(R"({"w": {"dtype": "U64", "shape": [1], "data_offsets": [0, 8]}})", std::string(8, 'x')),
      "tensor 'w'", "unknown dtype 'U64'");
}

TEST(Safetensors, ShapeDisagreesWithBytes) {
  EXPECT_CORRUPT(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", kF32x2),
                 "tensor 'w'", "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8");
  EXPECT_CORRUPT(
      safetensors_bytes(
          R"({"w": {"dtype": "F64", "shape": [], "data_offsets": [0, 8]}, "v": {"dtype": "F64", "shape": [1, 2], "data_offsets": [8, 16]}})",
          std::string(16, '\0')),
      "tensor 'v'", "shape [1, 2] of F64 needs 16 bytes");
  // sizes whose product wraps around 2^64 must not pass for a small range
  EXPECT_CORRUPT(
      safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 8]}})",
                        kF32x2),
      "tensor 'w'", "more than 2^64");
}

TEST(Safetensors, OffsetsOutOfRange) {
  EXPECT_CORRUPT(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", kF32x2),
                 "tensor 'w'", "data_offsets [0, 16] lie outside the data (8 bytes after the header)");
  EXPECT_CORRUPT(safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", kF32x2),
                 "tensor 'w'", "end before they begin");
}

TEST(Safetensors, OverlappingOffsets) {
  EXPECT_CORRUPT(
      safetensors_bytes(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
          kF32x2),
      "tensors 'a' (data_offsets [0, 8]) and 'b' (data_offsets [4, 8]) overlap");
  EXPECT_CORRUPT(
      safetensors_bytes(
          R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
          kF32x2),
      "overlap", "'a'", "'b'");
}

TEST(Safetensors, BytesNotCoveredByAnyTensor) {
  EXPECT_CORRUPT(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", kF32x2),
                 "bytes [0, 4) of the data are not covered by any tensor", "'a'");
  EXPECT_CORRUPT(safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", kF32x2 + "xyz"),
                 "bytes [4, 11) of the data are not covered by any tensor");
  EXPECT_CORRUPT(safetensors_bytes("{}", "garbage"), "bytes [0, 7)");
}

// --- atomicity ---------------------------------------------------------------------------------------

// A child saves versions 1, 2, 1, 2, ... of a 4 MB file until it is killed with SIGKILL at a random
// moment; the file at the destination must then be one complete version (all elements equal to the
// version in its metadata), never a torn one. The contents are made before the fork: the child
// must not start OpenMP threads (a forked child of a process with a thread pool can hang in it).
TEST(Safetensors, KilledWriterLeavesAnOldOrNewCompleteFile) {
  ScratchDir dir;
  const auto path = dir / "model.safetensors";
  constexpr std::int64_t kElements = 1 << 20;
  const std::vector<Tensor> contents = {descent::zeros({kElements}), descent::full({kElements}, 1.0),
                                        descent::full({kElements}, 2.0)};
  save_safetensors(path, {{"w", contents[0]}}, {{"version", "0"}});
  std::mt19937 rng(12345);
  const auto start = std::chrono::steady_clock::now();
  double newest = 0;
  for (int round = 0; round < 6; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        for (int version = 1;; version = 3 - version) {
          save_safetensors(path, {{"w", contents[static_cast<std::size_t>(version)]}},
                           {{"version", std::to_string(version)}});
        }
      } catch (...) {
        ::_exit(3);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 50));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer stopped by itself (status " << status << ")";

    const auto content = load_safetensors(path);  // throws on a torn file
    const double version = std::stod(content.metadata.at("version"));
    newest = std::max(newest, version);
    const auto values = content.tensors.at("w").to_vector<float>();
    ASSERT_EQ(values.size(), static_cast<std::size_t>(kElements));
    for (float v : values) ASSERT_EQ(v, version) << "round " << round;
  }
  EXPECT_GT(newest, 0) << "the writer never completed a save: the kills tested nothing";
  // Temporary files of the killed writers stay behind (nothing can remove them); their count says
  // how many kills struck in the middle of a write.
  RecordProperty("interrupted_writes", static_cast<int>(dir.files().size()) - 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

}  // namespace
