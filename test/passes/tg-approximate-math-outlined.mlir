// RUN: tgraph-opt %s --tg-approximate-math=outline-above=2 | filecheck %s

// More sin/cos in one block than outline-above: each becomes a call to one private, noinline,
// internal function per op and type, whose body holds the expansion and its branch (so the block
// is not split once per op). A block with fewer keeps them inline.
// CHECK-LABEL: func.func @many(
// CHECK-NOT: math.
// CHECK-NOT: scf.if
// CHECK: call @tg_sin_vector_8xf32(%arg0) : (vector<8xf32>) -> vector<8xf32>
// CHECK: call @tg_cos_vector_8xf32(%{{.*}}) : (vector<8xf32>) -> vector<8xf32>
// CHECK: call @tg_sin_vector_8xf32(%{{.*}}) : (vector<8xf32>) -> vector<8xf32>
// CHECK: call @tg_sin_f32(%arg1) : (f32) -> f32
// CHECK: return
func.func @many(%x: vector<8xf32>, %s: f32) -> (vector<8xf32>, f32) {
  %0 = math.sin %x : vector<8xf32>
  %1 = math.cos %0 : vector<8xf32>
  %2 = math.sin %1 : vector<8xf32>
  %3 = math.sin %s : f32
  return %2, %3 : vector<8xf32>, f32
}

// CHECK-LABEL: func.func @few(
// CHECK-NOT: call
// CHECK: scf.if
// CHECK: return
func.func @few(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.sin %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// CHECK: func.func private @tg_sin_vector_8xf32(%arg0: vector<8xf32>) -> vector<8xf32>
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, llvm.no_inline}
// CHECK: scf.if
// CHECK: return
// CHECK: func.func private @tg_cos_vector_8xf32(
// CHECK: func.func private @tg_sin_f32(%arg0: f32) -> f32
