#!/usr/bin/python3
"""safetensors files between descent and PyTorch, without the `safetensors` package.

Run with Debian's Python, which has torch (the pyenv ``python3`` on PATH does not). ``load`` and
``save`` below are the whole format: an 8-byte little-endian header length, a JSON header, the raw
little-endian data. Copy them to read descent's weights in any PyTorch program:

    tensors, metadata = load("model.safetensors")
    model.load_state_dict(tensors)

As a program it is the PyTorch half of the interop test (tests/io/safetensors_interop.sh; descent's
half is tests/io/safetensors_interop_tool.cpp):

    /usr/bin/python3 tools/safetensors_interop.py check DIR   # read what descent wrote, compare
    /usr/bin/python3 tools/safetensors_interop.py write DIR   # write files for descent to read

Exit status: 0 when everything agrees, 1 on a disagreement, 77 (the test is skipped) when torch
cannot be imported.
"""

import json
import math
import struct
import sys

try:
    import torch
except ImportError:
    print("SKIP: this Python cannot import torch", file=sys.stderr)
    sys.exit(77)

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


def load(path):
    """Returns ({name: tensor}, {metadata}); checks that the byte ranges tile the data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, ranges = {}, []
    for name, spec in header.items():
        begin, end = spec["data_offsets"]
        dtype, shape = DTYPES[spec["dtype"]], spec["shape"]
        ranges.append((begin, end))
        if begin == end:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
    covered = 0
    for begin, end in sorted(ranges):
        assert begin == covered, f"{path}: bytes [{covered}, {begin}) uncovered or overlapping"
        covered = end
    assert covered == len(data), f"{path}: {len(data) - covered} bytes after the last tensor"
    return tensors, metadata


def save(path, tensors, metadata=None):
    """Writes the tensors in key order, the header padded with spaces to 8 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        blob = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- the interop test -------------------------------------------------------------------------------

failures = []


def build(layers):
    modules = []
    for layer in layers:
        if layer["type"] == "Linear":
            modules.append(torch.nn.Linear(layer["in"], layer["out"]))
        else:
            modules.append(getattr(torch.nn, layer["type"])())
    return torch.nn.Sequential(*modules)


def encode(v):
    """A float for JSON: NaN and infinities as strings."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def same(got, want):
    if isinstance(want, str):
        return math.isnan(got) if want == "nan" else got == (math.inf if want == "inf" else -math.inf)
    return got == want and math.copysign(1, got) == math.copysign(1, want)


def check(work):
    """Loads descent's model into an equivalent torch.nn.Sequential and compares the outputs; checks
    every tensor of descent_dtypes against the values descent listed in descent_dtypes.json."""
    state, metadata = load(f"{work}/descent_model.safetensors")
    model = build(json.loads(metadata["layers"]))
    model.load_state_dict(state)  # strict: every key and shape must match PyTorch's
    io, _ = load(f"{work}/descent_io.safetensors")
    with torch.no_grad():
        out = model(io["input"])
    if not torch.allclose(out, io["output"], rtol=0, atol=1e-5):
        failures.append(f"forward pass differs: max |torch - descent| = {(out - io['output']).abs().max().item()}")

    tensors, metadata = load(f"{work}/descent_dtypes.safetensors")
    if metadata != {"written_by": "descent"}:
        failures.append(f"metadata {metadata}")
    with open(f"{work}/descent_dtypes.json") as f:
        expected = json.load(f)
    for name, spec in expected.items():
        t = tensors[name]
        if NAMES[t.dtype] != spec["dtype"] or list(t.shape) != spec["shape"]:
            failures.append(f"{name}: {NAMES[t.dtype]} {list(t.shape)} vs {spec['dtype']} {spec['shape']}")
            continue
        got = t.reshape(-1).tolist()
        for i, (g, w) in enumerate(zip(got, spec["values"])):
            if not same(g, w):
                failures.append(f"{name} element {i}: torch read {g}, descent wrote {w}")
    print(f"PyTorch read descent's model (outputs agree) and {len(expected)} tensors")


def write(work):
    """Writes a torch model with its output on an input, and a tensor of every dtype with the
    values listed in torch_dtypes.json."""
    torch.manual_seed(0)
    layers = [{"type": "Linear", "in": 6, "out": 12}, {"type": "Sigmoid"}, {"type": "Linear", "in": 12, "out": 4},
              {"type": "Tanh"}, {"type": "Linear", "in": 4, "out": 2}]
    model = build(layers)
    x = torch.randn(9, 6)
    with torch.no_grad():
        y = model(x)
    save(f"{work}/torch_model.safetensors", model.state_dict(), {"format": "pt", "layers": json.dumps(layers)})
    save(f"{work}/torch_io.safetensors", {"input": x, "output": y})

    inf, nan = float("inf"), float("nan")
    halves = torch.tensor([0, 0x8000, 0x3c00, 0xc000, 0x3555, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff,
                           0x7c00, 0xfc00, 0x7e00], dtype=torch.int32).to(torch.int16).view(torch.float16)
    tensors = {
        "f16_specials": halves,  # zeros, subnormals, the largest, infinities, NaN, bit by bit
        "f16_matrix": torch.randn(3, 4).half(),
        "bf16_specials": torch.tensor([1.0, -123.5, 1e-40, -0.0, inf, -inf, nan, 3e38], dtype=torch.bfloat16),
        "f32_transposed": torch.randn(4, 3).t(),
        "f32_scalar": torch.tensor(2.5),
        "f32_empty": torch.zeros(2, 0),
        "f64_values": torch.tensor([math.pi, -1e-300, 5e-324, 1e300], dtype=torch.float64),
        "i64_extremes": torch.tensor([-2**63, -1, 0, 2**63 - 1], dtype=torch.int64),
        "i32": torch.tensor([[-2**31, -1], [0, 2**31 - 1]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
    }
    save(f"{work}/torch_dtypes.safetensors", tensors, {"written_by": "torch"})
    expected = {}
    for name, t in tensors.items():
        values = t.reshape(-1).double().tolist() if t.is_floating_point() else t.reshape(-1).long().tolist()
        expected[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": [encode(v) for v in values]}
    with open(f"{work}/torch_dtypes.json", "w") as f:
        json.dump(expected, f, indent=1)
    print(f"PyTorch wrote a model and {len(tensors)} tensors to {work}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("check", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    {"check": check, "write": write}[sys.argv[1]](sys.argv[2])
    for failure in failures:
        print("MISMATCH:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
