"""`make demo`: train an MLP classifier (64-128-10, relu, softmax cross-entropy) on the handwritten
digits with minibatch Adam, using a compiled value_and_grad from the tgraph AD passes.
`--precision bf16`: the matmuls read bf16 copies of their inputs and accumulate in f32 (the
master weights, biases and softmax stay f32): mixed-precision training."""

import argparse
import functools
import sys

import numpy as np

import tgraph as tg
from digits import train


def dense(h, w, b, precision="f32"):
    if precision == "bf16":  # bf16 inputs, f32 accumulation and result
        return tg.matmul(h.astype(tg.bf16), w.astype(tg.bf16), preferred_element_type=tg.f32) + b
    return h @ w + b


def logits(x, w1, b1, w2, b2, precision="f32"):
    return dense(tg.relu(dense(x, w1, b1, precision)), w2, b2, precision)


def loss(x, w1, b1, w2, b2, labels, precision="f32"):
    return tg.cross_entropy(logits(x, w1, b1, w2, b2, precision), labels)


def main(epochs=20, quiet=False, target="cpu", precision="f32"):
    rng = np.random.default_rng(0)
    params = [(rng.standard_normal((64, 128)) * np.sqrt(2 / 64)).astype(np.float32), np.zeros(128, np.float32),
              (rng.standard_normal((128, 10)) * np.sqrt(1 / 128)).astype(np.float32), np.zeros(10, np.float32)]
    name = "digits_mlp" + ("" if precision == "f32" else f"_{precision}")
    return train(name, functools.partial(loss, precision=precision), functools.partial(logits, precision=precision),
                 params, reshape=lambda x: x, epochs=epochs, batch=64, lr=3e-3, quiet=quiet, target=target)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("epochs", nargs="?", type=int, default=20)
    parser.add_argument("--target", choices=tg.compiled.TARGETS, default="cpu",
                        help="cuda: run on an NVIDIA GPU (needs tgraph[cuda] and a driver)")
    parser.add_argument("--precision", choices=("f32", "bf16"), default="f32",
                        help="bf16: bf16 matmuls accumulating in f32, f32 master weights")
    args = parser.parse_args()
    try:
        accuracy = main(args.epochs, target=args.target, precision=args.precision)
    except tg.TGraphError as err:
        sys.exit(f"digits_mlp: {err}")
    sys.exit(0 if accuracy >= 0.95 else 1)
