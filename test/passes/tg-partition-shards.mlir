// RUN: tgraph-opt %s --tg-partition-shards | filecheck %s

// A matmul whose contracted dimension is split over a grid of 2 processes: each process gets its
// blocks as arguments (8x8 of 8x16 and 16x8), multiplies them and all-reduces the partial
// products through MPI; the grid is gone.
// CHECK-NOT: shard.
// CHECK-LABEL: func.func @row_parallel
// CHECK-SAME: (%{{.*}}: tensor<8x8xf32>, %{{.*}}: tensor<8x8xf32>) -> tensor<8x8xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x8xf32>, tensor<8x8xf32>)
// CHECK: mpi.comm_world
// CHECK: mpi.allreduce({{.*}}, MPI_SUM, {{.*}}) : memref<8x8xf32>, memref<8x8xf32>
// CHECK-NOT: shard.
shard.grid @grid(shape = 2)
func.func @row_parallel(%a: tensor<8x16xf32>, %b: tensor<16x8xf32>) -> tensor<8x8xf32> {
  %sa = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %a1 = shard.shard %a to %sa : tensor<8x16xf32>
  %sb = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %b1 = shard.shard %b to %sb : tensor<16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %c = linalg.matmul ins(%a1, %b1 : tensor<8x16xf32>, tensor<16x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %sc = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %c1 = shard.shard %c to %sc annotate_for_users : tensor<8x8xf32>
  return %c1 : tensor<8x8xf32>
}
