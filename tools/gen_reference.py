#!/usr/bin/python3
"""Generate the PyTorch reference fixtures that tests/ops/reference_test.cpp compares descent against.

Run from the repository root with Debian's Python, which has torch (the pyenv ``python3`` on PATH
does not):

    /usr/bin/python3 tools/gen_reference.py

It writes tests/reference/ops.json (committed). Nothing is downloaded; the output is deterministic:
every case draws its inputs from its own torch.Generator seeded with the CRC-32 of the case name, and
every drawn value is rounded to float32, so the float32 and float64 runs see identical inputs.

File layout (one case per line, so that diffs stay readable):

    {"format": 1, "torch_version": "...", "cases": [
      {"name": case name, "op": op name (PyTorch's, with ATen-style overload suffixes such as
       "add.Scalar", "max.dim", "pow.Tensor_Tensor"), "params": {...},
       "inputs": [{"dtype": "float" | "bool" | "int64", "requires_grad": bool, "shape": [...],
                   "values": [...], "layout": "transposed" (optional)}, ...],
       "grad_output": {"shape": [...], "values": [...]} or null  (upstream gradient of output 0),
       "results": {"float32": {"outputs": [{"dtype", "shape", "values"}, ...],
                               "grads": [{"shape", "values"} or null, one per input]},
                   "float64": {...}}},
      ...]}

Input dtypes: "float" inputs are created in the dtype of the run (float32 or float64); "bool" inputs
(where's condition) hold 0/1 and are passed to torch as bool and to descent in the run's dtype
(descent has no bool dtype); "int64" inputs hold indices. Comparison ops return bool in PyTorch and
1/0 in the input's dtype in descent, so their reference outputs are converted to the run's dtype.

Op "batch_norm" takes x, then running_mean and running_var when params "running" (updated in place,
and returned as outputs 1 and 2 after the call), then weight and bias when params "affine".
"max_pool2d_with_indices" has the int64 indices as output 1. Size arguments are [h, w] lists.

Layout "transposed" marks a non-contiguous input: the leaf that requires grad is a contiguous tensor
with the last two dims swapped, and the op receives its transpose (a strided view) holding the
listed values; "shape", "values" and the gradient are those of the view, i.e. of the logical input.

Input domains avoid kinks and singularities (positive inputs for log/sqrt/fractional pow, values
away from 0 for abs/relu/..., away from the bounds for clamp, no ties for max/min unless a case
tests ties on purpose), so that the gradients are well defined and both libraries must agree.
"""

import json
import os
import sys
import zlib

import torch
import torch.nn.functional as F

OUT_PATH = os.path.join("tests", "reference", "ops.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --- input specifications ------------------------------------------------------------------------
# Each spec draws its values from the case's generator; all values are float32-representable.

def _f32(t):
    """Rounds a float64 tensor to float32-representable values (kept as float64)."""
    return t.to(torch.float32).to(torch.float64)


class Spec:
    dtype = "float"

    layout = None

    def __init__(self, shape, requires_grad=True):
        self.shape = list(shape)
        self.requires_grad = requires_grad

    def transposed(self):
        """Passes the input as a transposed (non-contiguous) view of a contiguous leaf."""
        assert self.dtype == "float" and len(self.shape) >= 2
        self.layout = "transposed"
        return self

    def draw(self, g):
        raise NotImplementedError


class Normal(Spec):
    """scale * N(0, 1) + shift."""

    def __init__(self, shape, scale=1.0, shift=0.0, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.scale, self.shift = scale, shift

    def draw(self, g):
        return _f32(torch.randn(self.shape, generator=g, dtype=torch.float64) * self.scale + self.shift)


class Uniform(Spec):
    """Uniform in [lo, hi)."""

    def __init__(self, shape, lo, hi, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.lo, self.hi = lo, hi

    def draw(self, g):
        return _f32(torch.rand(self.shape, generator=g, dtype=torch.float64) * (self.hi - self.lo) + self.lo)


class Away(Spec):
    """Random sign times a magnitude in [lo, hi): values kept away from 0 (kinks, poles)."""

    def __init__(self, shape, lo=0.1, hi=2.0, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.lo, self.hi = lo, hi

    def draw(self, g):
        mag = torch.rand(self.shape, generator=g, dtype=torch.float64) * (self.hi - self.lo) + self.lo
        sign = torch.randint(0, 2, self.shape, generator=g, dtype=torch.int64).to(torch.float64) * 2 - 1
        return _f32(mag * sign)


class Fixed(Spec):
    """Given values, rounded to float32."""

    def __init__(self, shape, values, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.values = values

    def draw(self, g):
        return _f32(torch.tensor(self.values, dtype=torch.float64).reshape(self.shape))


class Distinct(Spec):
    """A random permutation of evenly spaced values (step apart, centred on 0): no ties (max pooling)."""

    def __init__(self, shape, step=0.125, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.step = step

    def draw(self, g):
        n = 1
        for d in self.shape:
            n *= d
        perm = torch.randperm(n, generator=g, dtype=torch.int64).to(torch.float64)
        return _f32(((perm - (n - 1) / 2) * self.step).reshape(self.shape))


class Cond(Spec):
    """A 0/1 condition (bool in PyTorch); no gradient."""

    dtype = "bool"

    def __init__(self, shape, values):
        super().__init__(shape, requires_grad=False)
        self.values = values

    def draw(self, g):
        return torch.tensor(self.values, dtype=torch.float64).reshape(self.shape)


# --- case registry -------------------------------------------------------------------------------

CASES = []


def _values(t):
    t = t.detach().reshape(-1)
    if t.dtype == torch.int64:
        return [int(v) for v in t.tolist()]
    vals = [float(v) for v in t.to(torch.float64).tolist()]
    for v in vals:
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("non-finite value in a fixture")
    return vals


def _dtype_name(t):
    return {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}[t.dtype]


def case(name, op, fn, inputs, float32_from_float64=False, **params):
    """Registers a case: fn(list of torch tensors, params) -> a tensor or a tuple of tensors.

    float32_from_float64: take the float32 reference from the float64 run rounded to float32, for
    the few cases where PyTorch's own float32 result is less accurate than the tolerance (the case
    records this in "float32_reference").
    """
    assert all(c["name"] != name for c in CASES), f"duplicate case name {name}"
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    drawn = [spec.draw(g) for spec in inputs]

    def run(dtype):
        leaves, ts = [], []
        for spec, v in zip(inputs, drawn):
            if spec.dtype == "bool":
                leaves.append(v != 0)
                ts.append(leaves[-1])
            elif spec.dtype == "int64":
                leaves.append(v.to(torch.int64))
                ts.append(leaves[-1])
            elif spec.layout == "transposed":
                leaves.append(v.mT.to(dtype).contiguous().requires_grad_(spec.requires_grad))
                ts.append(leaves[-1].mT)
                assert not ts[-1].is_contiguous()
            else:
                leaves.append(v.to(dtype, copy=True).requires_grad_(spec.requires_grad))
                ts.append(leaves[-1])
        out = fn(ts, params)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        return leaves, outs

    # The upstream gradient: random, float32-representable, of output 0's shape.
    _, outs = run(torch.float64)
    differentiable = outs[0].is_floating_point() and outs[0].requires_grad
    grad_output = _f32(torch.randn(outs[0].shape, generator=g, dtype=torch.float64)) if differentiable else None

    results = {}
    for dname, dtype in DTYPES.items():
        ts, outs = run(torch.float64 if dname == "float32" and float32_from_float64 else dtype)
        grads = []
        if differentiable:
            torch.autograd.backward(outs[0], grad_output.to(outs[0].dtype))
        for spec, t in zip(inputs, ts):
            if spec.dtype == "float" and spec.requires_grad:
                gr = t.grad if t.grad is not None else torch.zeros_like(t)
                gr = (gr.mT if spec.layout == "transposed" else gr).to(dtype)
                grads.append({"shape": list(gr.shape), "values": _values(gr)})
            else:
                grads.append(None)
        for o in outs:
            assert o.dtype in (torch.float32, torch.float64, torch.int64), f"{name}: output dtype {o.dtype}"
        if float32_from_float64:
            outs = [o.detach().to(dtype) if o.is_floating_point() else o for o in outs]
        results[dname] = {
            "outputs": [{"dtype": _dtype_name(o), "shape": list(o.shape), "values": _values(o)} for o in outs],
            "grads": grads,
        }

    entry = {"name": name, "op": op, "params": params}
    if float32_from_float64:
        entry["float32_reference"] = "float64 run rounded to float32"
    CASES.append({
        **entry,
        "inputs": [{"dtype": s.dtype, "requires_grad": s.requires_grad, "shape": s.shape,
                    "values": _values(v.to(torch.int64) if s.dtype == "int64" else v),
                    **({"layout": s.layout} if s.layout else {})}
                   for s, v in zip(inputs, drawn)],
        "grad_output": None if grad_output is None else {"shape": list(grad_output.shape),
                                                         "values": _values(grad_output)},
        "results": results,
    })


# --- the cases -----------------------------------------------------------------------------------

def binary_cases():
    shapes = [
        ("same", [2, 3], [2, 3]),
        ("bcast_3x1_4", [3, 1], [4]),
        ("bcast_2x3_3", [2, 3], [3]),
        ("bcast_scalar_2x2", [], [2, 2]),
        ("bcast_2x2_scalar", [2, 2], []),
        ("bcast_size1_1x3_2x1", [1, 3], [2, 1]),
        ("bcast_2x1x3_4x1", [2, 1, 3], [4, 1]),
    ]
    for tag, sa, sb in shapes:
        case(f"add_{tag}", "add", lambda t, p: torch.add(t[0], t[1], alpha=p["alpha"]),
             [Normal(sa), Normal(sb)], alpha=1.0)
        case(f"sub_{tag}", "sub", lambda t, p: torch.sub(t[0], t[1], alpha=p["alpha"]),
             [Normal(sa), Normal(sb)], alpha=1.0)
        case(f"mul_{tag}", "mul", lambda t, p: torch.mul(t[0], t[1]), [Normal(sa), Normal(sb)])
        case(f"div_{tag}", "div", lambda t, p: torch.div(t[0], t[1]), [Normal(sa), Away(sb, 0.5, 2.0)])
    case("add_alpha", "add", lambda t, p: torch.add(t[0], t[1], alpha=p["alpha"]),
         [Normal([3, 1]), Normal([4])], alpha=2.5)
    case("sub_alpha", "sub", lambda t, p: torch.sub(t[0], t[1], alpha=p["alpha"]),
         [Normal([2, 3]), Normal([3])], alpha=0.5)
    case("add_one_input_no_grad", "add", lambda t, p: torch.add(t[0], t[1], alpha=p["alpha"]),
         [Normal([2, 3]), Normal([3], requires_grad=False)], alpha=-1.5)
    case("mul_same_tensor_shape_1", "mul", lambda t, p: torch.mul(t[0], t[1]), [Normal([1]), Normal([3, 2])])

    # Scalar forms.
    case("add_scalar", "add.Scalar", lambda t, p: torch.add(t[0], p["other"]), [Normal([2, 3])], other=2.5)
    case("add_scalar_0d", "add.Scalar", lambda t, p: torch.add(t[0], p["other"]), [Normal([])], other=-0.75)
    case("sub_scalar", "sub.Scalar", lambda t, p: torch.sub(t[0], p["other"]), [Normal([2, 3])], other=1.25)
    case("mul_scalar", "mul.Scalar", lambda t, p: torch.mul(t[0], p["other"]), [Normal([2, 3])], other=-1.5)
    case("mul_scalar_0d", "mul.Scalar", lambda t, p: torch.mul(t[0], p["other"]), [Normal([])], other=3.0)
    case("div_scalar", "div.Scalar", lambda t, p: torch.div(t[0], p["other"]), [Normal([2, 3])], other=4.0)
    case("div_scalar_inexact", "div.Scalar", lambda t, p: torch.div(t[0], p["other"]), [Normal([4])], other=0.3)
    case("rsub_scalar", "rsub.Scalar", lambda t, p: torch.rsub(t[0], p["other"]), [Normal([2, 3])], other=2.0)
    # rdiv: scalar / tensor (Tensor.__rtruediv__).
    case("rdiv_scalar", "rdiv.Scalar", lambda t, p: p["other"] / t[0], [Away([2, 3], 0.5, 2.0)], other=2.0)
    case("rdiv_scalar_negative", "rdiv.Scalar", lambda t, p: p["other"] / t[0], [Away([5], 0.5, 3.0)], other=-0.7)


def unary_cases():
    case("neg", "neg", lambda t, p: torch.neg(t[0]), [Normal([2, 3])])
    case("neg_0d", "neg", lambda t, p: torch.neg(t[0]), [Normal([])])

    pow_s = lambda t, p: torch.pow(t[0], p["exponent"])  # noqa: E731
    case("pow_2", "pow.Tensor_Scalar", pow_s, [Normal([2, 3])], exponent=2.0)
    case("pow_3", "pow.Tensor_Scalar", pow_s, [Normal([2, 3])], exponent=3.0)
    case("pow_0_5", "pow.Tensor_Scalar", pow_s, [Uniform([2, 3], 0.2, 3.0)], exponent=0.5)
    case("pow_neg1", "pow.Tensor_Scalar", pow_s, [Away([2, 3], 0.3, 2.0)], exponent=-1.0)
    case("pow_1_5", "pow.Tensor_Scalar", pow_s, [Uniform([4], 0.2, 3.0)], exponent=1.5)
    case("pow_neg2_5", "pow.Tensor_Scalar", pow_s, [Uniform([4], 0.3, 3.0)], exponent=-2.5)
    case("pow_0", "pow.Tensor_Scalar", pow_s, [Normal([3])], exponent=0.0)
    case("pow_1", "pow.Tensor_Scalar", pow_s, [Normal([3])], exponent=1.0)
    pow_t = lambda t, p: torch.pow(t[0], t[1])  # noqa: E731
    case("pow_tensor", "pow.Tensor_Tensor", pow_t, [Uniform([2, 3], 0.3, 2.5), Normal([2, 3])])
    case("pow_tensor_bcast", "pow.Tensor_Tensor", pow_t, [Uniform([2, 3], 0.3, 2.5), Uniform([3], -2.0, 3.0)])
    case("pow_tensor_scalar_shaped", "pow.Tensor_Tensor", pow_t, [Uniform([2, 2], 0.3, 2.5), Fixed([], 1.75)])

    case("exp", "exp", lambda t, p: torch.exp(t[0]), [Normal([2, 3])])
    case("exp_wide", "exp", lambda t, p: torch.exp(t[0]), [Uniform([6], -20.0, 20.0)])
    case("sin", "sin", lambda t, p: torch.sin(t[0]), [Uniform([2, 3], -7.0, 7.0)])
    case("cos", "cos", lambda t, p: torch.cos(t[0]), [Uniform([2, 3], -7.0, 7.0)])
    case("log", "log", lambda t, p: torch.log(t[0]), [Uniform([2, 3], 0.05, 5.0)])
    case("log_wide", "log", lambda t, p: torch.log(t[0]), [Fixed([4], [1e-3, 0.5, 1.0, 1e4])])
    case("sqrt", "sqrt", lambda t, p: torch.sqrt(t[0]), [Uniform([2, 3], 0.05, 5.0)])
    case("abs", "abs", lambda t, p: torch.abs(t[0]), [Away([2, 3])])
    case("abs_0d", "abs", lambda t, p: torch.abs(t[0]), [Fixed([], -1.5)])

    clamp = lambda t, p: torch.clamp(t[0], min=p["min"], max=p["max"])  # noqa: E731
    # Values in [-2, 2) away from the bounds: 0.05 apart at least.
    xs = [-1.9, -1.3, -0.75, -0.45, -0.2, 0.15, 0.35, 0.55, 0.95, 1.7]
    case("clamp_min", "clamp", clamp, [Fixed([2, 5], xs)], min=-0.5, max=None)
    case("clamp_max", "clamp", clamp, [Fixed([2, 5], xs)], min=None, max=0.5)
    case("clamp_both", "clamp", clamp, [Fixed([2, 5], xs)], min=-0.5, max=0.5)
    case("clamp_both_random", "clamp", clamp, [Normal([3, 4])], min=-0.8, max=1.1)
    case("clamp_min_gt_max", "clamp", clamp, [Fixed([2, 5], xs)], min=1.0, max=-1.0)

    wh = lambda t, p: torch.where(t[0], t[1], t[2])  # noqa: E731
    case("where", "where", wh, [Cond([2, 3], [1, 0, 0, 1, 1, 0]), Normal([2, 3]), Normal([2, 3])])
    case("where_bcast", "where", wh, [Cond([2, 1], [0, 1]), Normal([3]), Normal([])])
    case("where_bcast_cond", "where", wh, [Cond([3], [1, 0, 1]), Normal([2, 3]), Normal([2, 1])])


def comparison_cases():
    # PyTorch returns bool; descent returns 1/0 in the input's dtype (converted here).
    a = [0.5, -1.25, 2.0, 0.75, -0.5, 1.0]
    b = [0.5, 1.5, 2.0, -0.75, -0.5, 3.0]  # ties at positions 0, 2 and 4
    for op, fn in [("eq", torch.eq), ("gt", torch.gt), ("lt", torch.lt), ("ge", torch.ge), ("le", torch.le)]:
        case(op, op, lambda t, p, fn=fn: fn(t[0], t[1]).to(t[0].dtype),
             [Fixed([2, 3], a, False), Fixed([2, 3], b, False)])
        case(f"{op}_bcast", op, lambda t, p, fn=fn: fn(t[0], t[1]).to(t[0].dtype),
             [Fixed([2, 3], a, False), Fixed([3], [0.5, -1.25, 1.0], False)])
    case("gt_scalar", "gt.Scalar", lambda t, p: torch.gt(t[0], p["other"]).to(t[0].dtype),
         [Fixed([2, 3], a, False)], other=0.75)
    case("lt_scalar", "lt.Scalar", lambda t, p: torch.lt(t[0], p["other"]).to(t[0].dtype),
         [Fixed([2, 3], a, False)], other=0.75)


def matmul_cases():
    mm = lambda t, p: torch.matmul(t[0], t[1])  # noqa: E731
    case("matmul_1d_1d", "matmul", mm, [Normal([4]), Normal([4])])
    case("matmul_1d_2d", "matmul", mm, [Normal([3]), Normal([3, 5])])
    case("matmul_2d_1d", "matmul", mm, [Normal([4, 3]), Normal([3])])
    case("matmul_2d_2d", "matmul", mm, [Normal([3, 4]), Normal([4, 5])])
    case("matmul_2d_2d_inner1", "matmul", mm, [Normal([3, 1]), Normal([1, 2])])
    case("matmul_3d_3d", "matmul", mm, [Normal([2, 3, 4]), Normal([2, 4, 2])])
    case("matmul_3d_2d", "matmul", mm, [Normal([2, 3, 4]), Normal([4, 5])])
    case("matmul_2d_3d", "matmul", mm, [Normal([3, 4]), Normal([2, 4, 5])])
    case("matmul_bcast_batch", "matmul", mm, [Normal([1, 3, 4]), Normal([2, 4, 2])])
    case("matmul_4d_bcast", "matmul", mm, [Normal([2, 1, 2, 3]), Normal([3, 3, 2])])
    case("matmul_3d_1d", "matmul", mm, [Normal([2, 3, 4]), Normal([4])])
    case("matmul_1d_3d", "matmul", mm, [Normal([3]), Normal([2, 3, 4])])


def linear_cases():
    def lin(t, p):
        return F.linear(t[0], t[1], t[2] if len(t) > 2 else None)

    case("linear_2d", "linear", lin, [Normal([4, 3]), Normal([5, 3]), Normal([5])])
    case("linear_2d_no_bias", "linear", lin, [Normal([4, 3]), Normal([5, 3])])
    case("linear_3d", "linear", lin, [Normal([2, 3, 4]), Normal([2, 4]), Normal([2])])
    case("linear_4d_no_bias", "linear", lin, [Normal([2, 1, 3, 2]), Normal([3, 2])])
    case("linear_1d", "linear", lin, [Normal([3]), Normal([2, 3]), Normal([2])])
    case("linear_one_output", "linear", lin, [Normal([5, 4]), Normal([1, 4]), Normal([1])])
    case("linear_bias_no_grad", "linear", lin, [Normal([3, 4]), Normal([2, 4]), Normal([2], requires_grad=False)])
    case("linear_input_no_grad", "linear", lin, [Normal([3, 4], requires_grad=False), Normal([2, 4]), Normal([2])])
    case("linear_weight_no_grad", "linear", lin, [Normal([3, 4]), Normal([2, 4], requires_grad=False), Normal([2])])


def reduce_cases():
    case("sum_all", "sum", lambda t, p: torch.sum(t[0]), [Normal([2, 3, 4])])
    case("sum_all_0d", "sum", lambda t, p: torch.sum(t[0]), [Normal([])])
    sd = lambda t, p: torch.sum(t[0], p["dims"], keepdim=p["keepdim"])  # noqa: E731
    case("sum_dim1", "sum.dim", sd, [Normal([3, 4])], dims=[1], keepdim=False)
    case("sum_dim0_keepdim", "sum.dim", sd, [Normal([3, 4])], dims=[0], keepdim=True)
    case("sum_dim_neg", "sum.dim", sd, [Normal([2, 3, 4])], dims=[-1], keepdim=False)
    case("sum_dims_0_2", "sum.dim", sd, [Normal([2, 3, 4])], dims=[0, 2], keepdim=False)
    case("sum_dims_0_2_keepdim", "sum.dim", sd, [Normal([2, 3, 4])], dims=[0, 2], keepdim=True)
    case("sum_dims_all_keepdim", "sum.dim", sd, [Normal([2, 3])], dims=[1, 0], keepdim=True)
    case("sum_dims_size1", "sum.dim", sd, [Normal([3, 1, 2])], dims=[1], keepdim=False)

    case("mean_all", "mean", lambda t, p: torch.mean(t[0]), [Normal([2, 3, 4])])
    md = lambda t, p: torch.mean(t[0], p["dims"], keepdim=p["keepdim"])  # noqa: E731
    case("mean_dim1", "mean.dim", md, [Normal([3, 4])], dims=[1], keepdim=False)
    case("mean_dims_neg_keepdim", "mean.dim", md, [Normal([2, 3, 4])], dims=[-1, 0], keepdim=True)

    case("max_all", "max", lambda t, p: torch.max(t[0]), [Normal([3, 4])])
    case("max_all_ties", "max", lambda t, p: torch.max(t[0]), [Fixed([2, 3], [1.0, 3.0, -2.0, 3.0, 0.5, 3.0])])
    case("min_all", "min", lambda t, p: torch.min(t[0]), [Normal([3, 4])])
    case("min_all_ties", "min", lambda t, p: torch.min(t[0]), [Fixed([4], [-1.5, 2.0, -1.5, 0.0])])

    def max_dim(t, p):
        r = torch.max(t[0], p["dim"], keepdim=p["keepdim"])
        return r.values, r.indices

    def min_dim(t, p):
        r = torch.min(t[0], p["dim"], keepdim=p["keepdim"])
        return r.values, r.indices

    case("max_dim1", "max.dim", max_dim, [Normal([3, 4])], dim=1, keepdim=False)
    case("max_dim0_keepdim", "max.dim", max_dim, [Normal([3, 4])], dim=0, keepdim=True)
    case("max_dim_neg_3d", "max.dim", max_dim, [Normal([2, 3, 4])], dim=-2, keepdim=False)
    case("min_dim1", "min.dim", min_dim, [Normal([3, 4])], dim=1, keepdim=False)
    case("min_dim_neg_keepdim", "min.dim", min_dim, [Normal([2, 3, 4])], dim=-1, keepdim=True)

    am = lambda t, p: torch.amax(t[0], p["dims"], keepdim=p["keepdim"])  # noqa: E731
    an = lambda t, p: torch.amin(t[0], p["dims"], keepdim=p["keepdim"])  # noqa: E731
    case("amax_dim1", "amax", am, [Normal([3, 4])], dims=[1], keepdim=False)
    case("amax_dims_0_2_keepdim", "amax", am, [Normal([2, 3, 4])], dims=[0, 2], keepdim=True)
    # Ties on purpose: row 0 has its maximum 2.0 three times, row 1 twice; the gradient is shared evenly.
    case("amax_ties", "amax", am, [Fixed([2, 4], [2.0, 2.0, -1.0, 2.0, 0.5, 1.5, 1.5, -3.0])], dims=[1],
         keepdim=False)
    case("amin_dim0", "amin", an, [Normal([3, 4])], dims=[0], keepdim=False)
    case("amin_dims_neg_keepdim", "amin", an, [Normal([2, 3, 4])], dims=[-1, -3], keepdim=True)
    case("amin_ties", "amin", an, [Fixed([3, 2], [-1.0, 0.5, -1.0, 2.0, 0.25, -1.0])], dims=[0], keepdim=True)

    ag = lambda t, p: torch.argmax(t[0], p["dim"], keepdim=p["keepdim"])  # noqa: E731
    ai = lambda t, p: torch.argmin(t[0], p["dim"], keepdim=p["keepdim"])  # noqa: E731
    case("argmax_dim1", "argmax", ag, [Normal([3, 4], requires_grad=False)], dim=1, keepdim=False)
    case("argmax_dim0_keepdim", "argmax", ag, [Normal([3, 4], requires_grad=False)], dim=0, keepdim=True)
    case("argmax_dim_neg_3d", "argmax", ag, [Normal([2, 3, 4], requires_grad=False)], dim=-1, keepdim=False)
    case("argmin_dim1", "argmin", ai, [Normal([3, 4], requires_grad=False)], dim=1, keepdim=False)
    case("argmin_dim0_3d_keepdim", "argmin", ai, [Normal([2, 3, 4], requires_grad=False)], dim=0, keepdim=True)

    var = lambda t, p: torch.var(t[0], p["dims"], correction=p["correction"], keepdim=p["keepdim"])  # noqa: E731
    case("var_dim1_corr1", "var", var, [Normal([3, 5])], dims=[1], correction=1, keepdim=False)
    case("var_dim1_corr0", "var", var, [Normal([3, 5])], dims=[1], correction=0, keepdim=False)
    case("var_dim0_keepdim", "var", var, [Normal([4, 3], 2.0, 1.0)], dims=[0], correction=1, keepdim=True)
    case("var_dims_0_2", "var", var, [Normal([2, 3, 4])], dims=[0, 2], correction=1, keepdim=False)
    case("var_dims_neg_corr0_keepdim", "var", var, [Normal([2, 3, 4])], dims=[-1, -2], correction=0, keepdim=True)

    lse = lambda t, p: torch.logsumexp(t[0], p["dims"], keepdim=p["keepdim"])  # noqa: E731
    case("logsumexp_dim1", "logsumexp", lse, [Normal([3, 4])], dims=[1], keepdim=False)
    case("logsumexp_dims_keepdim", "logsumexp", lse, [Normal([2, 3, 4])], dims=[0, 2], keepdim=True)
    # Logits near +-1e4: PyTorch's float32 backward, exp(x - result), loses the low bits of x - result
    # (the float32 spacing at 1e4 is 1e-3) and is off by ~4e-4 relative; descent's exp(x - max) / sum
    # is exact to rounding, so the float32 reference is the float64 run rounded to float32.
    case("logsumexp_large", "logsumexp", lse, [Normal([3, 4], 1.0, 1e4)], float32_from_float64=True, dims=[1],
         keepdim=False)
    case("logsumexp_large_negative", "logsumexp", lse, [Normal([3, 4], 1.0, -1e4)], float32_from_float64=True,
         dims=[-1], keepdim=True)
    case("logsumexp_large_spread", "logsumexp", lse, [Normal([2, 5], 1e4)], dims=[1], keepdim=False)

    case("sum_to_size", "sum_to_size", lambda t, p: t[0].sum_to_size(p["size"]), [Normal([2, 3, 4])], size=[3, 1])
    case("sum_to_size_same", "sum_to_size", lambda t, p: t[0].sum_to_size(p["size"]), [Normal([2, 3])], size=[2, 3])


def shape_cases():
    case("reshape", "reshape", lambda t, p: torch.reshape(t[0], p["shape"]), [Normal([2, 6])], shape=[3, -1, 2])
    case("reshape_to_0d", "reshape", lambda t, p: torch.reshape(t[0], p["shape"]), [Normal([1, 1])], shape=[])
    case("view", "view", lambda t, p: t[0].view(p["shape"]), [Normal([2, 3, 4])], shape=[6, 4])
    case("view_infer", "view", lambda t, p: t[0].view(p["shape"]), [Normal([4, 3])], shape=[-1])
    fl = lambda t, p: torch.flatten(t[0], p["start_dim"], p["end_dim"])  # noqa: E731
    case("flatten", "flatten", fl, [Normal([2, 3, 4])], start_dim=0, end_dim=-1)
    case("flatten_middle", "flatten", fl, [Normal([2, 3, 4, 2])], start_dim=1, end_dim=2)
    tr = lambda t, p: torch.transpose(t[0], p["dim0"], p["dim1"])  # noqa: E731
    case("transpose_2d", "transpose", tr, [Normal([2, 3])], dim0=0, dim1=1)
    case("transpose_3d_neg", "transpose", tr, [Normal([2, 3, 4])], dim0=0, dim1=-1)
    pm = lambda t, p: t[0].permute(p["dims"])  # noqa: E731
    case("permute", "permute", pm, [Normal([2, 3, 4])], dims=[2, 0, 1])
    case("permute_neg", "permute", pm, [Normal([2, 3, 4])], dims=[-1, -3, -2])
    case("squeeze", "squeeze", lambda t, p: torch.squeeze(t[0]), [Normal([1, 3, 1, 2])])
    sq = lambda t, p: torch.squeeze(t[0], p["dim"])  # noqa: E731
    case("squeeze_dim", "squeeze.dim", sq, [Normal([2, 1, 3])], dim=1)
    case("squeeze_dim_neg", "squeeze.dim", sq, [Normal([2, 3, 1])], dim=-1)
    case("squeeze_dim_not_1", "squeeze.dim", sq, [Normal([2, 3])], dim=0)
    us = lambda t, p: torch.unsqueeze(t[0], p["dim"])  # noqa: E731
    case("unsqueeze_0", "unsqueeze", us, [Normal([2, 3])], dim=0)
    case("unsqueeze_middle", "unsqueeze", us, [Normal([2, 3])], dim=1)
    case("unsqueeze_neg", "unsqueeze", us, [Normal([2, 3])], dim=-1)
    case("unsqueeze_0d", "unsqueeze", us, [Normal([])], dim=0)
    ex = lambda t, p: t[0].expand(p["shape"])  # noqa: E731
    case("expand", "expand", ex, [Normal([3, 1])], shape=[2, 3, 4])
    case("expand_keep", "expand", ex, [Normal([1, 4])], shape=[3, -1])
    case("expand_0d", "expand", ex, [Normal([])], shape=[2, 2])

    def sl(t, p):
        idx = [slice(None)] * t[0].dim()
        idx[p["dim"]] = slice(p["start"], p["end"], p["step"])
        return t[0][tuple(idx)]

    case("slice_step", "slice", sl, [Normal([3, 7])], dim=1, start=1, end=6, step=2)
    case("slice_neg_start", "slice", sl, [Normal([5, 2])], dim=0, start=-3, end=5, step=1)
    case("slice_neg_end_clamped", "slice", sl, [Normal([2, 6])], dim=-1, start=-10, end=-1, step=3)
    case("slice_end_past", "slice", sl, [Normal([2, 3, 4])], dim=2, start=1, end=100, step=1)
    se = lambda t, p: torch.select(t[0], p["dim"], p["index"])  # noqa: E731
    case("select", "select", se, [Normal([3, 4])], dim=0, index=1)
    case("select_neg", "select", se, [Normal([2, 3, 4])], dim=-1, index=-1)
    case("select_middle", "select", se, [Normal([2, 3, 4])], dim=1, index=2)

    cat = lambda t, p: torch.cat(t, p["dim"])  # noqa: E731
    case("cat_dim0", "cat", cat, [Normal([2, 3]), Normal([1, 3])], dim=0)
    case("cat_dim1_three", "cat", cat, [Normal([2, 1]), Normal([2, 3]), Normal([2, 2])], dim=1)
    case("cat_dim_neg", "cat", cat, [Normal([2, 2, 2]), Normal([2, 2, 3])], dim=-1)
    case("cat_one_no_grad", "cat", cat, [Normal([2, 3]), Normal([2, 3], requires_grad=False)], dim=0)
    st = lambda t, p: torch.stack(t, p["dim"])  # noqa: E731
    case("stack_dim0", "stack", st, [Normal([2, 3]), Normal([2, 3])], dim=0)
    case("stack_dim2_three", "stack", st, [Normal([2, 3]), Normal([2, 3]), Normal([2, 3])], dim=2)
    case("stack_dim_neg", "stack", st, [Normal([3]), Normal([3])], dim=-1)

    isel = lambda t, p: torch.index_select(t[0], p["dim"], torch.tensor(p["index"], dtype=torch.int64))  # noqa: E731
    case("index_select_dim0_repeat", "index_select", isel, [Normal([4, 3])], dim=0, index=[2, 0, 2, 3, 2])
    case("index_select_dim1", "index_select", isel, [Normal([2, 4, 3])], dim=1, index=[3, 1])
    case("index_select_dim_neg", "index_select", isel, [Normal([2, 3])], dim=-1, index=[1, 1, 0])

    def gat(t, p):
        index = torch.tensor(p["index"]["values"], dtype=torch.int64).reshape(p["index"]["shape"])
        return torch.gather(t[0], p["dim"], index)

    case("gather_dim0", "gather", gat, [Normal([3, 4])], dim=0,
         index={"shape": [2, 4], "values": [0, 2, 1, 2, 2, 2, 0, 1]})
    case("gather_dim1_repeat", "gather", gat, [Normal([3, 4])], dim=1,
         index={"shape": [3, 3], "values": [3, 3, 0, 1, 0, 1, 2, 2, 2]})
    case("gather_smaller_index", "gather", gat, [Normal([3, 4, 2])], dim=-1,
         index={"shape": [2, 3, 3], "values": [1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1]})

    case("clone", "clone", lambda t, p: torch.clone(t[0]), [Normal([2, 3])])
    case("contiguous_of_transposed", "contiguous", lambda t, p: t[0].transpose(p["dim0"], p["dim1"]).contiguous(),
         [Normal([3, 4])], dim0=0, dim1=1)
    # to(): each run converts to the other floating dtype; the gradient comes back in the input's dtype.
    case("to_other_dtype", "to", lambda t, p: t[0].to(torch.float64 if t[0].dtype == torch.float32 else torch.float32),
         [Normal([2, 3])])


def activation_cases():
    case("relu", "relu", lambda t, p: F.relu(t[0]), [Away([3, 4])])
    lr = lambda t, p: F.leaky_relu(t[0], p["negative_slope"])  # noqa: E731
    case("leaky_relu_default", "leaky_relu", lr, [Away([3, 4])], negative_slope=0.01)
    case("leaky_relu_slope", "leaky_relu", lr, [Away([3, 4])], negative_slope=0.2)
    pr = lambda t, p: F.prelu(t[0], t[1])  # noqa: E731
    case("prelu_one_weight", "prelu", pr, [Away([2, 3, 4]), Fixed([1], [0.25])])
    case("prelu_per_channel", "prelu", pr, [Away([2, 3, 4]), Fixed([3], [0.25, -0.5, 1.5])])
    case("prelu_per_channel_2d", "prelu", pr, [Away([4, 3]), Uniform([3], 0.05, 0.5)])
    case("prelu_1d_input", "prelu", pr, [Away([5]), Fixed([1], [0.125])])
    el = lambda t, p: F.elu(t[0], p["alpha"])  # noqa: E731
    case("elu", "elu", el, [Away([3, 4], 0.05, 3.0)], alpha=1.0)
    case("elu_alpha_0_5", "elu", el, [Away([3, 4], 0.05, 3.0)], alpha=0.5)
    ge = lambda t, p: F.gelu(t[0], approximate=p["approximate"])  # noqa: E731
    case("gelu", "gelu", ge, [Normal([3, 4], 2.0)], approximate="none")
    case("gelu_tanh", "gelu", ge, [Normal([3, 4], 2.0)], approximate="tanh")
    case("sigmoid", "sigmoid", lambda t, p: torch.sigmoid(t[0]), [Normal([3, 4], 2.0)])
    case("sigmoid_large", "sigmoid", lambda t, p: torch.sigmoid(t[0]),
         [Fixed([6], [-100.0, -30.0, -12.5, 12.5, 30.0, 100.0])])
    case("tanh", "tanh", lambda t, p: torch.tanh(t[0]), [Normal([3, 4], 1.5)])
    case("tanh_large", "tanh", lambda t, p: torch.tanh(t[0]), [Fixed([4], [-30.0, -8.0, 8.0, 30.0])])
    sp = lambda t, p: F.softplus(t[0], p["beta"], p["threshold"])  # noqa: E731
    case("softplus", "softplus", sp, [Normal([3, 4], 3.0)], beta=1.0, threshold=20.0)
    # beta * x is above the threshold (linear) for some entries and below for others.
    case("softplus_beta_threshold", "softplus", sp,
         [Fixed([2, 4], [-3.0, -0.5, 0.25, 1.5, 2.25, 2.75, 4.0, 7.5])], beta=2.0, threshold=5.0)
    case("softplus_beta_half", "softplus", sp, [Normal([5], 4.0)], beta=0.5, threshold=20.0)
    case("softplus_large", "softplus", sp, [Fixed([4], [-50.0, -25.0, 25.0, 50.0])], beta=1.0, threshold=20.0)

    for op, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
        f = lambda t, p, fn=fn: fn(t[0], p["dim"])  # noqa: E731
        case(f"{op}_dim0", op, f, [Normal([3, 4])], dim=0)
        case(f"{op}_dim_last", op, f, [Normal([3, 4])], dim=-1)
        case(f"{op}_3d_middle", op, f, [Normal([2, 3, 4])], dim=1)
        case(f"{op}_1d", op, f, [Normal([5])], dim=0)
        case(f"{op}_large", op, f, [Normal([2, 4], 1.0, 1e4)], dim=-1)
        case(f"{op}_large_spread", op, f, [Normal([3, 3], 1e4)], dim=1)
        case(f"{op}_large_negative", op, f, [Normal([3, 2], 1.0, -1e4)], dim=0)


def strided_cases():
    """Ops on non-contiguous (transposed) inputs: the strided paths of the kernels."""
    mm = lambda t, p: torch.matmul(t[0], t[1])  # noqa: E731
    case("strided_matmul_2d_2d", "matmul", mm, [Normal([3, 4]).transposed(), Normal([4, 2]).transposed()])
    case("strided_matmul_3d_2d", "matmul", mm, [Normal([2, 3, 4]).transposed(), Normal([4, 5])])
    case("strided_matmul_1d_2d", "matmul", mm, [Normal([3]), Normal([3, 4]).transposed()])
    case("strided_add_bcast", "add", lambda t, p: torch.add(t[0], t[1], alpha=p["alpha"]),
         [Normal([3, 4]).transposed(), Normal([4])], alpha=1.0)
    case("strided_mul_both", "mul", lambda t, p: torch.mul(t[0], t[1]),
         [Normal([2, 3, 2]).transposed(), Normal([2, 3, 2]).transposed()])
    case("strided_exp", "exp", lambda t, p: torch.exp(t[0]), [Normal([3, 4]).transposed()])
    case("strided_sum_dim", "sum.dim", lambda t, p: torch.sum(t[0], p["dims"], keepdim=p["keepdim"]),
         [Normal([2, 3, 4]).transposed()], dims=[1], keepdim=False)
    case("strided_var", "var", lambda t, p: torch.var(t[0], p["dims"], correction=p["correction"],
                                                      keepdim=p["keepdim"]),
         [Normal([3, 4]).transposed()], dims=[-1], correction=1, keepdim=False)
    case("strided_logsumexp", "logsumexp", lambda t, p: torch.logsumexp(t[0], p["dims"], keepdim=p["keepdim"]),
         [Normal([3, 4]).transposed()], dims=[0], keepdim=True)

    def max_dim(t, p):
        r = torch.max(t[0], p["dim"], keepdim=p["keepdim"])
        return r.values, r.indices

    case("strided_max_dim", "max.dim", max_dim, [Normal([3, 4]).transposed()], dim=1, keepdim=False)
    case("strided_amax", "amax", lambda t, p: torch.amax(t[0], p["dims"], keepdim=p["keepdim"]),
         [Normal([2, 3, 4]).transposed()], dims=[2], keepdim=False)
    case("strided_argmax", "argmax", lambda t, p: torch.argmax(t[0], p["dim"], keepdim=p["keepdim"]),
         [Normal([3, 4], requires_grad=False).transposed()], dim=1, keepdim=False)
    case("strided_softmax", "softmax", lambda t, p: F.softmax(t[0], p["dim"]), [Normal([3, 4]).transposed()], dim=-1)
    case("strided_log_softmax", "log_softmax", lambda t, p: F.log_softmax(t[0], p["dim"]),
         [Normal([2, 3, 4]).transposed()], dim=1)
    case("strided_reshape_copies", "reshape", lambda t, p: torch.reshape(t[0], p["shape"]),
         [Normal([3, 4]).transposed()], shape=[2, 6])
    case("strided_flatten", "flatten", lambda t, p: torch.flatten(t[0], p["start_dim"], p["end_dim"]),
         [Normal([2, 3, 4]).transposed()], start_dim=1, end_dim=2)
    case("strided_index_select", "index_select",
         lambda t, p: torch.index_select(t[0], p["dim"], torch.tensor(p["index"], dtype=torch.int64)),
         [Normal([3, 4]).transposed()], dim=0, index=[1, 1, 0])
    case("strided_gather", "gather",
         lambda t, p: torch.gather(t[0], p["dim"], torch.tensor(p["index"]["values"]).reshape(p["index"]["shape"])),
         [Normal([3, 4]).transposed()], dim=1, index={"shape": [3, 2], "values": [3, 0, 1, 1, 2, 0]})
    case("strided_cat", "cat", lambda t, p: torch.cat(t, p["dim"]), [Normal([2, 3]).transposed(), Normal([2, 1])],
         dim=1)
    case("strided_where", "where", lambda t, p: torch.where(t[0], t[1], t[2]),
         [Cond([2, 3], [1, 0, 1, 0, 0, 1]), Normal([2, 3]).transposed(), Normal([3])])
    case("strided_prelu", "prelu", lambda t, p: F.prelu(t[0], t[1]),
         [Away([2, 3, 3]).transposed(), Fixed([3], [0.25, -0.5, 1.5])])
    case("strided_gelu", "gelu", lambda t, p: F.gelu(t[0], approximate=p["approximate"]),
         [Normal([3, 4]).transposed()], approximate="none")
    case("strided_clamp", "clamp", lambda t, p: torch.clamp(t[0], min=p["min"], max=p["max"]),
         [Normal([3, 4], 0.1, 1.0).transposed()], min=0.5, max=None)
    case("strided_slice", "slice", lambda t, p: t[0][:, 1:4:2], [Normal([3, 4]).transposed()], dim=1, start=1, end=4,
         step=2)
    case("strided_expand", "expand", lambda t, p: t[0].expand(p["shape"]), [Normal([2, 3]).transposed()],
         shape=[4, 2, 3])
    lin = lambda t, p: F.linear(t[0], t[1], t[2] if len(t) > 2 else None)  # noqa: E731
    case("strided_linear", "linear", lin, [Normal([4, 3]).transposed(), Normal([5, 3]), Normal([5])])
    case("strided_linear_weight", "linear", lin, [Normal([4, 3]), Normal([5, 3]).transposed(), Normal([5])])
    case("strided_linear_3d", "linear", lin, [Normal([2, 3, 4]).transposed(), Normal([2, 4]).transposed()])
    case("strided_contiguous", "contiguous", lambda t, p: t[0].transpose(p["dim0"], p["dim1"]).contiguous(),
         [Normal([3, 4]).transposed()], dim0=0, dim1=1)


def _hw(v):
    """A (height, width) argument as written in the fixture: [h, w]."""
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def conv_cases():
    """conv2d, the pooling ops and batch_norm called functionally (the layers are in nn.json)."""

    def conv(t, p):
        return F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, stride=tuple(p["stride"]),
                        padding=tuple(p["padding"]), dilation=tuple(p["dilation"]), groups=p["groups"])

    def cv(stride=1, padding=0, dilation=1, groups=1):
        return {"stride": _hw(stride), "padding": _hw(padding), "dilation": _hw(dilation), "groups": groups}

    case("conv2d", "conv2d", conv, [Normal([2, 2, 5, 4]), Normal([3, 2, 3, 3], 0.5), Normal([3])], **cv(padding=1))
    case("conv2d_no_bias_stride_dilation", "conv2d", conv, [Normal([1, 2, 7, 6]), Normal([2, 2, 3, 2], 0.5)],
         **cv(stride=(2, 1), padding=(1, 2), dilation=(1, 2)))
    case("conv2d_unbatched", "conv2d", conv, [Normal([2, 5, 4]), Normal([2, 2, 2, 3], 0.5), Normal([2])], **cv())
    # A non-contiguous weight (the transpose of its last two dims), as after weight.transpose(2, 3).
    case("conv2d_strided_weight", "conv2d", conv,
         [Normal([2, 2, 5, 4]), Normal([3, 2, 3, 2], 0.5).transposed(), Normal([3])], **cv(padding=1))
    case("conv2d_strided_weight_groups", "conv2d", conv,
         [Normal([1, 4, 5, 5]), Normal([4, 2, 3, 3], 0.5).transposed(), Normal([4])], **cv(stride=2, padding=1, groups=2))
    case("conv2d_strided_input_and_weight", "conv2d", conv,
         [Normal([2, 2, 4, 5]).transposed(), Normal([2, 2, 2, 3], 0.5).transposed()], **cv(padding=(1, 0)))
    case("conv2d_depthwise", "conv2d", conv, [Normal([1, 3, 5, 4]), Normal([6, 1, 3, 3], 0.5), Normal([6])],
         **cv(padding=1, groups=3))
    # Gradients for some inputs only.
    case("conv2d_input_no_grad", "conv2d", conv,
         [Normal([2, 2, 4, 4], requires_grad=False), Normal([2, 2, 3, 3], 0.5), Normal([2])], **cv())
    case("conv2d_weight_no_grad", "conv2d", conv,
         [Normal([2, 2, 4, 4]), Normal([2, 2, 3, 3], 0.5, requires_grad=False), Normal([2], requires_grad=False)],
         **cv(padding=1))

    def mp(k, stride=None, padding=0, dilation=1, ceil_mode=False):
        return {"kernel_size": _hw(k), "stride": None if stride is None else _hw(stride), "padding": _hw(padding),
                "dilation": _hw(dilation), "ceil_mode": ceil_mode}

    def pool_args(p):
        return dict(kernel_size=tuple(p["kernel_size"]), stride=None if p["stride"] is None else tuple(p["stride"]),
                    padding=tuple(p["padding"]), dilation=tuple(p["dilation"]), ceil_mode=p["ceil_mode"])

    def max_pool(t, p):
        return F.max_pool2d(t[0], **pool_args(p))

    def max_pool_idx(t, p):
        return F.max_pool2d(t[0], **pool_args(p), return_indices=True)

    case("max_pool2d", "max_pool2d", max_pool, [Distinct([2, 2, 5, 4])], **mp(2, stride=1, padding=1))
    # The indices are flat positions h * W + w within each (unpadded) input plane, int64.
    case("max_pool2d_with_indices", "max_pool2d_with_indices", max_pool_idx, [Distinct([2, 2, 4, 6])], **mp(2))
    case("max_pool2d_with_indices_pad", "max_pool2d_with_indices", max_pool_idx, [Distinct([1, 2, 7, 5])],
         **mp(3, stride=2, padding=1))
    case("max_pool2d_with_indices_dilation_ceil", "max_pool2d_with_indices", max_pool_idx, [Distinct([1, 2, 7, 8])],
         **mp((2, 3), stride=(2, 1), padding=(1, 0), dilation=(2, 1), ceil_mode=True))
    case("max_pool2d_with_indices_unbatched", "max_pool2d_with_indices", max_pool_idx, [Distinct([2, 5, 5])],
         **mp(2, ceil_mode=True))
    case("max_pool2d_with_indices_strided", "max_pool2d_with_indices", max_pool_idx,
         [Distinct([2, 2, 4, 5]).transposed()], **mp(2, stride=1))

    def ap(k, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        return {"kernel_size": _hw(k), "stride": None if stride is None else _hw(stride), "padding": _hw(padding),
                "ceil_mode": ceil_mode, "count_include_pad": count_include_pad, "divisor_override": divisor_override}

    def avg_pool(t, p):
        return F.avg_pool2d(t[0], tuple(p["kernel_size"]), None if p["stride"] is None else tuple(p["stride"]),
                            tuple(p["padding"]), p["ceil_mode"], p["count_include_pad"], p["divisor_override"])

    case("avg_pool2d", "avg_pool2d", avg_pool, [Normal([2, 2, 5, 4])], **ap(2))
    case("avg_pool2d_pad_ceil", "avg_pool2d", avg_pool, [Normal([1, 2, 6, 5])], **ap(3, stride=2, padding=1,
                                                                                     ceil_mode=True))
    case("avg_pool2d_exclude_pad_strided", "avg_pool2d", avg_pool, [Normal([1, 2, 5, 6]).transposed()],
         **ap((3, 2), stride=(1, 2), padding=1, count_include_pad=False))
    case("avg_pool2d_divisor_unbatched", "avg_pool2d", avg_pool, [Normal([2, 5, 5])],
         **ap(3, stride=2, padding=1, divisor_override=3))

    aap = lambda t, p: F.adaptive_avg_pool2d(t[0], tuple(p["output_size"]))  # noqa: E731
    case("adaptive_avg_pool2d", "adaptive_avg_pool2d", aap, [Normal([2, 2, 7, 5])], output_size=[3, 2])
    case("adaptive_avg_pool2d_global_unbatched", "adaptive_avg_pool2d", aap, [Normal([3, 4, 5])], output_size=[1, 1])
    case("adaptive_avg_pool2d_strided", "adaptive_avg_pool2d", aap, [Normal([1, 2, 5, 7]).transposed()],
         output_size=[4, 3])

    # batch_norm: inputs x, then running_mean and running_var (updated in place; returned as
    # outputs 1 and 2 after the call) when "running", then weight and bias when "affine".
    def bn(t, p):
        rm, rv = (t[1], t[2]) if p["running"] else (None, None)
        w, b = (t[-2], t[-1]) if p["affine"] else (None, None)
        y = F.batch_norm(t[0], rm, rv, w, b, training=p["training"], momentum=p["momentum"], eps=p["eps"])
        return (y, rm, rv) if p["running"] else y

    stats = lambda c: [Normal([c], 0.5, requires_grad=False), Uniform([c], 0.5, 2.0, requires_grad=False)]  # noqa: E731
    affine = lambda c: [Uniform([c], 0.5, 1.5), Normal([c], 0.5)]  # noqa: E731
    case("batch_norm_train", "batch_norm", bn, [Normal([3, 2, 3, 5], 2.0, 1.0), *stats(2), *affine(2)],
         running=True, affine=True, training=True, momentum=0.1, eps=1e-5)
    case("batch_norm_train_2d_momentum", "batch_norm", bn, [Normal([5, 3], 1.5, -0.5), *stats(3), *affine(3)],
         running=True, affine=True, training=True, momentum=0.3, eps=1e-3)
    case("batch_norm_train_3d_no_affine", "batch_norm", bn, [Normal([2, 3, 4]), *stats(3)],
         running=True, affine=False, training=True, momentum=0.1, eps=1e-5)
    case("batch_norm_train_no_running", "batch_norm", bn, [Normal([2, 2, 3, 3]), *affine(2)],
         running=False, affine=True, training=True, momentum=0.1, eps=1e-5)
    case("batch_norm_eval", "batch_norm", bn, [Normal([2, 3, 3, 3]), *stats(3), *affine(3)],
         running=True, affine=True, training=False, momentum=0.1, eps=1e-5)
    case("batch_norm_eval_no_affine_strided", "batch_norm", bn, [Normal([2, 2, 3, 4]).transposed(), *stats(2)],
         running=True, affine=False, training=False, momentum=0.1, eps=1e-5)


def main():
    torch.set_num_threads(1)
    binary_cases()
    unary_cases()
    comparison_cases()
    matmul_cases()
    linear_cases()
    reduce_cases()
    shape_cases()
    activation_cases()
    strided_cases()
    conv_cases()

    if not os.path.isdir(os.path.join("tests", "reference")):
        sys.exit("run from the repository root: /usr/bin/python3 tools/gen_reference.py")
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in CASES]
    header = json.dumps({"format": 1, "generator": "tools/gen_reference.py", "torch_version": torch.__version__})
    text = header[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    ops = sorted({c["op"] for c in CASES})
    print(f"wrote {OUT_PATH}: {len(CASES)} cases, {len(ops)} ops, {len(text)} bytes")


if __name__ == "__main__":
    main()
