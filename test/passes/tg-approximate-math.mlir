// RUN: tgraph-opt %s --tg-approximate-math | filecheck %s

// exp on f32: Cephes' reduction x = n ln2 + r (n by the 1.5 * 2^23 rounding trick), a polynomial in r,
// then 2^n built in the exponent bits, applied in two steps. No libm call is left.
// CHECK-LABEL: func.func @exp_scalar(%arg0: f32) -> f32
// CHECK-NOT: math.
// CHECK: arith.constant 1.44269502 : f32
// CHECK: arith.mulf %{{.*}} fastmath<contract> : f32
// CHECK: arith.constant 0x4B400000 : f32
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.constant 0.693359375 : f32
// CHECK: arith.shrsi %{{.*}} : i32
// CHECK: arith.shli %{{.*}} : i32
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK-NEXT: arith.mulf
// CHECK: %[[SCALE:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK-NEXT: %[[RESULT:.*]] = arith.mulf %{{.*}}, %[[SCALE]] fastmath<contract> : f32
// CHECK-NEXT: return %[[RESULT]] : f32
func.func @exp_scalar(%x: f32) -> f32 {
  %0 = math.exp %x : f32
  return %0 : f32
}

// The same sequence on vectors, with splat constants.
// CHECK-LABEL: func.func @exp_vector(%arg0: vector<8xf32>) -> vector<8xf32>
// CHECK-NOT: math.
// CHECK: arith.constant dense<1.44269502> : vector<8xf32>
// CHECK: arith.constant dense<0x4B400000> : vector<8xf32>
// CHECK: arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK: arith.constant dense<0.693359375> : vector<8xf32>
// CHECK: arith.shli %{{.*}} : vector<8xi32>
// CHECK: arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: arith.mulf
// CHECK: %[[SCALE:.*]] = arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: %[[RESULT:.*]] = arith.mulf %{{.*}}, %[[SCALE]] fastmath<contract> : vector<8xf32>
// CHECK-NEXT: return %[[RESULT]] : vector<8xf32>
func.func @exp_vector(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.exp %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// tanh, sin and powf on vectors; sin and powf do their critical step in f64 vectors.
// CHECK-LABEL: func.func @others
// CHECK-NOT: math.
// CHECK: arith.divf %{{.*}} : vector<8xf32>
// CHECK: arith.extf %{{.*}} : vector<8xf32> to vector<8xf64>
// CHECK: arith.truncf %{{.*}} : vector<8xf64> to vector<8xf32>
// CHECK: return
func.func @others(%x: vector<8xf32>, %y: vector<8xf32>) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>) {
  %0 = math.tanh %x : vector<8xf32>
  %1 = math.sin %x : vector<8xf32>
  %2 = math.powf %x, %y : vector<8xf32>
  return %0, %1, %2 : vector<8xf32>, vector<8xf32>, vector<8xf32>
}

// sin and cos: one branch per vector picks the argument reduction: Payne-Hanek in f64 when some
// lane has |x| >= 2^28 (the window of 2/pi's 24-bit pieces chosen by selects on |x|, lane by
// lane), else Cody-Waite's two constants; then the polynomials in f32.
// CHECK-LABEL: func.func @sin_vector
// CHECK-NOT: math.
// CHECK: arith.cmpf olt, %{{.*}} : vector<8xf32>
// CHECK: %[[ANY:.*]] = "llvm.intr.vector.reduce.or"(%{{.*}}) : (vector<8xi1>) -> i1
// CHECK: scf.if %[[ANY]] -> (vector<8xi64>, vector<8xf64>)
// CHECK: arith.cmpf oge, %{{.*}} : vector<8xf32>
// CHECK: arith.constant dense<0.63661974668502808> : vector<8xf64>
// CHECK: arith.select %{{.*}} : vector<8xi1>, vector<8xf64>
// CHECK: } else {
// CHECK: arith.constant dense<1.5707963705062866> : vector<8xf64>
// CHECK: arith.truncf %{{.*}} : vector<8xf64> to vector<8xf32>
// CHECK-NOT: math.
// CHECK: return
func.func @sin_vector(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.sin %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// bf16 and f16 compute in f32 and round back; f64 is left to libm.
// CHECK-LABEL: func.func @widths
// CHECK: arith.extf %arg0 : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.extf %arg1 : vector<4xf16> to vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK: math.log %arg2 : f64
func.func @widths(%a: bf16, %b: vector<4xf16>, %c: f64) -> (bf16, vector<4xf16>, f64) {
  %0 = math.log %a : bf16
  %1 = math.log %b : vector<4xf16>
  %2 = math.log %c : f64
  return %0, %1, %2 : bf16, vector<4xf16>, f64
}
