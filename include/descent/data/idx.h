#pragma once
// IDX files, the format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type
// code, the number of dimensions, then each dimension as a 32-bit integer) followed by the values.
// Files compressed with gzip (".gz", recognised by their magic bytes, not by their name) are read
// directly through zlib (bytes after the last gzip member are ignored, as gzip does).
//
//   Tensor images = descent::data::read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
//   // float32 [60000, 28, 28], values 0..255
//   Tensor labels = descent::data::read_idx(".../train-labels-idx1-ubyte.gz", descent::kInt64);  // [60000]

#include <cstdint>
#include <filesystem>

#include "descent/core/tensor.h"

namespace descent::data {

/// The IDX element types (the third byte of the magic number).
enum class IdxType : std::uint8_t {
  UInt8 = 0x08,
  Int8 = 0x09,
  Int16 = 0x0B,
  Int32 = 0x0C,
  Float32 = 0x0D,
  Float64 = 0x0E,
};

/// Reads an IDX file (plain or gzip) into a contiguous tensor of the file's shape, converted to
/// dtype (values are not rescaled: ubyte pixels stay 0..255). Throws IOError naming the file and
/// what is wrong: missing or unreadable file, corrupt gzip stream, wrong magic (non-zero first bytes,
/// unknown type code, no dimensions), fewer or more data bytes than the header's sizes announce, a
/// non-integer value in a float file read as kInt64.
Tensor read_idx(const std::filesystem::path& path, DType dtype = kFloat32);

/// Writes a tensor as an IDX file of the given element type (gzip-compressed when compress is true),
/// atomically. Values must fit the type (ValueError otherwise). Tests and tools make data with it.
void write_idx(const std::filesystem::path& path, const Tensor& values, IdxType type = IdxType::UInt8,
               bool compress = false);

}  // namespace descent::data
