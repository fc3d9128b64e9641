#!/usr/bin/python3
"""Generate the PyTorch reference fixtures that tests/nn/layers_reference_test.cpp compares descent's
layers (descent::nn) against.

Run from the repository root with Debian's Python, which has torch (the pyenv ``python3`` on PATH
does not):

    /usr/bin/python3 tools/gen_reference_nn.py

It writes tests/reference/nn.json (committed). Deterministic: every case draws its parameters,
inputs and upstream gradients from its own torch.Generator seeded with the CRC-32 of the case
name, and every drawn value is rounded to float32, so the float32 and float64 runs start from
identical values.

File layout (one case per line):

    {"format": 1, "generator": "...", "torch_version": "...", "cases": [
      {"name": case name,
       "layer": descent's class name ("Linear", "BatchNorm1d", "Sequential", ...),
       "options": the layer's options under descent's (= PyTorch's) argument names; a Sequential has
                  {"layers": [{"layer": ..., "options": ...}, ...]},
                  (kernel_size, stride, padding, dilation, output_size of the 2-D layers are [h, w]
                  lists; a pooling stride of null means the kernel size, as PyTorch's stride=None),
       "state_keys": the keys of PyTorch's state_dict, in order,
       "state": {key: {"dtype": "float" | "int64", "shape": [...], "values": [...]}} (loaded into the
                module before the first step; "float" entries in the run's dtype),
       "steps": [{"train": bool, "input": {"shape", "values", "layout": "transposed" (optional)},
                  "grad_output": {"shape", "values"}}, ...],
       "results": {"float32": [per step: {"output": {"shape", "values"},
                                          "input_grad": {"shape", "values"},
                                          "param_grads": {name: {"shape", "values"}},
                                          "buffers": {name: {"dtype", "shape", "values"}}}],
                   "float64": [...]}},
      ...]}

The steps run one after the other on the same module (so BatchNorm1d's running statistics carry
over from step to step); gradients are cleared before each step. Layout "transposed" passes the
input as the transpose (a strided view) of a contiguous leaf with the last two dims swapped; the
listed values and gradient are those of the view.
"""

import json
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_PATH = os.path.join("tests", "reference", "nn.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64}

CASES = []


def _f32(t):
    return t.to(torch.float32).to(torch.float64)


def _values(t):
    t = t.detach().reshape(-1)
    if t.dtype == torch.int64:
        return [int(v) for v in t.tolist()]
    vals = [float(v) for v in t.to(torch.float64).tolist()]
    for v in vals:
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("non-finite value in a fixture")
    return vals


def _entry(t):
    return {"shape": list(t.shape), "values": _values(t)}


# --- input distributions -------------------------------------------------------------------------

def normal(scale=1.0, shift=0.0):
    return lambda shape, g: _f32(torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift)


def uniform(lo, hi):
    return lambda shape, g: _f32(torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo)


def away(lo=0.1, hi=2.0):
    """Random sign times a magnitude in [lo, hi): away from the kink at 0."""

    def draw(shape, g):
        mag = torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo
        sign = torch.randint(0, 2, shape, generator=g, dtype=torch.int64).to(torch.float64) * 2 - 1
        return _f32(mag * sign)

    return draw


def distinct(step=0.125):
    """A random permutation of evenly spaced values (step apart, centred on 0): no two are equal, so
    every max-pooling window has a unique maximum and the gradient is unambiguous."""

    def draw(shape, g):
        n = 1
        for d in shape:
            n *= d
        perm = torch.randperm(n, generator=g, dtype=torch.int64).to(torch.float64)
        return _f32(((perm - (n - 1) / 2) * step).reshape(shape))

    return draw


# --- the layers ------------------------------------------------------------------------------------

class LayerNormNoBias(nn.Module):
    """LayerNorm with a weight and no bias (PyTorch 2.1's bias=False; torch 1.13 lacks the argument)."""

    def __init__(self, normalized_shape, eps):
        super().__init__()
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, dtype=torch.float64))

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, None, self.eps)


def _pair(v):
    """A Size2d option (a number or [h, w]) as PyTorch's tuple."""
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def build(layer, o):
    """The PyTorch module for descent's layer name and options (float64)."""
    if layer == "Linear":
        m = nn.Linear(o["in_features"], o["out_features"], bias=o["bias"])
    elif layer == "Flatten":
        m = nn.Flatten(o["start_dim"], o["end_dim"])
    elif layer == "Dropout":
        m = nn.Dropout(o["p"])
    elif layer == "BatchNorm1d":
        m = nn.BatchNorm1d(o["num_features"], eps=o["eps"], momentum=o["momentum"], affine=o["affine"],
                           track_running_stats=o["track_running_stats"])
    elif layer == "LayerNorm":
        if o["elementwise_affine"] and not o["bias"]:
            m = LayerNormNoBias(o["normalized_shape"], o["eps"])
        else:
            m = nn.LayerNorm(o["normalized_shape"], eps=o["eps"], elementwise_affine=o["elementwise_affine"])
    elif layer == "Conv2d":
        m = nn.Conv2d(o["in_channels"], o["out_channels"], _pair(o["kernel_size"]), stride=_pair(o["stride"]),
                      padding=_pair(o["padding"]), dilation=_pair(o["dilation"]), groups=o["groups"], bias=o["bias"])
    elif layer == "MaxPool2d":
        m = nn.MaxPool2d(_pair(o["kernel_size"]), stride=None if o["stride"] is None else _pair(o["stride"]),
                         padding=_pair(o["padding"]), dilation=_pair(o["dilation"]), ceil_mode=o["ceil_mode"])
    elif layer == "AvgPool2d":
        m = nn.AvgPool2d(_pair(o["kernel_size"]), stride=None if o["stride"] is None else _pair(o["stride"]),
                         padding=_pair(o["padding"]), ceil_mode=o["ceil_mode"],
                         count_include_pad=o["count_include_pad"], divisor_override=o["divisor_override"])
    elif layer == "AdaptiveAvgPool2d":
        m = nn.AdaptiveAvgPool2d(_pair(o["output_size"]))
    elif layer == "BatchNorm2d":
        m = nn.BatchNorm2d(o["num_features"], eps=o["eps"], momentum=o["momentum"], affine=o["affine"],
                           track_running_stats=o["track_running_stats"])
    elif layer == "Dropout2d":
        m = nn.Dropout2d(o["p"])
    elif layer == "ReLU":
        m = nn.ReLU()
    elif layer == "LeakyReLU":
        m = nn.LeakyReLU(o["negative_slope"])
    elif layer == "PReLU":
        m = nn.PReLU(o["num_parameters"], o["init"])
    elif layer == "ELU":
        m = nn.ELU(o["alpha"])
    elif layer == "GELU":
        m = nn.GELU(approximate=o["approximate"])
    elif layer == "Sigmoid":
        m = nn.Sigmoid()
    elif layer == "Tanh":
        m = nn.Tanh()
    elif layer == "Softmax":
        m = nn.Softmax(o["dim"])
    elif layer == "LogSoftmax":
        m = nn.LogSoftmax(o["dim"])
    elif layer == "Identity":
        m = nn.Identity()
    elif layer == "Sequential":
        m = nn.Sequential(*[build(sub["layer"], sub["options"]) for sub in o["layers"]])
    else:
        raise ValueError(f"unknown layer {layer}")
    return m.to(torch.float64)


def layer(name, **options):
    return {"layer": name, "options": options}


# --- case registry ---------------------------------------------------------------------------------

def case(name, spec, steps, params=None, buffers=None):
    """Registers a case.

    spec: layer(...) as above. steps: [(train, input_shape, input_draw, layout or None), ...].
    params / buffers: {state key: draw} for the values loaded before the first step (parameters not
    listed are drawn N(0, 0.5^2); buffers not listed keep PyTorch's initial values).
    """
    assert all(c["name"] != name for c in CASES), f"duplicate case name {name}"
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    params = params or {}
    buffers = buffers or {}

    module = build(spec["layer"], spec["options"])
    state = {}
    for key, value in module.state_dict().items():
        if key in params:
            state[key] = params[key](list(value.shape), g)
        elif key in buffers:
            state[key] = buffers[key](list(value.shape), g)
        elif value.dtype == torch.int64 or key in dict(module.named_buffers()):
            state[key] = value.clone()
        else:
            state[key] = normal(0.5)(list(value.shape), g)
    unknown = (set(params) | set(buffers)) - set(state)
    assert not unknown, f"{name}: no such state keys {unknown}"

    drawn_steps = []
    for train, shape, draw, layout in steps:
        x = draw(shape, g)
        drawn_steps.append((train, x, layout))

    # The output shapes (for the upstream gradients) from a float64 dry run on a copy.
    dry = build(spec["layer"], spec["options"])
    dry.load_state_dict({k: v.clone() for k, v in state.items()})
    grad_outputs = []
    for train, x, layout in drawn_steps:
        dry.train(train)
        with torch.no_grad():
            out = dry(x.clone())
        grad_outputs.append(_f32(torch.randn(out.shape, generator=g, dtype=torch.float64)))

    results = {}
    for dname, dtype in DTYPES.items():
        m = build(spec["layer"], spec["options"]).to(dtype)
        m.load_state_dict({k: (v.to(dtype) if v.is_floating_point() else v.clone()) for k, v in state.items()})
        per_step = []
        for (train, x, layout), go in zip(drawn_steps, grad_outputs):
            m.train(train)
            m.zero_grad(set_to_none=True)
            if layout == "transposed":
                leaf = x.mT.to(dtype).contiguous().requires_grad_(True)
                inp = leaf.mT
                assert not inp.is_contiguous()
            else:
                leaf = x.to(dtype, copy=True).requires_grad_(True)
                inp = leaf
            out = m(inp)
            out.backward(go.to(dtype))
            gx = leaf.grad.mT if layout == "transposed" else leaf.grad
            per_step.append({
                "output": _entry(out),
                "input_grad": _entry(gx),
                "param_grads": {k: _entry(p.grad if p.grad is not None else torch.zeros_like(p))
                                for k, p in m.named_parameters()},
                "buffers": {k: {"dtype": "int64" if b.dtype == torch.int64 else "float", **_entry(b)}
                            for k, b in m.named_buffers()},
            })
        results[dname] = per_step

    CASES.append({
        "name": name,
        "layer": spec["layer"],
        "options": spec["options"],
        "state_keys": list(state.keys()),
        "state": {k: {"dtype": "int64" if v.dtype == torch.int64 else "float", **_entry(v)} for k, v in state.items()},
        "steps": [{"train": train, "input": {**_entry(x), **({"layout": layout} if layout else {})},
                   "grad_output": _entry(go)}
                  for (train, x, layout), go in zip(drawn_steps, grad_outputs)],
        "results": results,
    })


def one(shape, draw=None, train=True, layout=None):
    return [(train, shape, draw or normal(), layout)]


# --- the cases -------------------------------------------------------------------------------------

def linear_cases():
    lin = lambda i, o, b=True: layer("Linear", in_features=i, out_features=o, bias=b)  # noqa: E731
    case("linear", lin(3, 4), one([5, 3]))
    case("linear_no_bias", lin(3, 2, False), one([4, 3]))
    case("linear_3d_input", lin(4, 3), one([2, 3, 4]))
    case("linear_1d_input", lin(3, 2), one([3]))
    case("linear_transposed_input", lin(3, 5), one([4, 3], layout="transposed"))
    case("linear_3d_transposed_input", lin(2, 3), one([2, 4, 2], layout="transposed"))


def shape_cases():
    fl = lambda s, e: layer("Flatten", start_dim=s, end_dim=e)  # noqa: E731
    case("flatten_default", fl(1, -1), one([2, 3, 2, 2]))
    case("flatten_middle", fl(1, 2), one([2, 3, 2, 2]))
    case("flatten_all", fl(0, -1), one([2, 3, 2]))
    case("flatten_transposed", fl(1, -1), one([2, 3, 4], layout="transposed"))
    case("identity", layer("Identity"), one([3, 4]))
    case("dropout_eval", layer("Dropout", p=0.5), one([3, 4], train=False))


def norm_cases():
    bn = lambda c, **kw: layer("BatchNorm1d", num_features=c, **{  # noqa: E731
        "eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True, **kw})
    pos = {"weight": uniform(0.5, 1.5), "bias": normal(0.5)}
    # Three training batches (running statistics updated with the unbiased variance), then evaluation.
    three_then_eval = lambda shape: [(True, shape, normal(2.0, 1.0), None), (True, shape, normal(1.5, -0.5), None),  # noqa: E731
                                     (True, shape, normal(0.5, 0.25), None), (False, shape, normal(1.0), None)]
    case("batchnorm1d_2d_train_eval", bn(3), three_then_eval([6, 3]), params=pos)
    case("batchnorm1d_3d_train_eval", bn(4), three_then_eval([3, 4, 5]), params=pos)
    case("batchnorm1d_momentum_none", bn(3, momentum=None), three_then_eval([5, 3]), params=pos)
    case("batchnorm1d_momentum_0_3_eps", bn(2, momentum=0.3, eps=1e-3), three_then_eval([4, 2, 3]), params=pos)
    case("batchnorm1d_no_affine", bn(3, affine=False), three_then_eval([4, 3]))
    case("batchnorm1d_no_running_stats", bn(3, track_running_stats=False),
         [(True, [5, 3], normal(), None), (False, [5, 3], normal(2.0), None)], params=pos)
    case("batchnorm1d_eval_given_stats", bn(3), one([4, 3], train=False), params=pos,
         buffers={"running_mean": normal(0.5), "running_var": uniform(0.5, 2.0)})
    case("batchnorm1d_transposed_input", bn(3), one([4, 3], layout="transposed"), params=pos)

    ln = lambda s, **kw: layer("LayerNorm", normalized_shape=s, **{  # noqa: E731
        "eps": 1e-5, "elementwise_affine": True, "bias": True, **kw})
    lpos = {"weight": uniform(0.5, 1.5), "bias": normal(0.5)}
    case("layernorm_last", ln([4]), one([3, 4], normal(2.0, 1.0)), params=lpos)
    case("layernorm_two_dims", ln([3, 4]), one([2, 3, 4], normal(1.5)), params=lpos)
    case("layernorm_no_affine", ln([5], elementwise_affine=False), one([2, 3, 5]))
    case("layernorm_no_bias_eps", ln([4], bias=False, eps=1e-3), one([3, 4]), params={"weight": uniform(0.5, 1.5)})
    case("layernorm_transposed_input", ln([3]), one([4, 3], layout="transposed"), params=lpos)


def activation_cases():
    case("relu", layer("ReLU"), one([3, 4], away()))
    case("leaky_relu", layer("LeakyReLU", negative_slope=0.01), one([3, 4], away()))
    case("leaky_relu_0_2", layer("LeakyReLU", negative_slope=0.2), one([3, 4], away()))
    case("prelu_shared", layer("PReLU", num_parameters=1, init=0.25), one([2, 3, 4], away()),
         params={"weight": uniform(0.05, 0.5)})
    case("prelu_per_channel", layer("PReLU", num_parameters=3, init=0.25), one([4, 3], away()),
         params={"weight": uniform(0.05, 0.5)})
    case("prelu_per_channel_3d", layer("PReLU", num_parameters=3, init=0.25), one([2, 3, 4], away()),
         params={"weight": uniform(-0.5, 0.5)})
    case("elu", layer("ELU", alpha=1.0), one([3, 4], away(0.05, 3.0)))
    case("elu_alpha_0_5", layer("ELU", alpha=0.5), one([3, 4], away(0.05, 3.0)))
    case("gelu", layer("GELU", approximate="none"), one([3, 4], normal(2.0)))
    case("gelu_tanh", layer("GELU", approximate="tanh"), one([3, 4], normal(2.0)))
    case("sigmoid", layer("Sigmoid"), one([3, 4], normal(2.0)))
    case("tanh", layer("Tanh"), one([3, 4], normal(1.5)))
    case("softmax_dim1", layer("Softmax", dim=1), one([3, 4]))
    case("softmax_dim0", layer("Softmax", dim=0), one([3, 4]))
    case("log_softmax_dim_last", layer("LogSoftmax", dim=-1), one([2, 3, 4]))


def _hw(v):
    """A Size2d option as written in the fixture: [h, w]."""
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def conv2d(i, o, k, stride=1, padding=0, dilation=1, groups=1, bias=True):
    return layer("Conv2d", in_channels=i, out_channels=o, kernel_size=_hw(k), stride=_hw(stride),
                 padding=_hw(padding), dilation=_hw(dilation), groups=groups, bias=bias)


def max_pool2d(k, stride=None, padding=0, dilation=1, ceil_mode=False):
    return layer("MaxPool2d", kernel_size=_hw(k), stride=None if stride is None else _hw(stride),
                 padding=_hw(padding), dilation=_hw(dilation), ceil_mode=ceil_mode)


def avg_pool2d(k, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    return layer("AvgPool2d", kernel_size=_hw(k), stride=None if stride is None else _hw(stride),
                 padding=_hw(padding), ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                 divisor_override=divisor_override)


def adaptive_avg_pool2d(size):
    return layer("AdaptiveAvgPool2d", output_size=_hw(size))


def batch_norm2d(c, **kw):
    return layer("BatchNorm2d", num_features=c, **{"eps": 1e-5, "momentum": 0.1, "affine": True,
                                                   "track_running_stats": True, **kw})


def conv_cases():
    case("conv2d_1x1", conv2d(3, 4, 1), one([2, 3, 3, 4]))
    case("conv2d_3x3", conv2d(2, 3, 3), one([2, 2, 5, 4]))
    case("conv2d_3x3_pad1_batch3", conv2d(1, 2, 3, padding=1), one([3, 1, 5, 3]))
    case("conv2d_5x5_pad2_batch1", conv2d(1, 2, 5, padding=2), one([1, 1, 7, 9]))
    case("conv2d_kernel_3x2", conv2d(2, 3, (3, 2)), one([1, 2, 7, 5]))
    case("conv2d_stride2_pad1", conv2d(2, 2, 3, stride=2, padding=1), one([1, 2, 9, 7]))
    # Padding 2 along H is more than half the kernel: allowed for convolutions (output grows).
    case("conv2d_stride_2_1_pad_2_1", conv2d(2, 3, 3, stride=(2, 1), padding=(2, 1)), one([1, 2, 7, 5]))
    # The stride is larger than the kernel: some pixels feed no output (zero input gradient there).
    case("conv2d_1x1_stride2", conv2d(2, 3, 1, stride=2), one([1, 2, 7, 5]))
    case("conv2d_dilation2", conv2d(2, 2, 3, dilation=2), one([1, 2, 7, 9]))
    case("conv2d_dilation_1_2_pad1", conv2d(2, 2, 3, padding=1, dilation=(1, 2)), one([1, 2, 5, 7]))
    case("conv2d_groups2", conv2d(4, 6, 3, padding=1, groups=2), one([1, 4, 5, 3]))
    case("conv2d_depthwise", conv2d(3, 6, 3, padding=1, groups=3), one([1, 3, 5, 4]))
    case("conv2d_no_bias", conv2d(2, 3, 3, bias=False), one([2, 2, 5, 4]))
    case("conv2d_kernel_covers_input", conv2d(2, 3, (5, 4)), one([3, 2, 5, 4]))
    case("conv2d_unbatched", conv2d(2, 3, 3, padding=1), one([2, 5, 3]))
    # A strided view: the transpose of the last two dims of a contiguous [N, C, W, H] leaf.
    case("conv2d_transposed_input", conv2d(2, 2, 3, padding=1), one([2, 2, 3, 5], layout="transposed"))
    case("conv2d_unbatched_transposed_input", conv2d(2, 2, (3, 2), stride=(1, 2)), one([2, 6, 7], layout="transposed"))
    case("conv2d_everything", conv2d(4, 2, (3, 2), stride=(2, 1), padding=(2, 1), dilation=(1, 2), groups=2,
                                     bias=False), one([1, 4, 7, 5]))
    # Two training steps and an evaluation step on the same module (gradients cleared in between).
    case("conv2d_three_steps", conv2d(2, 2, 3, padding=1),
         [(True, [2, 2, 3, 4], normal(), None), (True, [1, 2, 4, 3], normal(), None),
          (False, [3, 2, 3, 3], normal(), None)])


def pool_cases():
    case("maxpool2d_k2", max_pool2d(2), one([2, 2, 4, 6], distinct()))
    case("maxpool2d_k2_odd_input", max_pool2d(2), one([2, 2, 7, 5], distinct()))
    case("maxpool2d_k3_stride1", max_pool2d(3, stride=1), one([2, 2, 6, 5], distinct()))
    case("maxpool2d_k3_stride2_pad1", max_pool2d(3, stride=2, padding=1), one([2, 2, 7, 7], distinct()))
    case("maxpool2d_k2_stride1_pad1", max_pool2d(2, stride=1, padding=1), one([1, 2, 5, 4], distinct()))
    case("maxpool2d_dilation2", max_pool2d(3, stride=1, dilation=2), one([1, 2, 7, 8], distinct()))
    case("maxpool2d_dilation_2_1_pad1", max_pool2d(3, stride=2, padding=1, dilation=(2, 1)),
         one([2, 2, 9, 7], distinct()))
    case("maxpool2d_kernel_3x2_stride_2_1", max_pool2d((3, 2), stride=(2, 1), padding=(1, 0)),
         one([2, 2, 7, 5], distinct()))
    # ceil_mode: 7 -> 4 windows of 2 (the last one covers a single row / column).
    case("maxpool2d_ceil_k2", max_pool2d(2, ceil_mode=True), one([1, 2, 7, 7], distinct()))
    # ceil_mode where the last window would start in the right padding and is dropped: 5 + 2 pad,
    # kernel 2, stride 2 -> 3 (not 4).
    case("maxpool2d_ceil_dropped_window", max_pool2d(2, stride=2, padding=1, ceil_mode=True),
         one([1, 2, 5, 5], distinct()))
    case("maxpool2d_ceil_k3_stride2_pad1", max_pool2d(3, stride=2, padding=1, ceil_mode=True),
         one([2, 1, 6, 8], distinct()))
    case("maxpool2d_unbatched", max_pool2d(2, stride=1), one([2, 5, 4], distinct()))
    case("maxpool2d_transposed_input", max_pool2d(3, stride=2, padding=1), one([2, 2, 5, 7], distinct(),
                                                                                 layout="transposed"))

    case("avgpool2d_k2", avg_pool2d(2), one([2, 2, 4, 6]))
    case("avgpool2d_k2_odd_input", avg_pool2d(2), one([1, 2, 7, 5]))
    case("avgpool2d_k3_stride2_pad1", avg_pool2d(3, stride=2, padding=1), one([1, 2, 7, 5]))
    case("avgpool2d_k3_stride2_pad1_exclude_pad", avg_pool2d(3, stride=2, padding=1, count_include_pad=False),
         one([1, 2, 7, 5]))
    case("avgpool2d_k3_stride1_pad1_divisor", avg_pool2d(3, stride=1, padding=1, divisor_override=5),
         one([1, 2, 5, 6]))
    case("avgpool2d_kernel_2x3_pad1_exclude_pad", avg_pool2d((2, 3), stride=(1, 2), padding=1,
                                                             count_include_pad=False), one([1, 2, 5, 7]))
    case("avgpool2d_ceil_k2", avg_pool2d(2, ceil_mode=True), one([1, 2, 7, 7]))
    # ceil_mode with padding: the last window runs past the right padding; with count_include_pad
    # PyTorch divides by the window clipped to input + padding (not by the kernel area).
    case("avgpool2d_ceil_pad1", avg_pool2d(3, stride=2, padding=1, ceil_mode=True), one([1, 2, 6, 6]))
    case("avgpool2d_ceil_pad1_exclude_pad", avg_pool2d(3, stride=2, padding=1, ceil_mode=True,
                                                       count_include_pad=False), one([1, 2, 6, 6]))
    case("avgpool2d_ceil_pad1_divisor", avg_pool2d(3, stride=2, padding=1, ceil_mode=True, divisor_override=4),
         one([1, 2, 6, 5]))
    case("avgpool2d_ceil_dropped_window", avg_pool2d(2, stride=2, padding=1, ceil_mode=True), one([1, 2, 5, 5]))
    case("avgpool2d_stride_over_kernel", avg_pool2d(2, stride=3), one([1, 2, 8, 7]))
    case("avgpool2d_unbatched", avg_pool2d(3, stride=2, padding=1), one([3, 5, 6]))
    case("avgpool2d_transposed_input", avg_pool2d(2, stride=1, padding=1, count_include_pad=False),
         one([2, 2, 4, 5], layout="transposed"))

    case("adaptive_avgpool2d_global", adaptive_avg_pool2d(1), one([2, 3, 3, 4]))
    case("adaptive_avgpool2d_2x3_divides", adaptive_avg_pool2d((2, 3)), one([1, 2, 6, 6]))
    # 7 rows into 3: rows 0-2, 2-4, 4-6 (overlapping); 5 columns into 2: 0-2, 2-4.
    case("adaptive_avgpool2d_7x5_to_3x2", adaptive_avg_pool2d((3, 2)), one([2, 2, 7, 5]))
    case("adaptive_avgpool2d_9x11_to_4x3", adaptive_avg_pool2d((4, 3)), one([1, 1, 9, 11]))
    # An output larger than the input: windows of one or two pixels, repeated.
    case("adaptive_avgpool2d_upsample", adaptive_avg_pool2d((5, 6)), one([1, 2, 3, 4]))
    case("adaptive_avgpool2d_same_size", adaptive_avg_pool2d((3, 4)), one([2, 2, 3, 4]))
    case("adaptive_avgpool2d_unbatched", adaptive_avg_pool2d(2), one([3, 7, 5]))
    case("adaptive_avgpool2d_transposed_input", adaptive_avg_pool2d((2, 3)), one([1, 2, 7, 5], layout="transposed"))


def norm2d_cases():
    pos = {"weight": uniform(0.5, 1.5), "bias": normal(0.5)}
    three_then_eval = lambda shape: [(True, shape, normal(2.0, 1.0), None), (True, shape, normal(1.5, -0.5), None),  # noqa: E731
                                     (True, shape, normal(0.5, 0.25), None), (False, shape, normal(1.0), None)]
    case("batchnorm2d_train_eval", batch_norm2d(3), three_then_eval([2, 3, 3, 5]), params=pos)
    case("batchnorm2d_momentum_none", batch_norm2d(2, momentum=None), three_then_eval([2, 2, 3, 3]), params=pos)
    case("batchnorm2d_momentum_0_3_eps", batch_norm2d(2, momentum=0.3, eps=1e-3), three_then_eval([2, 2, 1, 3]),
         params=pos)
    case("batchnorm2d_no_affine", batch_norm2d(3, affine=False), three_then_eval([3, 3, 1, 3]))
    case("batchnorm2d_no_running_stats", batch_norm2d(3, track_running_stats=False),
         [(True, [2, 3, 3, 3], normal(), None), (False, [1, 3, 3, 3], normal(2.0), None)], params=pos)
    case("batchnorm2d_no_affine_no_running_stats", batch_norm2d(2, affine=False, track_running_stats=False),
         [(True, [2, 2, 3, 5], normal(1.5, 0.5), None), (False, [1, 2, 3, 3], normal(), None)])
    case("batchnorm2d_eval_given_stats", batch_norm2d(3), one([2, 3, 3, 3], train=False), params=pos,
         buffers={"running_mean": normal(0.5), "running_var": uniform(0.5, 2.0)})
    # One image: the statistics are over its 7 x 5 pixels.
    case("batchnorm2d_batch1", batch_norm2d(2), [(True, [1, 2, 5, 3], normal(), None),
                                                 (False, [1, 2, 3, 3], normal(), None)], params=pos)
    case("batchnorm2d_transposed_input", batch_norm2d(2), one([2, 2, 3, 5], layout="transposed"), params=pos)

    # Dropout2d: random channel masks cannot match PyTorch's generator, so only the identities:
    # p = 0 in training mode and any p in evaluation mode.
    case("dropout2d_p0_train", layer("Dropout2d", p=0.0), one([2, 3, 2, 3]))
    case("dropout2d_eval", layer("Dropout2d", p=0.5), one([2, 3, 2, 3], train=False))
    case("dropout2d_p1_eval", layer("Dropout2d", p=1.0), one([2, 2, 3, 3], train=False))
    # Unbatched [C, H, W] (torch 1.13 would treat it as [N, C, L]; the same identity here).
    case("dropout2d_unbatched_eval", layer("Dropout2d", p=0.25), one([3, 2, 3], train=False))
    case("dropout2d_p0_train_transposed_input", layer("Dropout2d", p=0.0), one([2, 2, 2, 3], layout="transposed"))


def network_cases():
    mlp = layer("Sequential", layers=[
        layer("Linear", in_features=4, out_features=8, bias=True), layer("ReLU"),
        layer("Linear", in_features=8, out_features=6, bias=True), layer("Tanh"),
        layer("Linear", in_features=6, out_features=3, bias=False), layer("LogSoftmax", dim=1)])
    case("mlp", mlp, one([5, 4]))
    net = layer("Sequential", layers=[
        layer("Flatten", start_dim=1, end_dim=-1),
        layer("Linear", in_features=6, out_features=5, bias=True),
        layer("BatchNorm1d", num_features=5, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True),
        layer("GELU", approximate="none"),
        layer("Sequential", layers=[
            layer("Linear", in_features=5, out_features=4, bias=True),
            layer("LayerNorm", normalized_shape=[4], eps=1e-5, elementwise_affine=True, bias=True),
            layer("PReLU", num_parameters=1, init=0.25)]),
        layer("Linear", in_features=4, out_features=2, bias=True)])
    case("nested_net", net, [(True, [6, 2, 3], normal(), None), (True, [6, 2, 3], normal(), None),
                             (False, [4, 2, 3], normal(), None)],
         params={"2.weight": uniform(0.5, 1.5), "4.1.weight": uniform(0.5, 1.5)})
    cnn = layer("Sequential", layers=[
        conv2d(1, 4, 3, padding=1), batch_norm2d(4), layer("ReLU"), max_pool2d(2),
        conv2d(4, 6, 3), layer("ReLU"), adaptive_avg_pool2d(1),
        layer("Flatten", start_dim=1, end_dim=-1), layer("Linear", in_features=6, out_features=3, bias=True)])
    case("cnn", cnn, [(True, [2, 1, 8, 8], normal(), None), (True, [2, 1, 8, 8], normal(), None),
                      (False, [1, 1, 8, 8], normal(), None)],
         params={"1.weight": uniform(0.5, 1.5)})


def main():
    torch.set_num_threads(1)
    linear_cases()
    shape_cases()
    norm_cases()
    activation_cases()
    conv_cases()
    pool_cases()
    norm2d_cases()
    network_cases()

    if not os.path.isdir(os.path.join("tests", "reference")):
        sys.exit("run from the repository root: /usr/bin/python3 tools/gen_reference_nn.py")
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in CASES]
    header = json.dumps({"format": 1, "generator": "tools/gen_reference_nn.py", "torch_version": torch.__version__})
    text = header[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT_PATH}: {len(CASES)} cases, {len(text)} bytes")


if __name__ == "__main__":
    main()
