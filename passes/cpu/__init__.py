"""The CPU pipeline (tg-cpu-pipeline) and its passes: codegen strategies as transform scripts,
bufferized loops, the LLVM dialect for the JIT."""
