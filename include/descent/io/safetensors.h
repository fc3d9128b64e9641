#pragma once
// The safetensors format (https://huggingface.co/docs/safetensors): 8 bytes of little-endian header
// length N, N bytes of JSON header {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin,
// end]}, ..., "__metadata__": {"key": "string"}}, then the raw little-endian data. Weights saved here
// load in PyTorch (safetensors.torch.load_file, or the few lines of tools/safetensors_interop.py) and
// back.
//
//   descent::io::save_safetensors("model.safetensors", map_of(model.state_dict()), {{"format", "pt"}});
//   SafetensorsContent c = descent::io::load_safetensors("model.safetensors");
//   model.load_state_dict(descent::nn::StateDict(c.tensors));

#include <filesystem>
#include <map>
#include <string>

#include "descent/core/tensor.h"

namespace descent::io {

struct SafetensorsContent {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Writes the tensors (float32 "F32", float64 "F64", int64 "I64"; any layout: views are written as
/// their elements in row-major order) and the metadata atomically, streaming to disk. The header is
/// padded with spaces so that the data start 8-byte aligned; the tensors follow one another in key
/// order without gaps (the format requires the byte ranges to tile the data). ValueError for an
/// empty key, the reserved key "__metadata__", an undefined tensor, or a name or metadata string
/// that is not UTF-8.
void save_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// Reads a file. Also accepts F16, BF16 (read as float32), I32, I16, I8, U8 and BOOL (read as int64).
/// Throws IOError naming the file and the problem: missing file, fewer than 8 bytes, a header length
/// beyond the file, invalid JSON (or JSON nested deeper than a header needs), a key given twice, an
/// unknown dtype (named), a shape whose size disagrees with its byte range, offsets outside the data
/// or overlapping, bytes not covered by any tensor. Nothing is allocated before the whole header has
/// been checked; the data are read straight into the tensors.
SafetensorsContent load_safetensors(const std::filesystem::path& path);

}  // namespace descent::io
