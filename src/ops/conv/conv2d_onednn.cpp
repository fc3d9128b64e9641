// conv2d on oneDNN (see conv2d_onednn.h). Tensors stay NCHW / OIHW; the primitives may prefer
// blocked layouts (e.g. nChw16c), in which case each call reorders into and out of them: measured
// faster than plain layouts on every layer except those with few input channels per group, which
// run on plain layouts (docs/benchmarks.md, "Convolution").

#include "ops/conv/conv2d_onednn.h"

#include <atomic>

#include "descent/core/backends.h"
#include "internal/check.h"

#ifdef DESCENT_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/node.h"
#endif

namespace descent {

namespace backends::onednn {

namespace {
#ifdef DESCENT_HAVE_ONEDNN
constexpr bool kAvailable = true;
#else
constexpr bool kAvailable = false;
#endif
std::atomic<bool> g_enabled{kAvailable};
}  // namespace

bool is_available() { return kAvailable; }
bool enabled() { return g_enabled.load(std::memory_order_relaxed); }
void set_enabled(bool on) {
  DESCENT_CHECK_VALUE(!on || kAvailable,
                      "backends::onednn::set_enabled(true): descent was built without oneDNN (install libdnnl-dev "
                      "and configure again)");
  g_enabled.store(on, std::memory_order_relaxed);
}

}  // namespace backends::onednn

namespace detail {

#ifndef DESCENT_HAVE_ONEDNN

std::optional<Tensor> conv2d_onednn(const Tensor&, const Tensor&, const Tensor&, const kernels::ConvGeometry&,
                                    std::int64_t) {
  return std::nullopt;
}

#else

namespace {

namespace dn = dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

const dn::engine& cpu_engine() {
  static const dn::engine engine(dn::engine::kind::cpu, 0);
  return engine;
}

// Everything that decides the primitives: the geometry, groups, bias, and whether it trains.
using PlanKey = std::array<std::int64_t, 16>;

PlanKey key_of(const kernels::ConvGeometry& g, std::int64_t groups, std::int64_t out_channels, bool bias,
               bool training) {
  return {g.batch,    g.channels, g.height,     g.width,      out_channels, g.kernel_h,   g.kernel_w,
          g.stride_h, g.stride_w, g.pad_h,      g.pad_w,      g.dilation_h, g.dilation_w, groups,
          bias,       training};
}

// The primitives for one convolution shape, made once and shared by every call (executing a
// primitive is thread-safe; the buffers are per call).
struct Plan {
  dn::memory::desc x_md, w_md, b_md, y_md;  // the tensors' own layouts: nchw, (g)oihw, x, nchw
  bool bias = false;
  dn::memory::dims strides, dilates, padding;
  dn::algorithm algorithm = dn::algorithm::convolution_direct;
  bool any_layout = false;
  dn::convolution_forward::primitive_desc fwd_pd;
  dn::convolution_forward fwd;

  std::once_flag backward_made;
  dn::convolution_backward_data::primitive_desc data_pd;
  dn::convolution_backward_data data;
  dn::convolution_backward_weights::primitive_desc weights_pd;
  dn::convolution_backward_weights weights;

  dn::memory::desc pick(const dn::memory::desc& plain) const {
    return any_layout ? dn::memory::desc(plain.dims(), dt::f32, tag::any) : plain;
  }

  void make_backward() {
    std::call_once(backward_made, [this] {
      data_pd = dn::convolution_backward_data::primitive_desc(
          dn::convolution_backward_data::desc(algorithm, pick(x_md), pick(w_md), pick(y_md), strides, dilates,
                                              padding, padding),
          cpu_engine(), fwd_pd);
      data = dn::convolution_backward_data(data_pd);
      weights_pd = bias ? dn::convolution_backward_weights::primitive_desc(
                              dn::convolution_backward_weights::desc(algorithm, pick(x_md), pick(w_md), b_md,
                                                                     pick(y_md), strides, dilates, padding, padding),
                              cpu_engine(), fwd_pd)
                        : dn::convolution_backward_weights::primitive_desc(
                              dn::convolution_backward_weights::desc(algorithm, pick(x_md), pick(w_md), pick(y_md),
                                                                     strides, dilates, padding, padding),
                              cpu_engine(), fwd_pd);
      weights = dn::convolution_backward_weights(weights_pd);
    });
  }
};

std::shared_ptr<Plan> make_plan(const kernels::ConvGeometry& g, std::int64_t groups, std::int64_t out_channels,
                                bool bias, bool training) {
  auto plan = std::make_shared<Plan>();
  plan->bias = bias;
  plan->x_md = dn::memory::desc({g.batch, g.channels, g.height, g.width}, dt::f32, tag::nchw);
  plan->w_md = groups == 1 ? dn::memory::desc({out_channels, g.channels, g.kernel_h, g.kernel_w}, dt::f32, tag::oihw)
                           : dn::memory::desc({groups, out_channels / groups, g.channels / groups, g.kernel_h,
                                               g.kernel_w},
                                              dt::f32, tag::goihw);
  plan->b_md = dn::memory::desc({out_channels}, dt::f32, tag::x);
  plan->y_md = dn::memory::desc({g.batch, out_channels, g.out_h, g.out_w}, dt::f32, tag::nchw);
  plan->strides = {g.stride_h, g.stride_w};
  plan->dilates = {g.dilation_h - 1, g.dilation_w - 1};  // oneDNN counts the gaps: 0 is PyTorch's 1
  plan->padding = {g.pad_h, g.pad_w};
  // Blocked layouts pay for their reorders once a group has several input channels; the first
  // layer of an image network (1 or 3 channels) is faster on plain layouts.
  plan->any_layout = g.channels / groups >= 8;
  const auto prop = training ? dn::prop_kind::forward_training : dn::prop_kind::forward_inference;
  plan->fwd_pd =
      bias ? dn::convolution_forward::primitive_desc(
                 dn::convolution_forward::desc(prop, plan->algorithm, plan->pick(plan->x_md), plan->pick(plan->w_md),
                                               plan->b_md, plan->pick(plan->y_md), plan->strides, plan->dilates,
                                               plan->padding, plan->padding),
                 cpu_engine())
           : dn::convolution_forward::primitive_desc(
                 dn::convolution_forward::desc(prop, plan->algorithm, plan->pick(plan->x_md), plan->pick(plan->w_md),
                                               plan->pick(plan->y_md), plan->strides, plan->dilates, plan->padding,
                                               plan->padding),
                 cpu_engine());
  plan->fwd = dn::convolution_forward(plan->fwd_pd);
  return plan;
}

// The plans made so far, by shape; nullptr for a shape oneDNN has no implementation for. A
// training run uses a handful of shapes; the map is emptied if something makes hundreds.
std::shared_ptr<Plan> find_plan(const kernels::ConvGeometry& g, std::int64_t groups, std::int64_t out_channels,
                                bool bias, bool training) {
  static std::mutex mutex;
  static std::map<PlanKey, std::shared_ptr<Plan>> plans;
  const PlanKey key = key_of(g, groups, out_channels, bias, training);
  std::lock_guard lock(mutex);
  if (const auto it = plans.find(key); it != plans.end()) return it->second;
  if (plans.size() >= 256) plans.clear();
  std::shared_ptr<Plan> plan;
  try {
    plan = make_plan(g, groups, out_channels, bias, training);
  } catch (const dn::error&) {
    plan = nullptr;  // unimplemented for these shapes: conv2d falls back to im2col + GEMM
  }
  plans.emplace(key, plan);
  return plan;
}

// A float32 buffer big enough for a memory descriptor (blocked layouts pad channels to the block).
Tensor buffer_for(const dn::memory::desc& md) {
  return empty({static_cast<std::int64_t>((md.get_size() + sizeof(float) - 1) / sizeof(float))}, kFloat32);
}

// An input in the layout a primitive wants: the tensor's memory itself, or a reordered copy (kept
// alive in `keep` until the primitive has run).
dn::memory input_as(const dn::memory::desc& own, const dn::memory::desc& want, const Tensor& t, dn::stream& stream,
                    Tensor& keep) {
  dn::memory mine(own, cpu_engine(), t.data_ptr<float>());
  if (want == own) return mine;
  keep = buffer_for(want);
  dn::memory wanted(want, cpu_engine(), keep.data_ptr<float>());
  dn::reorder(mine, wanted).execute(stream, mine, wanted);
  return wanted;
}

// Where a primitive writes an output: the tensor itself, or a buffer that finish_output reorders
// into the tensor.
struct Output {
  dn::memory::desc own;
  Tensor target, staging;
  dn::memory memory;
  Output(const dn::memory::desc& own_md, const dn::memory::desc& want, const Tensor& t) : own(own_md), target(t) {
    if (want == own) {
      memory = dn::memory(own, cpu_engine(), t.data_ptr<float>());
    } else {
      staging = buffer_for(want);
      memory = dn::memory(want, cpu_engine(), staging.data_ptr<float>());
    }
  }
  void finish(dn::stream& stream) {
    if (!staging.defined()) return;
    dn::memory mine(own, cpu_engine(), target.data_ptr<float>());
    dn::reorder(memory, mine).execute(stream, memory, mine);
  }
};

struct Conv2dOneDnnBackward final : Node {
  Conv2dOneDnnBackward() : Node("conv2d") {}
  std::shared_ptr<Plan> plan;
  Tensor input, weight;  // contiguous float32, kept for the weight and the input gradient
  Shape weight_shape;

  std::vector<Tensor> apply(const Tensor& grad) override {
    plan->make_backward();
    const Tensor gy = grad.contiguous();
    dn::stream stream(cpu_engine());
    Tensor gx, gw, gb, keep_gy, keep_w, keep_x, keep_gy2;
    if (needs_grad(0)) {
      gx = empty(input.shape(), kFloat32);
      const dn::memory gy_m = input_as(plan->y_md, plan->data_pd.diff_dst_desc(), gy, stream, keep_gy);
      const dn::memory w_m = input_as(plan->w_md, plan->data_pd.weights_desc(), weight, stream, keep_w);
      Output gx_out(plan->x_md, plan->data_pd.diff_src_desc(), gx);
      plan->data.execute(stream, {{DNNL_ARG_DIFF_DST, gy_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DIFF_SRC, gx_out.memory}});
      gx_out.finish(stream);
    }
    if (needs_grad(1) || needs_grad(2)) {
      gw = empty(weight_shape, kFloat32);
      const dn::memory x_m = input_as(plan->x_md, plan->weights_pd.src_desc(), input, stream, keep_x);
      const dn::memory gy_m = input_as(plan->y_md, plan->weights_pd.diff_dst_desc(), gy, stream, keep_gy2);
      Output gw_out(plan->w_md, plan->weights_pd.diff_weights_desc(), gw);
      std::unordered_map<int, dn::memory> args{
          {DNNL_ARG_SRC, x_m}, {DNNL_ARG_DIFF_DST, gy_m}, {DNNL_ARG_DIFF_WEIGHTS, gw_out.memory}};
      if (plan->bias) {
        gb = empty({weight_shape[0]}, kFloat32);
        args.emplace(DNNL_ARG_DIFF_BIAS, dn::memory(plan->b_md, cpu_engine(), gb.data_ptr<float>()));
      }
      plan->weights.execute(stream, args);
      gw_out.finish(stream);
    }
    stream.wait();
    return {gx, needs_grad(1) ? gw : Tensor(), needs_grad(2) ? gb : Tensor()};
  }
  void release_saved() override {
    input = weight = Tensor();
    plan.reset();
  }
};

}  // namespace

std::optional<Tensor> conv2d_onednn(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                    const kernels::ConvGeometry& geo, std::int64_t groups) {
  if (!backends::onednn::enabled() || input.dtype() != kFloat32) return std::nullopt;
  const std::int64_t out_channels = weight.size(0);
  const bool training = GradMode::is_enabled() &&
                        (input.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  const std::shared_ptr<Plan> plan = find_plan(geo, groups, out_channels, bias.defined(), training);
  if (!plan) return std::nullopt;

  const Tensor x = input.detach().contiguous();
  const Tensor w = weight.detach().contiguous();
  Tensor y = empty({geo.batch, out_channels, geo.out_h, geo.out_w}, kFloat32);
  dn::stream stream(cpu_engine());
  Tensor keep_x, keep_w;
  const dn::memory x_m = input_as(plan->x_md, plan->fwd_pd.src_desc(), x, stream, keep_x);
  const dn::memory w_m = input_as(plan->w_md, plan->fwd_pd.weights_desc(), w, stream, keep_w);
  Output y_out(plan->y_md, plan->fwd_pd.dst_desc(), y);
  std::unordered_map<int, dn::memory> args{{DNNL_ARG_SRC, x_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DST, y_out.memory}};
  Tensor b;
  if (bias.defined()) {
    b = bias.detach().contiguous();
    args.emplace(DNNL_ARG_BIAS, dn::memory(plan->b_md, cpu_engine(), b.data_ptr<float>()));
  }
  plan->fwd.execute(stream, args);
  y_out.finish(stream);
  stream.wait();

  if (auto node = make_node<Conv2dOneDnnBackward>({&input, &weight, &bias})) {
    // A forward_inference plan cannot hint the backward primitives; training is true whenever a
    // node is made, since make_node returns one only when some input requires grad.
    node->plan = plan;
    node->input = x;
    node->weight = w;
    node->weight_shape = weight.shape();
    set_history(y, std::move(node));
  }
  return y;
}

#endif

}  // namespace detail
}  // namespace descent
