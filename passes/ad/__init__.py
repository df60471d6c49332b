"""The AD passes: forward mode (tg-generate-tangent), reverse mode (tg-generate-adjoint) and the
Hessian (tg-generate-hessian), generating tg functions that can be differentiated again."""

from . import calls  # noqa: F401  (registers the rules for func.call: custom rules, checkpoints)
