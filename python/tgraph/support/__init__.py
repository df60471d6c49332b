"""The bottom layer, which every other imports and which imports nothing of tgraph: the MLIR
bindings (`mlir`), element types and tensor specs (`dtypes`), the error classes and how errors
are raised from the user's line (`errors`), and the description of the CPU code is made for
(`target`)."""
