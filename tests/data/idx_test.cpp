// IDX files: round trips for every type (plain and gzip), the exact byte layout, every corrupt-file
// error, and the real Fashion-MNIST files when the machine has them.

#include <descent/data/idx.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "data/data_test_util.h"

using namespace descent;
using namespace descent::data;
using datatest::TempDir;

namespace {

// An IDX header: magic (0, 0, type, ndim) then big-endian sizes.
std::string header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  std::string h = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<char>((d >> shift) & 0xFF));
  }
  return h;
}

struct TypeCase {
  IdxType type;
  std::vector<double> values;  // extremes and ordinary values of the type
};

const std::vector<TypeCase> kCases = {
    {IdxType::UInt8, {0, 1, 127, 128, 254, 255}},
    {IdxType::Int8, {-128, -1, 0, 1, 100, 127}},
    {IdxType::Int16, {-32768, -258, 0, 258, 1000, 32767}},
    {IdxType::Int32, {-2147483648.0, -65536, 0, 1, 70000, 2147483647.0}},
    {IdxType::Float32, {-1.5, 0.0, 0.25, 3e38, -1e-30, 1234.5}},
    {IdxType::Float64, {-1e300, 0.0, M_PI, 1e-300, -2.5, 42.0}},
};

}  // namespace

TEST(IdxWrite, RoundTripsEveryTypePlainAndGzip) {
  TempDir dir;
  for (const TypeCase& c : kCases) {
    for (bool compress : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "type 0x" << std::hex << static_cast<int>(c.type) << " gzip " << compress);
      const Tensor values = tensor(c.values, {2, 3}, kFloat64);
      const auto path = dir / "values.idx";
      write_idx(path, values, c.type, compress);
      const std::string bytes = datatest::read_bytes(path);
      EXPECT_EQ(bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f, compress);
      const Tensor back = read_idx(path, kFloat64);
      EXPECT_EQ(back.shape(), (Shape{2, 3}));
      EXPECT_EQ(back.dtype(), kFloat64);
      const std::vector<double> got = back.to_vector<double>();
      for (std::size_t i = 0; i < c.values.size(); ++i) {
        const double expected = c.type == IdxType::Float32 ? static_cast<float>(c.values[i]) : c.values[i];
        EXPECT_EQ(got[i], expected) << "element " << i;
      }
    }
  }
}

TEST(IdxWrite, WritesTheBigEndianLayout) {
  TempDir dir;
  write_idx(dir / "u8.idx", tensor({1, 2, 3, 4, 5, 255}, {2, 3}), IdxType::UInt8);
  EXPECT_EQ(datatest::read_bytes(dir / "u8.idx"), header(0x08, {2, 3}) + std::string("\x01\x02\x03\x04\x05\xff", 6));
  write_idx(dir / "i16.idx", tensor({258, -2}, {2}), IdxType::Int16);
  EXPECT_EQ(datatest::read_bytes(dir / "i16.idx"), header(0x0B, {2}) + std::string("\x01\x02\xff\xfe", 4));
  write_idx(dir / "f32.idx", tensor({1.0}, {1}), IdxType::Float32);
  EXPECT_EQ(datatest::read_bytes(dir / "f32.idx"), header(0x0D, {1}) + std::string("\x3f\x80\x00\x00", 4));
}

TEST(IdxWrite, RejectsValuesThatDoNotFitTheType) {
  TempDir dir;
  EXPECT_ERROR(write_idx(dir / "a.idx", tensor({0, 256}, {2}), IdxType::UInt8), ValueError, "a.idx", "element 1", "256",
               "unsigned byte", "0..255");
  EXPECT_ERROR(write_idx(dir / "a.idx", tensor({-1}, {1}), IdxType::UInt8), ValueError, "element 0");
  EXPECT_ERROR(write_idx(dir / "a.idx", tensor({128}, {1}), IdxType::Int8), ValueError, "-128..127");
  EXPECT_ERROR(write_idx(dir / "a.idx", tensor({1.5}, {1}), IdxType::Int32), ValueError, "1.5", "int");
  EXPECT_ERROR(write_idx(dir / "a.idx", tensor({1e39}, {1}, kFloat64), IdxType::Float32), ValueError, "float");
  EXPECT_ERROR(write_idx(dir / "a.idx", scalar_tensor(1.0), IdxType::UInt8), ShapeError, "1 to 255 dimensions", "[]");
  EXPECT_FALSE(std::filesystem::exists(dir / "a.idx"));  // nothing written on error
}

TEST(IdxWrite, ReportsAnUnwritableFolder) {
  TempDir dir;
  EXPECT_ERROR(write_idx(dir / "missing-folder" / "a.idx", tensor({1}, {1})), IOError, "a.idx");
}

TEST(IdxRead, ConvertsToTheRequestedDtype) {
  TempDir dir;
  write_idx(dir / "labels.idx", tensor({9, 0, 3}, {3}), IdxType::UInt8, /*compress=*/true);
  const Tensor labels = read_idx(dir / "labels.idx", kInt64);
  EXPECT_EQ(labels.dtype(), kInt64);
  EXPECT_EQ(labels.to_vector<std::int64_t>(), (std::vector<std::int64_t>{9, 0, 3}));
  const Tensor images = read_idx(dir / "labels.idx");  // float32 by default, values not rescaled
  EXPECT_EQ(images.dtype(), kFloat32);
  EXPECT_EQ(images.to_vector<float>(), (std::vector<float>{9, 0, 3}));
  EXPECT_TRUE(images.is_contiguous());
}

TEST(IdxRead, ReadsThreeDimensionsAndEmptyDimensions) {
  TempDir dir;
  write_idx(dir / "cube.idx", arange(24).reshape({2, 3, 4}), IdxType::Int16);
  const Tensor cube = read_idx(dir / "cube.idx");
  EXPECT_EQ(cube.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(cube.at({1, 2, 3}), 23.0);
  datatest::write_bytes(dir / "empty.idx", header(0x08, {0, 28}));
  EXPECT_EQ(read_idx(dir / "empty.idx").shape(), (Shape{0, 28}));
}

TEST(IdxRead, RecognisesGzipByItsMagicBytesNotItsName) {
  TempDir dir;
  const std::string raw = header(0x08, {2}) + std::string("\x07\x08", 2);
  datatest::write_bytes(dir / "plain.gz", raw);
  datatest::write_bytes(dir / "compressed.idx", datatest::gzip_bytes(raw));
  EXPECT_EQ(read_idx(dir / "plain.gz").to_vector<float>(), (std::vector<float>{7, 8}));
  EXPECT_EQ(read_idx(dir / "compressed.idx").to_vector<float>(), (std::vector<float>{7, 8}));
}

TEST(IdxRead, ReadsConcatenatedGzipMembersAsOneStream) {
  TempDir dir;
  const std::string raw = header(0x08, {4}) + std::string("\x01\x02\x03\x04", 4);
  datatest::write_bytes(dir / "two.gz", datatest::gzip_bytes(raw.substr(0, 7)) + datatest::gzip_bytes(raw.substr(7)));
  EXPECT_EQ(read_idx(dir / "two.gz").to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(IdxRead, RejectsFloatValuesThatAreNotIntegersForInt64) {
  TempDir dir;
  write_idx(dir / "f.idx", tensor({1.0, 2.5}, {2}), IdxType::Float32);
  EXPECT_ERROR(read_idx(dir / "f.idx", kInt64), IOError, "f.idx", "2.5", "element 1", "not an integer");
  EXPECT_EQ(read_idx(dir / "f.idx", kFloat32).to_vector<float>(), (std::vector<float>{1.0f, 2.5f}));
}

TEST(IdxRead, ReportsMissingAndEmptyFiles) {
  TempDir dir;
  EXPECT_ERROR(read_idx(dir / "nope.idx"), IOError, "nope.idx", "cannot open");
  datatest::write_bytes(dir / "empty.idx", "");
  EXPECT_ERROR(read_idx(dir / "empty.idx"), IOError, "empty.idx: empty file");
  EXPECT_ERROR(read_idx(dir.path()), IOError, "folder");
}

TEST(IdxRead, ReportsWrongMagic) {
  TempDir dir;
  datatest::write_bytes(dir / "short.idx", std::string("\0\0\x08", 3));
  EXPECT_ERROR(read_idx(dir / "short.idx"), IOError, "short.idx: too short for an IDX header (3 bytes)");
  datatest::write_bytes(dir / "text.idx", "hello world");
  EXPECT_ERROR(read_idx(dir / "text.idx"), IOError, "text.idx: not an IDX file", "0x68 0x65", "expected 0x00 0x00");
  datatest::write_bytes(dir / "type.idx", header(0x07, {1}) + "x");
  EXPECT_ERROR(read_idx(dir / "type.idx"), IOError, "type.idx: not an IDX file: unknown type code 0x07",
               "0x08 (unsigned byte)", "0x0E (double)");
  datatest::write_bytes(dir / "nodims.idx", header(0x08, {}));
  EXPECT_ERROR(read_idx(dir / "nodims.idx"), IOError, "nodims.idx", "no dimensions");
  datatest::write_bytes(dir / "header.idx", header(0x08, {60000, 28, 28}).substr(0, 10));
  EXPECT_ERROR(read_idx(dir / "header.idx"), IOError,
               "header.idx: truncated header: 3 dimensions need 16 bytes, found 10");
}

TEST(IdxRead, ReportsTruncatedDataAndTrailingBytes) {
  TempDir dir;
  datatest::write_bytes(dir / "train-images.idx", header(0x08, {60000, 28, 28}) + std::string(1000, '\x01'));
  EXPECT_ERROR(read_idx(dir / "train-images.idx"), IOError,
               "train-images.idx: truncated: header announces 60000x28x28 = 47040000 bytes of data, found 1000");
  datatest::write_bytes(dir / "ints.idx", header(0x0C, {10, 3}) + std::string(100, '\0'));
  EXPECT_ERROR(read_idx(dir / "ints.idx"), IOError, "truncated: header announces 10x3 values of 4 bytes = 120 bytes",
               "found 100");
  datatest::write_bytes(dir / "long.idx", header(0x08, {2, 2}) + std::string(9, '\0'));
  EXPECT_ERROR(read_idx(dir / "long.idx"), IOError, "long.idx: 5 trailing bytes: header announces 2x2 = 4 bytes",
               "found 9");
  // Sizes whose product overflows are truncation, not a crash.
  datatest::write_bytes(dir / "huge.idx", header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  EXPECT_ERROR(read_idx(dir / "huge.idx"), IOError, "huge.idx: truncated", "found 0");
}

TEST(IdxRead, ReportsCorruptGzip) {
  TempDir dir;
  const std::string gz = datatest::gzip_bytes(header(0x08, {100}) + std::string(100, 'a'));
  datatest::write_bytes(dir / "garbage.gz", std::string("\x1f\x8b", 2) + "this is not deflate data at all");
  EXPECT_ERROR(read_idx(dir / "garbage.gz"), IOError, "garbage.gz: corrupt gzip stream");
  datatest::write_bytes(dir / "cut.gz", gz.substr(0, gz.size() / 2));
  EXPECT_ERROR(read_idx(dir / "cut.gz"), IOError, "cut.gz: corrupt gzip stream", "ends before");
  std::string flipped = gz;
  flipped[flipped.size() - 6] = static_cast<char>(flipped[flipped.size() - 6] ^ 0xFF);  // the CRC
  datatest::write_bytes(dir / "crc.gz", flipped);
  EXPECT_ERROR(read_idx(dir / "crc.gz"), IOError, "crc.gz: corrupt gzip stream");
  // Bytes after the last gzip member are ignored, as gzip itself does.
  datatest::write_bytes(dir / "tail.gz", gz + "junk");
  EXPECT_EQ(read_idx(dir / "tail.gz").shape(), (Shape{100}));
  // A valid gzip around a bad IDX reports the IDX problem.
  datatest::write_bytes(dir / "inner.gz", datatest::gzip_bytes("PK\x03\x04"));
  EXPECT_ERROR(read_idx(dir / "inner.gz"), IOError, "inner.gz: not an IDX file");
}

TEST(IdxFashionMnist, ReadsTheRealFilesQuickly) {
  const std::filesystem::path folder = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(folder / "train-images-idx3-ubyte.gz") ||
      !std::filesystem::exists(folder / "t10k-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << folder;
  }
  const auto start = std::chrono::steady_clock::now();
  const Tensor images = read_idx(folder / "train-images-idx3-ubyte.gz");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "read_idx(train-images-idx3-ubyte.gz): " << seconds * 1000 << " ms\n";
  EXPECT_LT(seconds, 5.0);  // about 0.4 s on a loaded two-core VM; generous on purpose
  EXPECT_EQ(images.shape(), (Shape{60000, 28, 28}));
  EXPECT_EQ(images.dtype(), kFloat32);
  const float* pixels = images.data_ptr<float>();
  const auto [lo, hi] = std::minmax_element(pixels, pixels + images.numel());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 255.0f);
  EXPECT_EQ(images.at({0, 0, 0}), 0.0);  // the corners of Fashion-MNIST's images are background

  const Tensor labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz", kInt64);
  EXPECT_EQ(labels.shape(), (Shape{10000}));
  std::vector<int> counts(10, 0);
  for (std::int64_t label : labels.to_vector<std::int64_t>()) {
    ASSERT_GE(label, 0);
    ASSERT_LE(label, 9);
    ++counts[static_cast<std::size_t>(label)];
  }
  for (int c : counts) EXPECT_EQ(c, 1000);  // the test set is balanced
}
