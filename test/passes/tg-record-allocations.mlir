// RUN: tgraph-opt %s --tg-record-allocations | filecheck %s
// RUN: tgraph-opt %s --tg-record-allocations="count=true" | filecheck %s --check-prefix=COUNT

// Bytes of the largest buffer and of all of them (runtime checks before calling a function with huge buffers).
// The peak: the most bytes live at once, in program order (%c is allocated after %a is freed).
// CHECK: module attributes {tg.largest_allocation = 40000000000 : i64, tg.peak_allocation = 40000000064 : i64, tg.total_allocation = 40000000080 : i64}
// With count=true, a global counts the allocations at run time: one atomic add before each.
// COUNT: memref.global @tg_allocation_count : memref<i64> = dense<0>
// COUNT-LABEL: func.func @f
// COUNT: %[[G:.*]] = memref.get_global @tg_allocation_count : memref<i64>
// COUNT-NEXT: memref.atomic_rmw addi %{{.*}}, %[[G]][] : (i64, memref<i64>) -> i64
// COUNT-NEXT: memref.alloc() {alignment = 64 : i64} : memref<100000x100000xf32>
func.func @f() {
  %a = memref.alloc() {alignment = 64 : i64} : memref<100000x100000xf32>
  %b = memref.alloc() : memref<8xf64>
  memref.dealloc %a : memref<100000x100000xf32>
  %c = memref.alloc() : memref<2xf64>
  memref.dealloc %b : memref<8xf64>
  memref.dealloc %c : memref<2xf64>
  return
}
