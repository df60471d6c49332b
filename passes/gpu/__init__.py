"""The GPU pipeline (tg-gpu-pipeline) and its passes: every linalg op a kernel, gpu.launch, NVVM."""
