// RUN: tgraph-opt %s --tg-limit-vector-isa=vector-width=8 | filecheck %s --check-prefix=AVX2
// RUN: tgraph-opt %s --tg-limit-vector-isa=vector-width=4 | filecheck %s --check-prefix=SSE
// RUN: tgraph-opt %s --tg-limit-vector-isa=vector-width=16 | filecheck %s --check-prefix=ANY
// REQUIRES: x86_64

// Defined functions get the features to turn off; declarations are left alone.
// AVX2-LABEL: llvm.func @f
// AVX2-SAME: target_features = #llvm.target_features<["-avx512f"]>
// SSE-LABEL: llvm.func @f
// SSE-SAME: target_features = #llvm.target_features<["-avx"]>
// ANY-LABEL: llvm.func @f
// ANY-NOT: target_features
// AVX2: llvm.func @expf(f32) -> f32
// AVX2-NOT: target_features
llvm.func @f(%x: f32) -> f32 {
  %y = llvm.call @expf(%x) : (f32) -> f32
  llvm.return %y : f32
}
llvm.func @expf(f32) -> f32
