// Every tg op, printed, parsed and printed again: the text is stable and every op verifies.
// RUN: tgraph-opt %s | tgraph-opt | filecheck %s

// CHECK-LABEL: func.func @every_op(
// CHECK: "tg.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>} : () -> tensor<3xf32>
// CHECK-NEXT: "tg.splat"() {dtype = f32, shape = array<i64: 2, 3>, value = 5.000000e-01 : f64} : () -> tensor<2x3xf32>
// CHECK-NEXT: "tg.neg"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.abs"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.exp"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.log"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.sqrt"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.rsqrt"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.tanh"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.sigmoid"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.relu"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.sin"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.cos"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.softplus"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.add"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.sub"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.mul"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.div"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.pow"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.maximum"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.minimum"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.compare"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {direction = "lt"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
// CHECK-NEXT: "tg.select"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.broadcast_in_dim"(%{{[a-z0-9]+}}) {dims = array<i64: 1>, shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.reshape"(%{{[a-z0-9]+}}) {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
// CHECK-NEXT: "tg.transpose"(%{{[a-z0-9]+}}) {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.reverse"(%{{[a-z0-9]+}}) {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.slice"(%{{[a-z0-9]+}}) {limit = array<i64: 2, 3>, start = array<i64: 0, 1>, stride = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
// CHECK-NEXT: "tg.concat"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x5xf32>
// CHECK-NEXT: "tg.pad"(%{{[a-z0-9]+}}) {high = array<i64: 0, 2>, interior = array<i64: 0, 1>, low = array<i64: 1, 0>, value = 0.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<3x7xf32>
// CHECK-NEXT: "tg.reduce_sum"(%{{[a-z0-9]+}}) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
// CHECK-NEXT: "tg.reduce_max"(%{{[a-z0-9]+}}) {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
// CHECK-NEXT: "tg.dot_general"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: "tg.concat"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
// CHECK-NEXT: "tg.concat"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {axis = 1 : i64} : (tensor<2x6xf32>, tensor<2x3xf32>) -> tensor<2x9xf32>
// CHECK-NEXT: "tg.reshape"(%{{[a-z0-9]+}}) {shape = array<i64: 1, 1, 3, 6>} : (tensor<2x9xf32>) -> tensor<1x1x3x6xf32>
// CHECK-NEXT: "tg.slice"(%{{[a-z0-9]+}}) {limit = array<i64: 2, 2>, start = array<i64: 0, 0>, stride = array<i64: 1, 1>} : (tensor<3x4xf32>) -> tensor<2x2xf32>
// CHECK-NEXT: "tg.reshape"(%{{[a-z0-9]+}}) {shape = array<i64: 1, 1, 2, 2>} : (tensor<2x2xf32>) -> tensor<1x1x2x2xf32>
// CHECK-NEXT: "tg.conv2d"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x7xf32>
// CHECK-NEXT: "tg.max_pool2d"(%{{[a-z0-9]+}}) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>) -> tensor<1x1x2x5xf32>
// CHECK-NEXT: "tg.avg_pool2d"(%{{[a-z0-9]+}}) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>) -> tensor<1x1x2x5xf32>
// CHECK-NEXT: "tg.gather"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) : (tensor<3x4xf32>, tensor<5xi32>) -> tensor<5x4xf32>
// CHECK-NEXT: "tg.scatter_add"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {rows = 3 : i64} : (tensor<5xi32>, tensor<5x4xf32>) -> tensor<3x4xf32>
// CHECK-NEXT: "tg.cast"(%{{[a-z0-9]+}}) {dtype = f64} : (tensor<2x3xf32>) -> tensor<2x3xf64>
// CHECK-NEXT: "tg.stop_gradient"(%{{[a-z0-9]+}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.random_uniform"(%{{[a-z0-9]+}}) {dtype = f32, shape = array<i64: 2, 3>} : (tensor<i64>) -> tensor<2x3xf32>
// CHECK-NEXT: "tg.bernoulli"(%{{[a-z0-9]+}}) {p = 5.000000e-01 : f64, shape = array<i64: 2, 3>} : (tensor<i64>) -> tensor<2x3xi1>

module {
  func.func @every_op(%arg0: tensor<2x3xf32>, %arg1: tensor<3x4xf32>, %arg2: tensor<5xi32>, %arg3: tensor<i64>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x5xf32>, tensor<3x7xf32>, tensor<2xf32>, tensor<3xf32>, tensor<2x4xf32>, tensor<1x1x4x7xf32>, tensor<1x1x2x5xf32>, tensor<1x1x2x5xf32>, tensor<3x4xf32>, tensor<2x3xf64>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi1>) {
    %0 = "tg.constant"() {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>} : () -> tensor<3xf32>
    %1 = "tg.splat"() {dtype = f32, shape = array<i64: 2, 3>, value = 5.000000e-01 : f64} : () -> tensor<2x3xf32>
    %2 = "tg.neg"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = "tg.abs"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %4 = "tg.exp"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %5 = "tg.log"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %6 = "tg.sqrt"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %7 = "tg.rsqrt"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %8 = "tg.tanh"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %9 = "tg.sigmoid"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %10 = "tg.relu"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %11 = "tg.sin"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %12 = "tg.cos"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %13 = "tg.softplus"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %14 = "tg.add"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %15 = "tg.sub"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %16 = "tg.mul"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %17 = "tg.div"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %18 = "tg.pow"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %19 = "tg.maximum"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %20 = "tg.minimum"(%arg0, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %21 = "tg.compare"(%arg0, %1) {direction = "lt"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
    %22 = "tg.select"(%21, %arg0, %1) : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %23 = "tg.broadcast_in_dim"(%0) {dims = array<i64: 1>, shape = array<i64: 2, 3>} : (tensor<3xf32>) -> tensor<2x3xf32>
    %24 = "tg.reshape"(%arg0) {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %25 = "tg.transpose"(%24) {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
    %flipped = "tg.reverse"(%25) {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %26 = "tg.slice"(%arg0) {limit = array<i64: 2, 3>, start = array<i64: 0, 1>, stride = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
    %27 = "tg.concat"(%arg0, %26) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x5xf32>
    %28 = "tg.pad"(%arg0) {high = array<i64: 0, 2>, interior = array<i64: 0, 1>, low = array<i64: 1, 0>, value = 0.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<3x7xf32>
    %29 = "tg.reduce_sum"(%arg0) {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
    %30 = "tg.reduce_max"(%arg0) {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
    %31 = "tg.dot_general"(%arg0, %arg1) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    %32 = "tg.concat"(%arg0, %arg0) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
    %33 = "tg.concat"(%32, %arg0) {axis = 1 : i64} : (tensor<2x6xf32>, tensor<2x3xf32>) -> tensor<2x9xf32>
    %34 = "tg.reshape"(%33) {shape = array<i64: 1, 1, 3, 6>} : (tensor<2x9xf32>) -> tensor<1x1x3x6xf32>
    %35 = "tg.slice"(%arg1) {limit = array<i64: 2, 2>, start = array<i64: 0, 0>, stride = array<i64: 1, 1>} : (tensor<3x4xf32>) -> tensor<2x2xf32>
    %36 = "tg.reshape"(%35) {shape = array<i64: 1, 1, 2, 2>} : (tensor<2x2xf32>) -> tensor<1x1x2x2xf32>
    %37 = "tg.conv2d"(%34, %36) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x7xf32>
    %38 = "tg.max_pool2d"(%34) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>) -> tensor<1x1x2x5xf32>
    %39 = "tg.avg_pool2d"(%34) {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>) -> tensor<1x1x2x5xf32>
    %40 = "tg.gather"(%arg1, %arg2) : (tensor<3x4xf32>, tensor<5xi32>) -> tensor<5x4xf32>
    %41 = "tg.scatter_add"(%arg2, %40) {rows = 3 : i64} : (tensor<5xi32>, tensor<5x4xf32>) -> tensor<3x4xf32>
    %42 = "tg.cast"(%arg0) {dtype = f64} : (tensor<2x3xf32>) -> tensor<2x3xf64>
    %43 = "tg.stop_gradient"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %44 = "tg.random_uniform"(%arg3) {dtype = f32, shape = array<i64: 2, 3>} : (tensor<i64>) -> tensor<2x3xf32>
    %45 = "tg.bernoulli"(%arg3) {p = 5.000000e-01 : f64, shape = array<i64: 2, 3>} : (tensor<i64>) -> tensor<2x3xi1>
    return %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %22, %23, %flipped, %27, %28, %29, %30, %31, %37, %38, %39, %41, %42, %43, %44, %45 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x5xf32>, tensor<3x7xf32>, tensor<2xf32>, tensor<3xf32>, tensor<2x4xf32>, tensor<1x1x4x7xf32>, tensor<1x1x2x5xf32>, tensor<1x1x2x5xf32>, tensor<3x4xf32>, tensor<2x3xf64>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi1>
  }
}

// A contraction with a preferred_element_type (mixed precision: bf16 products summed and returned in f32).
// CHECK-LABEL: func.func @mixed_precision(
// CHECK: "tg.dot_general"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, preferred_element_type = f32, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xbf16>, tensor<3x4xbf16>) -> tensor<2x4xf32>
// CHECK-NEXT: "tg.conv2d"(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, preferred_element_type = f64, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x5xf64>
module {
  func.func @mixed_precision(%a: tensor<2x3xbf16>, %b: tensor<3x4xbf16>, %x: tensor<1x1x3x6xf32>, %w: tensor<1x1x2x2xf32>) -> (tensor<2x4xf32>, tensor<1x1x2x5xf64>) {
    %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, preferred_element_type = f32, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xbf16>, tensor<3x4xbf16>) -> tensor<2x4xf32>
    %1 = "tg.conv2d"(%x, %w) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, preferred_element_type = f64, rhs_dilation = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x1x3x6xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x5xf64>
    return %0, %1 : tensor<2x4xf32>, tensor<1x1x2x5xf64>
  }
}
