// Generated from the Python definition in dialect/ by `python -m tgraph.dialect`; do not edit.
module {
  irdl.dialect @tg {
    irdl.operation @constant {
      %0 = irdl.any
      irdl.attributes {"value" = %0}
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @splat {
      %0 = irdl.base "#builtin.float" 
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.type" 
      irdl.attributes {"value" = %0, "shape" = %1, "dtype" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @iota {
      %0 = irdl.base "#builtin.dense_array" 
      %1 = irdl.base "#builtin.type" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"shape" = %0, "dtype" = %1, "dimension" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @neg {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @abs {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @exp {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @log {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @sqrt {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @rsqrt {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @tanh {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @sigmoid {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @relu {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @sin {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @cos {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @softplus {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @log1p {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @expm1 {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @erf {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @add {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @sub {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @mul {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @div {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @pow {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @maximum {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @minimum {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @compare {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "#builtin.string" 
      irdl.attributes {"direction" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @select {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      %2 = irdl.base "!builtin.tensor" 
      irdl.operands(pred: %0, on_true: %1, on_false: %2)
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @broadcast_in_dim {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"dims" = %1, "shape" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @reshape {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"shape" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @transpose {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"permutation" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @reverse {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"axes" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @slice {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"start" = %1, "limit" = %2, "stride" = %3}
      %4 = irdl.base "!builtin.tensor" 
      irdl.results(result: %4)
    }
    irdl.operation @concat {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"axis" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @pad {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      %4 = irdl.base "#builtin.float" 
      irdl.attributes {"low" = %1, "high" = %2, "interior" = %3, "value" = %4}
      %5 = irdl.base "!builtin.tensor" 
      irdl.results(result: %5)
    }
    irdl.operation @reduce_sum {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"axes" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @reduce_max {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"axes" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @dot_general {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(lhs: %0, rhs: %1)
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      %4 = irdl.base "#builtin.dense_array" 
      %5 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"lhs_batch" = %2, "rhs_batch" = %3, "lhs_contract" = %4, "rhs_contract" = %5}
      %6 = irdl.base "!builtin.tensor" 
      irdl.results(result: %6)
    }
    irdl.operation @conv2d {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(input: %0, weight: %1)
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      %4 = irdl.base "#builtin.dense_array" 
      %5 = irdl.base "#builtin.dense_array" 
      %6 = irdl.base "#builtin.integer" 
      irdl.attributes {"stride" = %2, "padding" = %3, "lhs_dilation" = %4, "rhs_dilation" = %5, "groups" = %6}
      %7 = irdl.base "!builtin.tensor" 
      irdl.results(result: %7)
    }
    irdl.operation @max_pool2d {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"kernel" = %1, "stride" = %2, "padding" = %3}
      %4 = irdl.base "!builtin.tensor" 
      irdl.results(result: %4)
    }
    irdl.operation @avg_pool2d {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      %3 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"kernel" = %1, "stride" = %2, "padding" = %3}
      %4 = irdl.base "!builtin.tensor" 
      irdl.results(result: %4)
    }
    irdl.operation @gather {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(table: %0, indices: %1)
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @scatter_add {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      irdl.operands(indices: %0, updates: %1)
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"rows" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @set_row {
      %0 = irdl.base "!builtin.tensor" 
      %1 = irdl.base "!builtin.tensor" 
      %2 = irdl.base "!builtin.tensor" 
      irdl.operands(table: %0, row: %1, index: %2)
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @cast {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.type" 
      irdl.attributes {"dtype" = %1}
      %2 = irdl.base "!builtin.tensor" 
      irdl.results(result: %2)
    }
    irdl.operation @stop_gradient {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @optimization_barrier {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "!builtin.tensor" 
      irdl.results(result: %1)
    }
    irdl.operation @random_uniform {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(key: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.type" 
      irdl.attributes {"shape" = %1, "dtype" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @bernoulli {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(key: %0)
      %1 = irdl.base "#builtin.float" 
      %2 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"p" = %1, "shape" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @all_reduce {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.string" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"op" = %1, "ranks" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @all_gather {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.integer" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"axis" = %1, "ranks" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @reduce_scatter {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.integer" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"axis" = %1, "ranks" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @broadcast {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.integer" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"root" = %1, "ranks" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @reduce_to_root {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.integer" 
      %2 = irdl.base "#builtin.integer" 
      irdl.attributes {"root" = %1, "ranks" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
    irdl.operation @shard {
      %0 = irdl.base "!builtin.tensor" 
      irdl.operands(x: %0)
      %1 = irdl.base "#builtin.dense_array" 
      %2 = irdl.base "#builtin.dense_array" 
      irdl.attributes {"grid" = %1, "axes" = %2}
      %3 = irdl.base "!builtin.tensor" 
      irdl.results(result: %3)
    }
  }
}
