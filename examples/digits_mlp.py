"""`make demo`: train an MLP classifier (64-128-10, relu, softmax cross-entropy) on the handwritten
digits with minibatch Adam, using a compiled value_and_grad from the tgraph AD passes."""

import argparse
import sys

import numpy as np

import tgraph as tg
from digits import train


def logits(x, w1, b1, w2, b2):
    return tg.relu(x @ w1 + b1) @ w2 + b2


def loss(x, w1, b1, w2, b2, labels):
    return tg.cross_entropy(logits(x, w1, b1, w2, b2), labels)


def main(epochs=20, quiet=False, target="cpu"):
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((64, 128)) * np.sqrt(2 / 64)).astype(np.float32), np.zeros(128, np.float32),
              (rng.standard_normal((128, 10)) * np.sqrt(1 / 128)).astype(np.float32), np.zeros(10, np.float32)]
    return train("digits_mlp", loss, logits, params, reshape=lambda x: x, epochs=epochs, batch=64, lr=3e-3,
                 quiet=quiet, target=target)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("epochs", nargs="?", type=int, default=20)
    parser.add_argument("--target", choices=tg.compiled.TARGETS, default="cpu",
                        help="cuda: run on an NVIDIA GPU (needs tgraph[cuda] and a driver)")
    args = parser.parse_args()
    try:
        accuracy = main(args.epochs, target=args.target)
    except tg.TGraphError as err:
        sys.exit(f"digits_mlp: {err}")
    sys.exit(0 if accuracy >= 0.95 else 1)
