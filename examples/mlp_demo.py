"""The main job, for now: build an MLP classifier's loss (softmax cross-entropy) as a tg graph,
print its IR, and evaluate it with the reference interpreter."""

import numpy as np

import tgraph as tg

BATCH, IN, HIDDEN, CLASSES = 32, 64, 128, 10


def mlp_loss(x, w1, b1, w2, b2, labels):
    hidden = tg.relu(x @ w1 + b1)
    logits = hidden @ w2 + b2
    return tg.cross_entropy(logits, labels)


def main():
    graph = tg.trace(mlp_loss, [tg.f32[BATCH, IN], tg.f32[IN, HIDDEN], tg.f32[HIDDEN],
                                tg.f32[HIDDEN, CLASSES], tg.f32[CLASSES], tg.i32[BATCH]])
    print(graph)

    rng = np.random.default_rng(0)
    params = [rng.standard_normal((IN, HIDDEN)) * np.sqrt(2 / IN), np.zeros(HIDDEN),
              rng.standard_normal((HIDDEN, CLASSES)) * np.sqrt(2 / HIDDEN), np.zeros(CLASSES)]
    x = rng.standard_normal((BATCH, IN))
    labels = rng.integers(0, CLASSES, BATCH)
    loss = graph(x.astype(np.float32), *[p.astype(np.float32) for p in params], labels.astype(np.int32))
    print(f"// {graph!r}")
    print(f"// loss on random data (reference interpreter): {float(loss):.4f} (log {CLASSES} = {np.log(CLASSES):.4f})")
    print("// run it through tgraph-opt:  .venv/bin/python examples/mlp_demo.py | .venv/bin/tgraph-opt --cse")


if __name__ == "__main__":
    main()
