"""What the digits examples share: the data set that ships inside scikit-learn (8x8 images of
handwritten digits, 1797 samples, no download), Adam, and a training loop around a compiled
`value_and_grad` with a progress bar, a loss curve and the IR of every stage written out."""

import os
import time

import numpy as np

import tgraph as tg

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out")


def load_digits(test_fraction=0.2, seed=0):
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1] as f32, labels as i32."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    data = sklearn_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return x_train, y_train, x_test, y_test


class Adam:
    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.betas
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= self.lr * (m / (1 - b1 ** self.t)) / (np.sqrt(v / (1 - b2 ** self.t)) + self.eps)


def train(name, loss_fn, logits_fn, params, reshape, epochs, batch, lr, seed=0, quiet=False, target="cpu"):
    """Minibatch Adam on the digits with a compiled value_and_grad; returns the test accuracy."""
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = load_digits()
    x_train, x_test = reshape(x_train), reshape(x_test)
    param_specs = [tg.TensorSpec.of(p) for p in params]
    start = time.perf_counter()
    step = tg.compile_scalar(loss_fn, [tg.f32[(batch,) + x_train.shape[1:]], *param_specs, tg.i32[batch]],
                             wrt=range(1, 1 + len(params)), target=target)
    predict = tg.compile_out(logits_fn, [tg.f32[x_test.shape], *param_specs], target=target)
    step.value_and_grad(x_train[:batch], *params, y_train[:batch])  # compile now, to time it apart
    print(f"{name} ({target}): compiled value_and_grad in {time.perf_counter() - start:.2f} s "
          f"({len(x_train)} training and {len(x_test)} test images, batch {batch})")

    rng = np.random.default_rng(seed)
    optimizer = Adam(params, lr=lr)
    losses = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        batches = [order[i:i + batch] for i in range(0, len(order) - batch + 1, batch)]  # static shapes: full batches
        bar = tqdm(batches, desc=f"epoch {epoch:2d}/{epochs}", leave=False, unit="batch", disable=quiet)
        for idx in bar:
            loss, grads = step.value_and_grad(x_train[idx], *params, y_train[idx])
            optimizer.step(params, [np.asarray(g) for g in grads[1:]])  # on the GPU: copied to the host
            losses.append(loss)
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        accuracy = float(np.mean(np.argmax(np.asarray(predict.forward(x_test, *params)), axis=1) == y_test))
        print(f"epoch {epoch:2d}/{epochs}  loss {np.mean(losses[-len(batches):]):.4f}  test accuracy {accuracy:.2%}")
    print(f"{name}: trained in {time.perf_counter() - start:.1f} s; test accuracy {accuracy:.2%}")
    save_outputs(name, step, losses)
    return accuracy


def save_outputs(name, step, losses):
    stages = step.stages
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(OUT, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(losses, lw=0.8)
    ax.set(xlabel="step", ylabel="cross-entropy (minibatch)", yscale="log", title=f"{name}: training loss")
    fig.tight_layout()
    png = os.path.join(OUT, f"{name}_loss.png")
    fig.savefig(png, dpi=120)
    plt.close(fig)
    ir_dir = os.path.join(OUT, f"{name}_ir")
    os.makedirs(ir_dir, exist_ok=True)
    for stage in stages:
        with open(os.path.join(ir_dir, f"{stage}.mlir"), "w") as f:
            f.write(step.ir(stage, entry="value_and_grad"))
    print(f"loss curve: {os.path.relpath(png)}")
    print(f"IR of each stage of value_and_grad: {os.path.relpath(ir_dir)}/{{{','.join(stages)}}}.mlir")
    print("  in Python: step.ir(stage, entry='value_and_grad') for stage in " + ", ".join(stages) + ";")
    print("  step.pass_log('value_and_grad') gives the IR after every pass; TGRAPH_PRINT_IR_AFTER_ALL=1 prints it as it runs")
