"""A small CNN on the handwritten digits: conv 3x3 (8 channels, padding 1), relu, 2x2 max-pool,
linear to 10 classes; trained with minibatch Adam through a compiled value_and_grad."""

import sys

import numpy as np

import tgraph as tg
from digits import train


def logits(x, kernel, bias, w, b):
    h = tg.max_pool2d(tg.relu(tg.conv2d(x, kernel, bias, padding=1)), 2)
    return h.reshape(h.shape[0], -1) @ w + b


def loss(x, kernel, bias, w, b, labels):
    return tg.cross_entropy(logits(x, kernel, bias, w, b), labels)


def main(epochs=20, quiet=False):
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((8, 1, 3, 3)) * np.sqrt(2 / 9)).astype(np.float32), np.zeros(8, np.float32),
              (rng.standard_normal((128, 10)) * np.sqrt(1 / 128)).astype(np.float32), np.zeros(10, np.float32)]
    return train("digits_cnn", loss, logits, params, reshape=lambda x: x.reshape(-1, 1, 8, 8), epochs=epochs,
                 batch=64, lr=1e-2, quiet=quiet)


if __name__ == "__main__":
    accuracy = main(*(int(a) for a in sys.argv[1:]))
    sys.exit(0 if accuracy >= 0.95 else 1)
