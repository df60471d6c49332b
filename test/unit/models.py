"""Small models, the ones the derivative tests and the compiled-object tests share.

Each model: a name, a function from tensors to a scalar loss (floating-point inputs first), input
specs, and an input generator (labels and indices drawn in range, keys fixed)."""

from dataclasses import dataclass
from typing import Callable

import numpy as np

import tgraph as tg


@dataclass
class Model:
    name: str
    fn: Callable
    specs: list
    make_inputs: Callable  # rng -> list of arrays matching specs


def mlp(x, w1, b1, w2, b2, labels):
    hidden = tg.relu(x @ w1 + b1)
    return tg.cross_entropy(hidden @ w2 + b2, labels)


def cnn(x, k1, k2, w, labels):
    h = tg.max_pool2d(tg.relu(tg.conv2d(x, k1, padding=1)), 2)
    h = tg.max_pool2d(tg.relu(tg.conv2d(h, k2)), 2)
    return tg.cross_entropy(h.reshape(h.shape[0], -1) @ w, labels)


def layer_norm(x, gamma, beta):
    return tg.sum(tg.tanh(tg.layer_norm(x, gamma, beta)))


def attention(x, wq, wk, wv):
    """Single-head self-attention over a (tokens, dim) sequence."""
    q, k, v = x @ wq, x @ wk, x @ wv
    scores = tg.softmax(q @ k.T / np.sqrt(q.shape[-1]), axis=-1)
    out = (scores @ v).reshape(1, -1)
    return tg.sum(out * out)


def embedding_mean(table, tokens):
    return tg.sum(tg.mean(tg.embedding(tokens, table), axis=1) ** 2)


def dropout(x, w):
    return tg.mean(tg.dropout(tg.tanh(x @ w), 0.25, key=42) ** 2)  # a fixed key: the same mask every call


def _normal(rng, *shapes, scale=1.0):
    return [rng.standard_normal(s) * scale for s in shapes]


MODELS = [
    Model("mlp", mlp, [tg.f32[4, 6], tg.f32[6, 5], tg.f32[5], tg.f32[5, 3], tg.f32[3], tg.i32[4]],
          lambda rng: _normal(rng, (4, 6), (6, 5), (5,), (5, 3), (3,)) + [rng.integers(0, 3, 4)]),
    Model("cnn", cnn, [tg.f32[2, 1, 8, 8], tg.f32[3, 1, 3, 3], tg.f32[4, 3, 3, 3], tg.f32[4, 3], tg.i32[2]],
          lambda rng: _normal(rng, (2, 1, 8, 8), (3, 1, 3, 3), (4, 3, 3, 3), (4, 3)) + [rng.integers(0, 3, 2)]),
    Model("layer_norm", layer_norm, [tg.f32[3, 5], tg.f32[5], tg.f32[5]],
          lambda rng: _normal(rng, (3, 5), (5,), (5,))),
    Model("attention", attention, [tg.f32[4, 6], tg.f32[6, 3], tg.f32[6, 3], tg.f32[6, 3]],
          lambda rng: _normal(rng, (4, 6), (6, 3), (6, 3), (6, 3), scale=0.7)),
    Model("embedding_mean", embedding_mean, [tg.f32[7, 4], tg.i32[3, 5]],
          lambda rng: _normal(rng, (7, 4)) + [rng.integers(0, 7, (3, 5))]),
    Model("dropout", dropout, [tg.f32[4, 5], tg.f32[5, 6]], lambda rng: _normal(rng, (4, 5), (5, 6))),
]
