#pragma once
// Optional compute backends, switched at run time like torch.backends.mkldnn.

namespace descent::backends::onednn {

/// Whether descent was built with oneDNN (Debian's libdnnl-dev, found when CMake configured it).
bool is_available();

/// Whether float32 conv2d runs on oneDNN's convolution primitives (forward, input gradient, weight
/// and bias gradient). On by default when available; off, or for float64, conv2d runs im2col + one
/// BLAS GEMM per group, the path every build has. docs/benchmarks.md measures both.
bool enabled();

/// Turns the oneDNN path on or off for the whole process (as torch.backends.mkldnn.enabled = ...).
/// Throws ValueError when turning it on in a build without oneDNN.
void set_enabled(bool on);

}  // namespace descent::backends::onednn
