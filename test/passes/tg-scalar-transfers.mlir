// RUN: tgraph-opt %s --tg-scalar-transfers | filecheck %s

// 0-d transfers become a scalar load and broadcast, and an extract and store; others stay.
// CHECK-LABEL: func.func @f
// CHECK: %[[E:.*]] = memref.load %arg0[%c0] : memref<1xf32, strided<[9], offset: ?>>
// CHECK: vector.broadcast %[[E]] : f32 to vector<f32>
// CHECK: vector.transfer_read %arg1
// CHECK: %[[S:.*]] = vector.extract %{{.*}}[] : f32 from vector<f32>
// CHECK: memref.store %[[S]], %arg2[%c0, %c0] : memref<2x2xf32>
func.func @f(%a: memref<1xf32, strided<[9], offset: ?>>, %b: memref<8xf32>, %c: memref<2x2xf32>) -> (vector<f32>, vector<8xf32>) {
  %c0 = arith.constant 0 : index
  %pad = ub.poison : f32
  %0 = vector.transfer_read %a[%c0], %pad : memref<1xf32, strided<[9], offset: ?>>, vector<f32>
  %1 = vector.transfer_read %b[%c0], %pad {in_bounds = [true]} : memref<8xf32>, vector<8xf32>
  vector.transfer_write %0, %c[%c0, %c0] : vector<f32>, memref<2x2xf32>
  return %0, %1 : vector<f32>, vector<8xf32>
}
