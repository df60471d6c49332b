// RUN: tgraph-opt %s --tg-strided-copy-to-linalg | filecheck %s

// A memref.copy from or to a non-identity layout becomes a linalg.copy (lowered to loops, not a
// runtime library call); a copy between identity layouts stays a memref.copy.
// CHECK-LABEL: func.func @strided
// CHECK-NOT: memref.copy
// CHECK: %[[V:.*]] = memref.subview %arg0[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
// CHECK-NEXT: linalg.copy {{.*}}ins(%[[V]] : memref<4x4xf32, strided<[8, 1], offset: 2>>) outs(%arg1 : memref<4x4xf32>)
// CHECK-NEXT: %[[T:.*]] = memref.transpose %arg1 (d0, d1) -> (d1, d0) : memref<4x4xf32> to memref<4x4xf32, strided<[1, 4]>>
// CHECK-NEXT: linalg.copy {{.*}}ins(%arg2 : memref<4x4xf32>) outs(%[[T]] : memref<4x4xf32, strided<[1, 4]>>)
// CHECK-NOT: memref.copy
// CHECK: return
func.func @strided(%a: memref<4x8xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  %v = memref.subview %a[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  memref.copy %v, %b : memref<4x4xf32, strided<[8, 1], offset: 2>> to memref<4x4xf32>
  %t = memref.transpose %b (i, j) -> (j, i) : memref<4x4xf32> to memref<4x4xf32, strided<[1, 4]>>
  memref.copy %c, %t : memref<4x4xf32> to memref<4x4xf32, strided<[1, 4]>>
  return
}

// CHECK-LABEL: func.func @contiguous
// CHECK-NEXT: memref.copy %arg0, %arg1 : memref<4x4xf32> to memref<4x4xf32>
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @contiguous(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32>
  return
}
