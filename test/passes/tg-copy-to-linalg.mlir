// RUN: tgraph-opt %s --tg-copy-to-linalg | filecheck %s

// Every memref.copy becomes a linalg.copy (a kernel on the GPU), between identity layouts too,
// unlike tg-strided-copy-to-linalg.
// CHECK-LABEL: func.func @copies
// CHECK-NOT: memref.copy
// CHECK: linalg.copy {{.*}}ins(%arg0 : memref<4x8xf32>) outs(%arg1 : memref<4x8xf32>)
// CHECK-NEXT: %[[V:.*]] = memref.subview %arg0[0, 4] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 4>>
// CHECK-NEXT: linalg.copy {{.*}}ins(%[[V]] : memref<4x4xf32, strided<[8, 1], offset: 4>>) outs(%arg2 : memref<4x4xf32>)
// CHECK-NEXT: return
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x4xf32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  %v = memref.subview %a[0, 4] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 4>>
  memref.copy %v, %c : memref<4x4xf32, strided<[8, 1], offset: 4>> to memref<4x4xf32>
  return
}
