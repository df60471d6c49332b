// Verifier errors: each names the op, what is wrong and the operand types, at the op's location.
// RUN: not tgraph-opt %s --split-input-file 2>&1 | filecheck %s

func.func @add_shapes(%a: tensor<4xf32>, %b: tensor<5xf32>) -> tensor<4xf32> {
  %0 = "tg.add"(%a, %b) : (tensor<4xf32>, tensor<5xf32>) -> tensor<4xf32>  // CHECK: invalid.mlir:[[# @LINE]]:8: error: 'tg.add' op operands must have the same type, but operand 0 is tensor<4xf32> and operand 1 is tensor<5xf32> (operand types: tensor<4xf32>, tensor<5xf32>)
  return %0 : tensor<4xf32>
}

// -----
func.func @matmul_inner(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) -> tensor<3x6xf32> {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>} : (tensor<3x4xf32>, tensor<5x6xf32>) -> tensor<3x6xf32>  // CHECK: invalid.mlir:[[# @LINE]]:8: error: 'tg.dot_general' op contracting dimensions differ: lhs tensor<3x4xf32> dimension 1 is 4, rhs tensor<5x6xf32> dimension 0 is 5
  return %0 : tensor<3x6xf32>
}

// -----
func.func @wrong_result(%a: tensor<3x4xf32>) -> tensor<3xf32> {
  %0 = "tg.reduce_sum"(%a) {axes = array<i64: 0>} : (tensor<3x4xf32>) -> tensor<3xf32>  // CHECK: invalid.mlir:[[# @LINE]]:8: error: 'tg.reduce_sum' op result type tensor<3xf32> does not match the inferred type tensor<4xf32>
  return %0 : tensor<3xf32>
}

// -----
func.func @bad_axes(%a: tensor<3x4xf32>) -> tensor<3xf32> {
  // CHECK: error: 'tg.reduce_sum' op axes [2] out of range for rank 2
  %0 = "tg.reduce_sum"(%a) {axes = array<i64: 2>} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----
func.func @missing_attribute(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
  // CHECK: error: 'tg.transpose' op is missing attribute(s) permutation
  %0 = "tg.transpose"(%a) : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----
func.func @attribute_kind(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
  // CHECK: error: 'tg.transpose' op attribute 'permutation' must be a i64 array, got [1, 0]
  %0 = "tg.transpose"(%a) {permutation = [1, 0]} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----
func.func @dynamic_shape(%a: tensor<?xf32>) -> tensor<?xf32> {
  // CHECK: error: 'tg.exp' op expected a static shape, got tensor<?xf32>
  %0 = "tg.exp"(%a) : (tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----
func.func @select_predicate(%p: tensor<3xf32>, %a: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK: error: 'tg.select' op predicate must have element type i1, got tensor<3xf32>
  %0 = "tg.select"(%p, %a, %a) : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----
func.func @conv_channels(%x: tensor<1x3x5x5xf32>, %w: tensor<2x4x3x3xf32>) -> tensor<1x2x3x3xf32> {
  // CHECK: error: 'tg.conv2d' op input channels 3 must equal weight input channels 4 times groups 1
  %0 = "tg.conv2d"(%x, %w) {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, lhs_dilation = array<i64: 1, 1>, rhs_dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x5x5xf32>, tensor<2x4x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----
func.func @compare_direction(%a: tensor<3xf32>) -> tensor<3xi1> {
  // CHECK: error: 'tg.compare' op direction 'lte' is not one of lt, le, gt, ge, eq, ne
  %0 = "tg.compare"(%a, %a) {direction = "lte"} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----
func.func @irdl_operand_kind(%a: i32) -> tensor<3xf32> {
  // CHECK: error: {{.*}}tensor
  %0 = "tg.exp"(%a) : (i32) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----
func.func @preferred_narrower(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xbf16> {
  // CHECK: error: 'tg.dot_general' op preferred_element_type bf16 is not allowed for f32 operands (allowed: f32, f64: the operand type or a wider one of its kind) (operand types: tensor<3x4xf32>, tensor<4x5xf32>)
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>, preferred_element_type = bf16} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xbf16>
  return %0 : tensor<3x5xbf16>
}

// -----
func.func @preferred_integer(%a: tensor<3x4xbf16>, %b: tensor<4x5xbf16>) -> tensor<3x5xi32> {
  // CHECK: error: 'tg.dot_general' op preferred_element_type i32 is not allowed for bf16 operands (allowed: bf16, f32, f64: the operand type or a wider one of its kind)
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>, preferred_element_type = i32} : (tensor<3x4xbf16>, tensor<4x5xbf16>) -> tensor<3x5xi32>
  return %0 : tensor<3x5xi32>
}

// -----
func.func @preferred_result(%a: tensor<3x4xbf16>, %b: tensor<4x5xbf16>) -> tensor<3x5xbf16> {
  // CHECK: error: 'tg.dot_general' op result type tensor<3x5xbf16> does not match the inferred type tensor<3x5xf32>
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>, preferred_element_type = f32} : (tensor<3x4xbf16>, tensor<4x5xbf16>) -> tensor<3x5xbf16>
  return %0 : tensor<3x5xbf16>
}

// -----
func.func @preferred_kind(%a: tensor<3x4xbf16>, %b: tensor<4x5xbf16>) -> tensor<3x5xf32> {
  // CHECK: error: 'tg.dot_general' op attribute 'preferred_element_type' must be a element type, got "f32"
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_contract = array<i64: 0>, preferred_element_type = "f32"} : (tensor<3x4xbf16>, tensor<4x5xbf16>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----
func.func @conv_preferred(%x: tensor<1x1x5x5xf16>, %w: tensor<1x1x3x3xf16>) -> tensor<1x1x3x3xbf16> {
  // CHECK: error: 'tg.conv2d' op preferred_element_type bf16 is not allowed for f16 operands (allowed: f16, f32, f64: the operand type or a wider one of its kind)
  %0 = "tg.conv2d"(%x, %w) {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, lhs_dilation = array<i64: 1, 1>, rhs_dilation = array<i64: 1, 1>, groups = 1 : i64, preferred_element_type = bf16} : (tensor<1x1x5x5xf16>, tensor<1x1x3x3xf16>) -> tensor<1x1x3x3xbf16>
  return %0 : tensor<1x1x3x3xbf16>
}
