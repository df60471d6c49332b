"""What the digits examples share: the data set that ships inside scikit-learn (8x8 images of
handwritten digits, 1797 samples, no download) and a training loop around one compiled train step
(forward, backward and tg.optim.adam) with a progress bar, a loss curve and the IR of every stage
written out."""

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


def train(name, loss_fn, logits_fn, params, reshape, epochs, batch, lr, seed=0, quiet=False, target="cpu"):
    """Minibatch Adam on the digits, each step one compiled function (forward, backward and the
    tg.optim.adam update); returns the test accuracy."""
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = load_digits()
    x_train, x_test = reshape(x_train), reshape(x_test)
    optimizer = tg.optim.adam(lr)

    # On the CPU the parameters and Adam's state are donated: each step updates them in place.
    @tg.jit(target=target, donate_argnums=(0, 1) if target == "cpu" else ())
    def train_step(params, opt_state, x, labels):
        value, grads = tg.value_and_grad(lambda ps: loss_fn(x, *ps, labels))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return tg.optim.apply_updates(params, updates), opt_state, value

    start = time.perf_counter()
    params, opt_state = [p.copy() for p in params], optimizer.init(params)  # the copies are donated
    step = train_step.compiled(params, opt_state, x_train[:batch], y_train[:batch])  # compile now, to time it apart
    predict = tg.compile_out(logits_fn, [tg.f32[x_test.shape], *[tg.TensorSpec.of(p) for p in params]], target=target)
    print(f"{name} ({target}): compiled the train step in {time.perf_counter() - start:.2f} s "
          f"({len(x_train)} training and {len(x_test)} test images, batch {batch})")

    rng = np.random.default_rng(seed)
    losses = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        batches = [order[i:i + batch] for i in range(0, len(order) - batch + 1, batch)]  # static shapes: full batches
        bar = tqdm(batches, desc=f"epoch {epoch:2d}/{epochs}", leave=False, unit="batch", disable=quiet)
        for idx in bar:
            params, opt_state, loss = train_step(params, opt_state, x_train[idx], y_train[idx])
            losses.append(float(loss))  # on the GPU: parameters and state stay there, the loss is read back
            bar.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
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
    stages = [stage for stage in stages if stage not in ("tangent", "adjoint")]  # the step is run forward only
    for stage in stages:
        with open(os.path.join(ir_dir, f"{stage}.mlir"), "w") as f:
            f.write(step.ir(stage, entry="forward"))
    print(f"loss curve: {os.path.relpath(png)}")
    print(f"IR of each stage of the train step: {os.path.relpath(ir_dir)}/{{{','.join(stages)}}}.mlir")
    print("  in Python: train_step.compiled(*args).ir(stage) for stage in " + ", ".join(stages) + ";")
    print("  .pass_log('forward') gives the IR after every pass; TGRAPH_PRINT_IR_AFTER_ALL=1 prints it as it runs")
