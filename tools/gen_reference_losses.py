#!/usr/bin/python3
"""Generate the PyTorch reference fixture for descent's losses (tests/nn/loss_reference_test.cpp).

Run from the repository root with Debian's Python, which has torch 1.13 (the pyenv ``python3`` on
PATH does not):

    /usr/bin/python3 tools/gen_reference_losses.py

It writes tests/reference/losses.json (committed), deterministically: every case draws its inputs
from its own torch.Generator seeded with the CRC-32 of the case name, and every drawn value is
rounded to float32, so the float32 and float64 runs see identical inputs. The layout is that of
tools/gen_reference.py (one case per line):

    {"format": 1, "generator": ..., "torch_version": "...", "cases": [
      {"name": case name, "op": the torch.nn.functional name ("cross_entropy", "kl_div", ...),
       "params": {"reduction": "mean" | "sum" | "none" | "batchmean", loss options (delta, beta,
                  ignore_index, label_smoothing, p, margin, log_target), and class or elementwise
                  weights as {"shape": [...], "values": [...]} (created in the run's dtype)},
       "inputs": [{"dtype": "float" | "int64", "requires_grad": bool, "shape": [...], "values": [...]},
                  ...]  (input first, target second),
       "grad_output": {"shape", "values"}  (upstream gradient of the loss, random, float32-representable),
       "results": {"float32": {"outputs": [{"dtype", "shape", "values"}],
                               "grads": [{"shape", "values"} or null, one per input]},
                   "float64": {...}}},
      ...]}

A target that requires grad is checked too (PyTorch differentiates regression targets,
probability targets and kl_div's target). Input domains keep away from kinks (|input - target| =
delta, margin - x_y + x_i = 0) so that the gradients are well defined.
"""

import json
import os
import sys
import warnings
import zlib

import torch
import torch.nn.functional as F

OUT_PATH = os.path.join("tests", "reference", "losses.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _f32(t):
    """Rounds a float64 tensor to float32-representable values (kept as float64)."""
    return t.to(torch.float32).to(torch.float64)


# --- input specifications -------------------------------------------------------------------------

class Spec:
    dtype = "float"

    def __init__(self, shape, requires_grad=True):
        self.shape = list(shape)
        self.requires_grad = requires_grad


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


class Probs(Spec):
    """Class probabilities along dim 1 (dim 0 for a 1-D shape): softmax of scale * N(0, 1)."""

    def __init__(self, shape, scale=1.0, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.scale = scale

    def draw(self, g):
        z = torch.randn(self.shape, generator=g, dtype=torch.float64) * self.scale
        return _f32(torch.softmax(z, 1 if len(self.shape) > 1 else 0))


class Fixed(Spec):
    """Given values, rounded to float32."""

    def __init__(self, shape, values, requires_grad=True):
        super().__init__(shape, requires_grad)
        self.values = values

    def draw(self, g):
        return _f32(torch.tensor(self.values, dtype=torch.float64).reshape(self.shape))


class Labels(Spec):
    """int64 class indices, given."""

    dtype = "int64"

    def __init__(self, shape, values):
        super().__init__(shape, requires_grad=False)
        self.values = values

    def draw(self, g):
        return torch.tensor(self.values, dtype=torch.int64).reshape(self.shape)


def weight(values, shape=None):
    """A weight parameter: float32-representable values with a shape."""
    shape = [len(values)] if shape is None else shape
    return {"shape": shape, "values": _values(_f32(torch.tensor(values, dtype=torch.float64)))}


def _tensor(p, dtype):
    return None if p is None else torch.tensor(p["values"], dtype=dtype).reshape(p["shape"])


# --- case registry --------------------------------------------------------------------------------

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


def case(name, op, fn, inputs, **params):
    """Registers a case: fn(input, target, params, dtype) -> the loss tensor."""
    assert all(c["name"] != name for c in CASES), f"duplicate case name {name}"
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    drawn = [spec.draw(g) for spec in inputs]

    def run(dtype):
        leaves = []
        for spec, v in zip(inputs, drawn):
            if spec.dtype == "int64":
                leaves.append(v)
            else:
                leaves.append(v.to(dtype, copy=True).requires_grad_(spec.requires_grad))
        return leaves, fn(*leaves, params, dtype)

    _, out = run(torch.float64)
    grad_output = _f32(torch.randn(out.shape, generator=g, dtype=torch.float64))

    results = {}
    for dname, dtype in DTYPES.items():
        leaves, out = run(dtype)
        assert out.dtype == dtype, f"{name}: output dtype {out.dtype}"
        torch.autograd.backward(out, grad_output.to(dtype))
        grads = []
        for spec, t in zip(inputs, leaves):
            if spec.dtype == "float" and spec.requires_grad:
                gr = t.grad if t.grad is not None else torch.zeros_like(t)
                grads.append({"shape": list(gr.shape), "values": _values(gr)})
            else:
                grads.append(None)
        results[dname] = {
            "outputs": [{"dtype": _dtype_name(out), "shape": list(out.shape), "values": _values(out)}],
            "grads": grads,
        }

    CASES.append({
        "name": name, "op": op, "params": params,
        "inputs": [{"dtype": s.dtype, "requires_grad": s.requires_grad, "shape": s.shape, "values": _values(v)}
                   for s, v in zip(inputs, drawn)],
        "grad_output": {"shape": list(grad_output.shape), "values": _values(grad_output)},
        "results": results,
    })


REDUCTIONS = ["mean", "sum", "none"]


# --- the cases ------------------------------------------------------------------------------------

def regression_cases():
    mse = lambda x, y, p, d: F.mse_loss(x, y, reduction=p["reduction"])  # noqa: E731
    l1 = lambda x, y, p, d: F.l1_loss(x, y, reduction=p["reduction"])  # noqa: E731
    hub = lambda x, y, p, d: F.huber_loss(x, y, reduction=p["reduction"], delta=p["delta"])  # noqa: E731
    sl1 = lambda x, y, p, d: F.smooth_l1_loss(x, y, reduction=p["reduction"], beta=p["beta"])  # noqa: E731
    for r in REDUCTIONS:
        case(f"mse_{r}", "mse_loss", mse, [Normal([3, 4]), Normal([3, 4])], reduction=r)
        case(f"l1_{r}", "l1_loss", l1, [Normal([3, 4]), Normal([3, 4])], reduction=r)
        case(f"huber_{r}", "huber_loss", hub, [Normal([3, 4], 1.5), Normal([3, 4])], reduction=r, delta=1.0)
        case(f"smooth_l1_{r}", "smooth_l1_loss", sl1, [Normal([3, 4], 1.5), Normal([3, 4])], reduction=r, beta=1.0)
    case("mse_0d", "mse_loss", mse, [Normal([]), Normal([])], reduction="mean")
    case("mse_3d_target_no_grad", "mse_loss", mse, [Normal([2, 3, 2]), Normal([2, 3, 2], requires_grad=False)],
         reduction="sum")
    case("l1_target_no_grad", "l1_loss", l1, [Normal([5]), Normal([5], requires_grad=False)], reduction="mean")
    case("huber_delta_0_5", "huber_loss", hub, [Normal([3, 4]), Normal([3, 4])], reduction="none", delta=0.5)
    case("huber_delta_2_5", "huber_loss", hub, [Normal([3, 4], 2.0), Normal([3, 4])], reduction="mean", delta=2.5)
    case("smooth_l1_beta_0_25", "smooth_l1_loss", sl1, [Normal([3, 4]), Normal([3, 4])], reduction="none", beta=0.25)
    case("smooth_l1_beta_3", "smooth_l1_loss", sl1, [Normal([3, 4], 2.0), Normal([3, 4])], reduction="sum", beta=3.0)
    case("smooth_l1_beta_0", "smooth_l1_loss", sl1, [Normal([3, 4]), Normal([3, 4])], reduction="mean", beta=0.0)


def ce(x, y, p, d):
    return F.cross_entropy(x, y, weight=_tensor(p.get("weight"), d), ignore_index=p["ignore_index"],
                           reduction=p["reduction"], label_smoothing=p["label_smoothing"])


def nll(x, y, p, d):
    return F.nll_loss(x, y, weight=_tensor(p.get("weight"), d), ignore_index=p["ignore_index"],
                      reduction=p["reduction"])


def classification_cases():
    w5 = weight([0.5, 2.0, 1.25, 0.75, 3.0])
    labels = Labels([4], [1, 4, 0, 3])
    ignored = Labels([4], [2, -100, 4, 2])
    for r in REDUCTIONS:
        o = dict(reduction=r, ignore_index=-100, label_smoothing=0.0)
        case(f"ce_{r}", "cross_entropy", ce, [Normal([4, 5]), labels], **o)
        case(f"ce_weight_{r}", "cross_entropy", ce, [Normal([4, 5]), labels], **o, weight=w5)
        case(f"ce_ignore_{r}", "cross_entropy", ce, [Normal([4, 5]), ignored], **o)
        case(f"ce_weight_ignore_{r}", "cross_entropy", ce, [Normal([4, 5]), ignored], **o, weight=w5)
        s = dict(o, label_smoothing=0.2)
        case(f"ce_smooth_{r}", "cross_entropy", ce, [Normal([4, 5]), labels], **s)
        case(f"ce_smooth_ignore_{r}", "cross_entropy", ce, [Normal([4, 5]), ignored], **s)
        case(f"ce_smooth_weight_ignore_{r}", "cross_entropy", ce, [Normal([4, 5]), ignored], **s, weight=w5)
        case(f"ce_probs_{r}", "cross_entropy", ce, [Normal([4, 5]), Probs([4, 5])], **o)
        case(f"ce_probs_weight_smooth_{r}", "cross_entropy", ce, [Normal([4, 5]), Probs([4, 5])], **s, weight=w5)
        case(f"nll_{r}", "nll_loss", nll, [Uniform([4, 5], -3.0, -0.1), labels], reduction=r, ignore_index=-100)
        case(f"nll_weight_ignore_{r}", "nll_loss", nll, [Uniform([4, 5], -3.0, -0.1), ignored], reduction=r,
             ignore_index=-100, weight=w5)
    w3 = weight([1.5, 0.25, 1.0])
    case("ce_ignore_index_class_2", "cross_entropy", ce, [Normal([4, 5]), Labels([4], [2, 1, 2, 0])],
         reduction="mean", ignore_index=2, label_smoothing=0.0, weight=w5)
    case("ce_3d_mean", "cross_entropy", ce, [Normal([2, 3, 2]), Labels([2, 2], [0, 2, 1, 1])], reduction="mean",
         ignore_index=-100, label_smoothing=0.0)
    case("ce_3d_weight_ignore_smooth_none", "cross_entropy", ce,
         [Normal([2, 3, 2]), Labels([2, 2], [0, 2, -1, 1])], reduction="none", ignore_index=-1, label_smoothing=0.3,
         weight=w3)
    case("ce_3d_weight_ignore_smooth_mean", "cross_entropy", ce,
         [Normal([2, 3, 2]), Labels([2, 2], [0, 2, -1, 1])], reduction="mean", ignore_index=-1, label_smoothing=0.3,
         weight=w3)
    case("ce_unbatched_smooth", "cross_entropy", ce, [Normal([5]), Labels([], [3])], reduction="none",
         ignore_index=-100, label_smoothing=0.1)
    case("ce_probs_3d_mean", "cross_entropy", ce, [Normal([2, 3, 2]), Probs([2, 3, 2])], reduction="mean",
         ignore_index=-100, label_smoothing=0.0)
    case("ce_probs_unbatched", "cross_entropy", ce, [Normal([5]), Probs([5])], reduction="none",
         ignore_index=-100, label_smoothing=0.0)
    case("ce_smooth_1", "cross_entropy", ce, [Normal([4, 5]), labels], reduction="mean", ignore_index=-100,
         label_smoothing=1.0)
    # Logits of magnitude 1e4: log_softmax keeps the loss finite and exact.
    case("ce_large_logits", "cross_entropy", ce, [Normal([4, 5], 1e4), labels], reduction="mean",
         ignore_index=-100, label_smoothing=0.0)
    case("ce_large_logits_smooth_none", "cross_entropy", ce, [Normal([4, 5], 1e4), labels], reduction="none",
         ignore_index=-100, label_smoothing=0.1)
    case("nll_3d_weight_mean", "nll_loss", nll, [Uniform([2, 3, 2], -3.0, -0.1), Labels([2, 2], [2, 0, 1, 2])],
         reduction="mean", ignore_index=-100, weight=w3)
    case("nll_unbatched", "nll_loss", nll, [Uniform([5], -3.0, -0.1), Labels([], [1])], reduction="none",
         ignore_index=-100)


def binary_cases():
    bce = lambda x, y, p, d: F.binary_cross_entropy(x, y, weight=_tensor(p.get("weight"), d),  # noqa: E731
                                                    reduction=p["reduction"])

    def bcel(x, y, p, d):
        return F.binary_cross_entropy_with_logits(x, y, weight=_tensor(p.get("weight"), d),
                                                  pos_weight=_tensor(p.get("pos_weight"), d),
                                                  reduction=p["reduction"])

    w4 = weight([0.5, 2.0, 1.25, 0.75])
    pw4 = weight([3.0, 0.5, 1.0, 2.5])
    for r in REDUCTIONS:
        case(f"bce_{r}", "binary_cross_entropy", bce, [Uniform([3, 4], 0.05, 0.95), Uniform([3, 4], 0.0, 1.0)],
             reduction=r)
        case(f"bce_weight_{r}", "binary_cross_entropy", bce,
             [Uniform([3, 4], 0.05, 0.95), Uniform([3, 4], 0.0, 1.0)], reduction=r, weight=w4)
        case(f"bcel_{r}", "binary_cross_entropy_with_logits", bcel, [Normal([3, 4], 3.0), Uniform([3, 4], 0.0, 1.0)],
             reduction=r)
        case(f"bcel_weight_{r}", "binary_cross_entropy_with_logits", bcel,
             [Normal([3, 4], 3.0), Uniform([3, 4], 0.0, 1.0)], reduction=r, weight=weight([2.0, 0.5, 1.5], [3, 1]))
        case(f"bcel_pos_weight_{r}", "binary_cross_entropy_with_logits", bcel,
             [Normal([3, 4], 3.0), Uniform([3, 4], 0.0, 1.0)], reduction=r, pos_weight=pw4)
    case("bce_hard_targets", "binary_cross_entropy", bce,
         [Uniform([2, 4], 0.05, 0.95), Fixed([2, 4], [0, 1, 1, 0, 1, 0, 0, 1], requires_grad=False)],
         reduction="mean")
    # p = 0 and 1: each log clamped at -100, the gradient divided by max(p (1 - p), 1e-12).
    case("bce_clamped_logs", "binary_cross_entropy", bce,
         [Fixed([6], [0.0, 1.0, 0.0, 1.0, 1e-30, 0.5]), Fixed([6], [1.0, 0.0, 0.0, 1.0, 0.75, 0.25],
                                                              requires_grad=False)],
         reduction="none")
    case("bcel_pos_weight_weight_mean", "binary_cross_entropy_with_logits", bcel,
         [Normal([3, 4], 3.0), Uniform([3, 4], 0.0, 1.0)], reduction="mean", weight=w4, pos_weight=pw4)
    large = [-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4]
    hard = [1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 0.25, 1.0, 0.0]
    case("bcel_large_logits", "binary_cross_entropy_with_logits", bcel,
         [Fixed([9], large), Fixed([9], hard, requires_grad=False)], reduction="none")
    case("bcel_large_logits_pos_weight", "binary_cross_entropy_with_logits", bcel,
         [Fixed([9], large), Fixed([9], hard, requires_grad=False)], reduction="sum",
         pos_weight=weight([2.5]))
    case("bcel_zero_logits", "binary_cross_entropy_with_logits", bcel,
         [Fixed([4], [0.0, 0.0, 0.0, 0.0]), Fixed([4], [0.0, 1.0, 0.25, 0.5])], reduction="mean")


def margin_cases():
    hinge = lambda x, y, p, d: F.hinge_embedding_loss(x, y, margin=p["margin"], reduction=p["reduction"])  # noqa: E731

    def mm(x, y, p, d):
        return F.multi_margin_loss(x, y, p=p["p"], margin=p["margin"], weight=_tensor(p.get("weight"), d),
                                   reduction=p["reduction"])

    signs = [1, -1, -1, 1, 1, 1, -1, 1, -1, -1, 1, -1]
    labels = Labels([4], [1, 4, 0, 3])
    w5 = weight([0.5, 2.0, 1.25, 0.75, 3.0])
    for r in REDUCTIONS:
        case(f"hinge_{r}", "hinge_embedding_loss", hinge,
             [Normal([3, 4]), Fixed([3, 4], signs, requires_grad=False)], reduction=r, margin=1.0)
        case(f"mm_{r}", "multi_margin_loss", mm, [Normal([4, 5]), labels], reduction=r, p=1, margin=1.0)
        case(f"mm_p2_{r}", "multi_margin_loss", mm, [Normal([4, 5]), labels], reduction=r, p=2, margin=1.0)
        case(f"mm_weight_{r}", "multi_margin_loss", mm, [Normal([4, 5]), labels], reduction=r, p=1, margin=1.0,
             weight=w5)
    case("hinge_margin_0_5", "hinge_embedding_loss", hinge,
         [Normal([3, 4]), Fixed([3, 4], signs, requires_grad=False)], reduction="none", margin=0.5)
    case("hinge_margin_2", "hinge_embedding_loss", hinge,
         [Normal([3, 4]), Fixed([3, 4], signs, requires_grad=False)], reduction="mean", margin=2.0)
    # A target that is neither 1 nor -1 adds both terms (PyTorch's formula).
    case("hinge_other_targets", "hinge_embedding_loss", hinge,
         [Normal([6]), Fixed([6], [1, -1, 0, 0.5, -1, 2], requires_grad=False)], reduction="none", margin=1.0)
    case("mm_p2_margin_0_5_weight", "multi_margin_loss", mm, [Normal([4, 5]), labels], reduction="sum", p=2,
         margin=0.5, weight=w5)
    case("mm_margin_2_none", "multi_margin_loss", mm, [Normal([4, 5]), labels], reduction="none", p=1, margin=2.0)
    case("mm_unbatched", "multi_margin_loss", mm, [Normal([5]), Labels([], [2])], reduction="none", p=1, margin=1.0)


def kl_cases():
    kl = lambda x, y, p, d: F.kl_div(x, y, reduction=p["reduction"], log_target=p["log_target"])  # noqa: E731
    for r in REDUCTIONS + ["batchmean"]:
        case(f"kl_{r}", "kl_div", kl, [Normal([3, 4], 1.0, -1.5), Uniform([3, 4], 0.05, 1.0)], reduction=r,
             log_target=False)
        case(f"kl_log_target_{r}", "kl_div", kl, [Normal([3, 4], 1.0, -1.5), Normal([3, 4], 1.0, -1.5)],
             reduction=r, log_target=True)
    # xlogy: a zero target contributes 0 (its own gradient is NaN in PyTorch, so it is not checked here).
    case("kl_zero_targets", "kl_div", kl,
         [Normal([2, 3], 1.0, -1.0), Fixed([2, 3], [0.0, 0.5, 0.5, 0.25, 0.0, 0.75], requires_grad=False)],
         reduction="sum", log_target=False)
    case("kl_batchmean_3d", "kl_div", kl, [Normal([2, 2, 3], 1.0, -1.0), Probs([2, 2, 3])], reduction="batchmean",
         log_target=False)


def main():
    torch.set_num_threads(1)
    # kl_div's reduction="mean" warns that it is not the KL divergence; the fixture wants it anyway.
    warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")
    regression_cases()
    classification_cases()
    binary_cases()
    margin_cases()
    kl_cases()

    if not os.path.isdir(os.path.join("tests", "reference")):
        sys.exit("run from the repository root: /usr/bin/python3 tools/gen_reference_losses.py")
    lines = [json.dumps(c, separators=(",", ":"), allow_nan=False) for c in CASES]
    header = json.dumps({"format": 1, "generator": "tools/gen_reference_losses.py",
                         "torch_version": torch.__version__})
    text = header[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    ops = sorted({c["op"] for c in CASES})
    print(f"wrote {OUT_PATH}: {len(CASES)} cases, {len(ops)} losses, {len(text)} bytes")


if __name__ == "__main__":
    main()
