#pragma once
// Parameter initialization, as torch.nn.init. Every function fills its tensor in place (recording
// no graph, so it works on parameters that require grad), returns it, and draws any random numbers
// from the Generator it is given (the default generator when none is), so the same seed gives the
// same values. Values are drawn in double precision and rounded to the tensor's dtype: a float32
// and a float64 tensor filled from the same seed hold the same numbers up to rounding.
//
//   nn::init::kaiming_normal_(w, 0.0, "fan_out", "relu", gen);
//   nn::init::zeros_(b);

#include <cstdint>
#include <optional>
#include <string_view>

#include "descent/core/generator.h"
#include "descent/core/tensor.h"

namespace descent::nn::init {

/// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for "linear",
/// "conv1d", "conv2d", "conv3d", "conv_transpose1d/2d/3d" and "sigmoid"; 5/3 for "tanh"; sqrt(2)
/// for "relu"; sqrt(2 / (1 + slope^2)) for "leaky_relu" (param = slope, default 0.01); 3/4 for
/// "selu". ValueError for any other name.
double calculate_gain(std::string_view nonlinearity, std::optional<double> param = std::nullopt);

struct Fans {
  std::int64_t fan_in = 0;
  std::int64_t fan_out = 0;
};
/// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field, where the receptive
/// field is the product of the dims after the first two (1 for a matrix): PyTorch's
/// _calculate_fan_in_and_fan_out. ValueError for a tensor of fewer than 2 dims.
Fans calculate_fan_in_and_fan_out(const Tensor& tensor);

/// U(a, b).
Tensor uniform_(const Tensor& tensor, double a = 0.0, double b = 1.0, Generator& generator = default_generator());
/// N(mean, std^2).
Tensor normal_(const Tensor& tensor, double mean = 0.0, double std = 1.0, Generator& generator = default_generator());
Tensor constant_(const Tensor& tensor, double value);
Tensor zeros_(const Tensor& tensor);
Tensor ones_(const Tensor& tensor);

/// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).
Tensor xavier_uniform_(const Tensor& tensor, double gain = 1.0, Generator& generator = default_generator());
/// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(const Tensor& tensor, double gain = 1.0, Generator& generator = default_generator());

/// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a) and fan
/// the fan_in or fan_out as mode says ("fan_in" or "fan_out") (He et al., 2015).
Tensor kaiming_uniform_(const Tensor& tensor, double a = 0.0, std::string_view mode = "fan_in",
                        std::string_view nonlinearity = "leaky_relu", Generator& generator = default_generator());
/// N(0, std^2) with std = gain / sqrt(fan).
Tensor kaiming_normal_(const Tensor& tensor, double a = 0.0, std::string_view mode = "fan_in",
                       std::string_view nonlinearity = "leaky_relu", Generator& generator = default_generator());

}  // namespace descent::nn::init
