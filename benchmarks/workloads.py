"""The workloads: their inputs (f32, the same seed for every system and process), the work one call
does (FLOPs or bytes moved) and the name of the builder each impl_<system> module defines for it."""

from dataclasses import dataclass

import numpy as np

MLP_BATCH, MLP_SIZES = 256, (784, 512, 512, 10)
CNN_BATCH = 64
ROWS, COLS = 4096, 1024
ELEMENTS = 4 * 1024 * 1024
RNN_STEPS, RNN_BATCH, RNN_HIDDEN, RNN_INPUT = 1000, 32, 256, 64
RNN_CHECKPOINT = 32  # the checkpointed variant saves every 32nd carry


@dataclass
class Workload:
    name: str          # key in the JSON
    title: str         # row of the table
    builder: str       # function of the impl_<system> modules: builder(inputs) -> a call
    make_inputs: object
    work: float = 0.0  # FLOPs or bytes per call
    unit: str = ""     # "GFLOP/s" or "GB/s" (work / time), or "" for none
    inner: int = 1     # calls per timed repetition (tiny calls are timed in batches)
    formula: str = ""  # how `work` was counted
    device: str = "cpu"  # "cuda": inputs and results on the GPU (systems whose impl has DEVICES with it)
    reference: str = ""  # impl_numpy's builder of the float64 reference, when not `builder`
    tolerance: float = 0.0  # largest relative error of a correct result, when not measure.TOLERANCE


def _normal(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _labels(rng, n, classes=10):
    return rng.integers(0, classes, n).astype(np.int32)


def mlp_inputs(rng):
    """x, then (weight, bias) per layer (He initialisation), then integer labels."""
    arrays = [_normal(rng, (MLP_BATCH, MLP_SIZES[0]))]
    for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        arrays += [_normal(rng, (fan_in, fan_out), np.sqrt(2 / fan_in)), _normal(rng, fan_out, 0.1)]
    return arrays + [_labels(rng, MLP_BATCH)]


def cnn_inputs(rng):
    """x (NCHW), conv1 weight (OIHW) and bias, conv2 weight and bias, linear weight and bias, labels."""
    return [_normal(rng, (CNN_BATCH, 1, 28, 28)),
            _normal(rng, (32, 1, 3, 3), np.sqrt(2 / 9)), _normal(rng, 32, 0.1),
            _normal(rng, (64, 32, 3, 3), np.sqrt(2 / 288)), _normal(rng, 64, 0.1),
            _normal(rng, (64 * 7 * 7, 10), np.sqrt(1 / 3136)), _normal(rng, 10, 0.1),
            _labels(rng, CNN_BATCH)]


def rnn_inputs(rng):
    """xs (steps, batch, input), W (hidden, hidden), U (input, hidden), b (hidden), then the target
    of the last hidden state (h0 = 0): h <- tanh(h W + x U + b), loss = mean((h_T - target)^2)."""
    return [_normal(rng, (RNN_STEPS, RNN_BATCH, RNN_INPUT)), _normal(rng, (RNN_HIDDEN, RNN_HIDDEN), 1 / np.sqrt(RNN_HIDDEN)),
            _normal(rng, (RNN_INPUT, RNN_HIDDEN), 1 / np.sqrt(RNN_INPUT)), _normal(rng, RNN_HIDDEN, 0.1),
            _normal(rng, (RNN_BATCH, RNN_HIDDEN), 0.5)]


TRANSFORMER = dict(batch=4, tokens=32, width=64, heads=4, hidden=256)


def transformer_inputs(rng):
    """x (batch, tokens, width); Wq, Wk, Wv, Wo (width, width); W1 (width, hidden), b1, W2 (hidden,
    width), b2; the target (batch, tokens, width). The block: h = x + attention(ln(x)),
    out = h + tanh(ln(h) W1 + b1) W2 + b2 (pre-norm, layer norms without affine, eps 1e-5),
    4 heads of softmax(q k^T / sqrt(16)) v; loss = mean((out - target)^2)."""
    t = TRANSFORMER
    b, n, d, f = t["batch"], t["tokens"], t["width"], t["hidden"]
    return ([_normal(rng, (b, n, d))] + [_normal(rng, (d, d), 1 / np.sqrt(d)) for _ in range(4)]
            + [_normal(rng, (d, f), 1 / np.sqrt(d)), _normal(rng, f, 0.1), _normal(rng, (f, d), 1 / np.sqrt(f)),
               _normal(rng, d, 0.1), _normal(rng, (b, n, d))])


def _rnn_flops():
    recurrent = 2 * RNN_BATCH * RNN_HIDDEN * RNN_HIDDEN * RNN_STEPS
    projection = 2 * RNN_BATCH * RNN_INPUT * RNN_HIDDEN * RNN_STEPS
    return 3 * recurrent + 2 * projection  # forward, dh @ W^T, h^T @ dh; x U forward and dU


def matmul_inputs(n):
    return lambda rng: [_normal(rng, (n, n)), _normal(rng, (n, n))]


def _mlp_flops():
    layers = [2 * MLP_BATCH * i * o for i, o in zip(MLP_SIZES[:-1], MLP_SIZES[1:])]
    return sum(layers), sum(layers) + sum(layers) + sum(layers[1:])


def _cnn_flops():
    conv1 = 2 * CNN_BATCH * 28 * 28 * 32 * 1 * 9
    conv2 = 2 * CNN_BATCH * 14 * 14 * 64 * 32 * 9
    linear = 2 * CNN_BATCH * 3136 * 10
    return 2 * conv1 + 3 * conv2 + 3 * linear


MLP_FORWARD_FLOPS, MLP_FLOPS = _mlp_flops()
MLP_FORMULA = ("matmuls only, 2*M*N*K each, B=256: forward 2B(784*512 + 512*512 + 512*10); the same again for "
               "the weight gradients; 2B(512*512 + 512*10) for the gradients of layers 2-3's inputs (none for x)")
CNN_FORMULA = ("2*N*H*W*O*C*9 per conv (N=64): conv1 (28x28, 1->32) forward and weight gradient; conv2 (14x14, "
               "32->64) forward, weight and input gradients; linear 3136->10 likewise")
SHEET = ROWS * COLS * 4  # bytes of one 4096x1024 f32 array
ADAM_LR = 1e-3  # mlp_train_step: Adam (b1 0.9, b2 0.999, eps 1e-8) from its initial state, one step
# bf16 keeps 8 bits of mantissa: a loss to about 0.4% and Adam's first step (lr * sign of each
# gradient) flips where a gradient is within rounding of zero, against the f64 reference.
BF16_TOLERANCE = 5e-2

WORKLOADS = [
    Workload("mlp_value_and_grad", "MLP 784-512-512-10 value_and_grad, batch 256", "mlp_value_and_grad",
             mlp_inputs, MLP_FLOPS, "GFLOP/s", formula=MLP_FORMULA),
    Workload("mlp_forward", "MLP loss forward", "mlp_forward", mlp_inputs, MLP_FORWARD_FLOPS, "GFLOP/s",
             formula="2B(784*512 + 512*512 + 512*10), B=256"),
    Workload("matmul_512", "matmul 512^3", "matmul", matmul_inputs(512), 2 * 512 ** 3, "GFLOP/s"),
    Workload("matmul_1024", "matmul 1024^3", "matmul", matmul_inputs(1024), 2 * 1024 ** 3, "GFLOP/s"),
    # the backward pass's forms: a weight gradient (Aᵀ·B) and an input gradient (A·Bᵀ)
    Workload("matmul_1024_tn", "matmul 1024^3, Aᵀ·B", "matmul_tn", matmul_inputs(1024), 2 * 1024 ** 3, "GFLOP/s"),
    Workload("matmul_1024_nt", "matmul 1024^3, A·Bᵀ", "matmul_nt", matmul_inputs(1024), 2 * 1024 ** 3, "GFLOP/s"),
    Workload("tanh_fma", "tanh(a*b + c), 4M", "tanh_fma", lambda rng: [_normal(rng, ELEMENTS) for _ in range(3)],
             4 * ELEMENTS * 4, "GB/s", formula="3 arrays read + 1 written, 4M f32 each"),
    Workload("softmax", "softmax over rows, 4096x1024", "softmax", lambda rng: [_normal(rng, (ROWS, COLS))],
             2 * SHEET, "GB/s", formula="one 4096x1024 f32 array read + one written"),
    Workload("cnn_value_and_grad", "CNN step value_and_grad, batch 64", "cnn_value_and_grad", cnn_inputs,
             _cnn_flops(), "GFLOP/s", formula=CNN_FORMULA),
    Workload("layer_norm", "layer norm, 4096x1024", "layer_norm", lambda rng: [_normal(rng, (ROWS, COLS))],
             2 * SHEET, "GB/s", formula="one 4096x1024 f32 array read + one written"),
    Workload("rnn_value_and_grad", f"RNN scan value_and_grad, {RNN_STEPS} steps, hidden {RNN_HIDDEN}, batch {RNN_BATCH}",
             "rnn_value_and_grad", rnn_inputs, _rnn_flops(), "GFLOP/s",
             formula="2*B*H*H per step for h W, dh W^T and h^T dh; 2*B*I*H per step for x U and dU (T=1000)"),
    Workload("rnn_value_and_grad_checkpoint", f"the same, checkpoint={RNN_CHECKPOINT} (tgraph only)",
             "rnn_value_and_grad_checkpoint", rnn_inputs, _rnn_flops(), "GFLOP/s", reference="rnn_value_and_grad"),
    Workload("mlp_train_step", f"MLP train step: value_and_grad and Adam (lr {ADAM_LR:g}), one compiled function",
             "mlp_train_step", mlp_inputs, MLP_FLOPS, "GFLOP/s", formula=MLP_FORMULA),
    Workload("mlp_train_step_bf16", "the same, bf16 matmuls (f32 accumulation, master weights and softmax)",
             "mlp_train_step_bf16", mlp_inputs, MLP_FLOPS, "GFLOP/s", formula=MLP_FORMULA,
             reference="mlp_train_step", tolerance=BF16_TOLERANCE),
    Workload("per_example_grads", "per-example gradients of the MLP, vmap(grad), batch 256", "per_example_grads",
             mlp_inputs, MLP_FLOPS, "GFLOP/s", formula=MLP_FORMULA),
    Workload("small_call", "per-call overhead, x*y + 1 on 4 elements", "small_call",
             lambda rng: [_normal(rng, 4), _normal(rng, 4)], inner=200),
    # On the GPU: inputs already on the device, each call waits for its results there.
    Workload("gpu_mlp_value_and_grad", "GPU: MLP 784-512-512-10 value_and_grad, batch 256", "mlp_value_and_grad",
             mlp_inputs, MLP_FLOPS, "GFLOP/s", formula=MLP_FORMULA, device="cuda"),
    Workload("gpu_matmul_4096", "GPU: matmul 4096^3", "matmul", matmul_inputs(4096), 2 * 4096 ** 3, "GFLOP/s",
             device="cuda"),
    Workload("gpu_softmax", "GPU: softmax over rows, 4096x1024", "softmax", lambda rng: [_normal(rng, (ROWS, COLS))],
             2 * SHEET, "GB/s", formula="one 4096x1024 f32 array read + one written", device="cuda"),
]

# "first_call": the first call of the MLP value_and_grad in a fresh process (first_call.py), two rows.
# (row, title, program, cache, timed): each program runs cold (a new empty cache) then warm (a new
# process given that cache); `timed` is "compile" (building the call to its first result) or
# "import" (that and importing the system, numpy already imported).
FIRST_CALL = [
    ("first_call_cold", "first call of MLP value_and_grad, new process, empty cache", "mlp", "cold", "compile"),
    ("first_call_cold_import", "the same, its import included", "mlp", "cold", "import"),
    ("first_call_warm", "the same, new process reusing that cache", "mlp", "warm", "compile"),
    ("transformer_first_call_cold", "first call of a transformer block's value_and_grad (4x32 tokens, width 64, "
     "4 heads), empty cache, import included", "transformer", "cold", "import"),
]
FIRST_CALL_PROGRAMS = {"mlp": ("mlp_value_and_grad", mlp_inputs), "transformer": ("transformer_value_and_grad",
                                                                                   transformer_inputs)}
# "compile_chain": the compile time of a 2,000-op chain's value_and_grad (compile_chain.py), tgraph only.
COMPILE_CHAIN = ("compile_chain", "compile time: value_and_grad of a 2,000-op elementwise chain, no cache")
# "scan_costs": compile time of a 10- and a 10,000-step scan's value_and_grad, and the peak memory of the
# RNN's reverse pass with and without checkpoint (scan_costs.py), in new processes.
SCAN_COSTS = "scan_costs"
# "checkpoint_memory": the peak memory and time of a 16-layer MLP's value_and_grad with and without
# checkpointing, tgraph, JAX and PyTorch, in new processes (checkpoint_memory.py): a table of its own.
CHECKPOINT_MEMORY = "checkpoint_memory"
# "distributed": data parallel on MPI, 1 and 2 processes under mpiexec (distributed.py): a table of its own.
DISTRIBUTED = "distributed"
NAMES = [w.name for w in WORKLOADS] + ["first_call", COMPILE_CHAIN[0], SCAN_COSTS, CHECKPOINT_MEMORY, DISTRIBUTED]

BY_NAME = {w.name: w for w in WORKLOADS}


def inputs_of(workload, seed=0):
    return workload.make_inputs(np.random.default_rng(seed))
