"""Fashion-MNIST for the PyTorch side of the benchmarks, prepared as descent's benchmarks do.

Reads the gzip'd IDX files (Debian's dataset-fashion-mnist) and standardizes the images with the
mean and standard deviation of the whole training set (descent's Scaler, Standardize, global), so
both frameworks train on the same numbers.
"""

import gzip
import time

import numpy as np
import torch


def read_idx(path):
    """An IDX file of unsigned bytes as a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_training_set(data_dir):
    """(images float32 [60000, 28, 28] standardized, labels int64 [60000], seconds it took)."""
    t = time.perf_counter()
    images = read_idx(f"{data_dir}/train-images-idx3-ubyte.gz").astype(np.float32)
    labels = read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz").astype(np.int64)
    mean, std = images.mean(dtype=np.float64), images.std(dtype=np.float64)
    images = torch.from_numpy((images - mean) / std).float().contiguous()
    return images, torch.from_numpy(labels), time.perf_counter() - t
