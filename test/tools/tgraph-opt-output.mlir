// -o never loses a file: the input is read first, so -o may name it, and the output is renamed
// into place only on success. Every failure is one line on stderr and exit code 1.
// RUN: cp %s %t.mlir
// RUN: tgraph-opt %t.mlir --cse -o %t.mlir
// RUN: filecheck %s --check-prefix=IN-PLACE < %t.mlir

// A failing pass, a missing input, input that is not UTF-8 or a bad option leave an existing output as it was.
// RUN: echo 'an earlier result' > %t.out
// RUN: not tgraph-opt %s --tg-generate-adjoint=func=missing -o %t.out
// RUN: not tgraph-opt %s.missing -o %t.out
// RUN: printf 'func.func @caf\351() {\n' > %t.latin1
// RUN: not tgraph-opt %t.latin1 -o %t.out 2>&1 | filecheck %s --check-prefix=UTF8
// RUN: not tgraph-opt %s --tg-plan-cpu-codegen=vector-width=-8 -o %t.out 2>&1 | filecheck %s --check-prefix=WIDTH
// RUN: filecheck %s --check-prefix=KEPT < %t.out

// Outputs that cannot be written.
// RUN: not tgraph-opt %s -o %t.no-such-dir/out.mlir 2>&1 | filecheck %s --check-prefix=NODIR
// RUN: mkdir -p %t.dir
// RUN: not tgraph-opt %s -o %t.dir 2>&1 | filecheck %s --check-prefix=ISDIR
// RUN: not tgraph-opt %s -o /dev/full 2>&1 | filecheck %s --check-prefix=FULL

// IN-PLACE: "tg.exp"
// IN-PLACE-NOT: "tg.exp"
// KEPT: an earlier result
// KEPT-NOT: {{.}}
// UTF8-NOT: Traceback
// UTF8: {{^}}tgraph-opt: error: cannot read {{.*}}.latin1: not UTF-8 text (byte 14 is 0xe9)
// UTF8-NOT: {{.}}
// WIDTH: {{^}}tgraph-opt: error: option 'vector-width' of pass 'tg-plan-cpu-codegen' must be 0 (from the host) or a power of two, not -8
// WIDTH-NOT: {{.}}
// NODIR-NOT: Traceback
// NODIR: {{^}}tgraph-opt: error: cannot write {{.*}}.no-such-dir/out.mlir: No such file or directory
// NODIR-NOT: {{.}}
// ISDIR-NOT: Traceback
// ISDIR: {{^}}tgraph-opt: error: cannot write {{.*}}.dir: Is a directory
// ISDIR-NOT: {{.}}
// FULL-NOT: Traceback
// FULL: {{^}}tgraph-opt: error: cannot write /dev/full: No space left on device
// FULL-NOT: {{.}}
func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.exp"(%a) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}
