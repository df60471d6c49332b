// RUN: tgraph-opt %s --tg-record-allocations | filecheck %s

// Bytes of the largest buffer and of all of them (runtime checks before calling a function with huge buffers).
// CHECK: module attributes {tg.largest_allocation = 40000000000 : i64, tg.total_allocation = 40000000064 : i64}
func.func @f() {
  %a = memref.alloc() {alignment = 64 : i64} : memref<100000x100000xf32>
  %b = memref.alloc() : memref<8xf64>
  memref.dealloc %a : memref<100000x100000xf32>
  memref.dealloc %b : memref<8xf64>
  return
}
