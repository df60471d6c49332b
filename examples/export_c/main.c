/* Calls tgraph-exported code from C: the loss of a small MLP and its gradients, then a few steps
 * of gradient descent. Build (DIR holds what model.py exported):
 *   cc -O2 -I DIR main.c -L DIR -lmlp -Wl,-rpath,DIR -lm -o main && ./main
 */
#include <stdio.h>

#include "mlp.h"

/* The inputs model.py builds: ((i * 7919 + seed * 104729) mod 2003) / 2003 - 0.5, as floats. */
static void pattern(float *out, long n, long seed) {
  for (long i = 0; i < n; ++i)
    out[i] = (float)((double)((i * 7919 + seed * 104729) % 2003) / 2003.0 - 0.5);
}

int main(void) {
  /* mlp.h gives every argument's size: dict parameters come in key order (b1, b2, w1, w2). */
  static float b1[MLP_VALUE_AND_GRAD_INPUT0_SIZE], b2[MLP_VALUE_AND_GRAD_INPUT1_SIZE];
  static float w1[MLP_VALUE_AND_GRAD_INPUT2_SIZE], w2[MLP_VALUE_AND_GRAD_INPUT3_SIZE];
  static float x[MLP_VALUE_AND_GRAD_INPUT4_SIZE], y[MLP_VALUE_AND_GRAD_INPUT5_SIZE];
  static float g_b1[MLP_VALUE_AND_GRAD_INPUT0_SIZE], g_b2[MLP_VALUE_AND_GRAD_INPUT1_SIZE];
  static float g_w1[MLP_VALUE_AND_GRAD_INPUT2_SIZE], g_w2[MLP_VALUE_AND_GRAD_INPUT3_SIZE];
  float loss;
  pattern(w1, MLP_VALUE_AND_GRAD_INPUT2_SIZE, 0);
  pattern(b1, MLP_VALUE_AND_GRAD_INPUT0_SIZE, 1);
  pattern(w2, MLP_VALUE_AND_GRAD_INPUT3_SIZE, 2);
  pattern(b2, MLP_VALUE_AND_GRAD_INPUT1_SIZE, 3);
  pattern(x, MLP_VALUE_AND_GRAD_INPUT4_SIZE, 4);
  pattern(y, MLP_VALUE_AND_GRAD_INPUT5_SIZE, 5);

  mlp_forward(b1, b2, w1, w2, x, y, &loss);
  printf("forward %.9g\n", loss);
  mlp_value_and_grad(b1, b2, w1, w2, x, y, &loss, g_b1, g_b2, g_w1, g_w2);
  printf("value %.9g\n", loss);
  printf("grad_b2 %.9g %.9g %.9g\n", g_b2[0], g_b2[1], g_b2[2]);
  printf("grad_w1[0,0] %.9g\n", g_w1[0]);

  for (int step = 0; step < 5; ++step) { /* plain gradient descent, learning rate 0.5 */
    mlp_value_and_grad(b1, b2, w1, w2, x, y, &loss, g_b1, g_b2, g_w1, g_w2);
    for (int i = 0; i < MLP_VALUE_AND_GRAD_INPUT0_SIZE; ++i) b1[i] -= 0.5f * g_b1[i];
    for (int i = 0; i < MLP_VALUE_AND_GRAD_INPUT1_SIZE; ++i) b2[i] -= 0.5f * g_b2[i];
    for (int i = 0; i < MLP_VALUE_AND_GRAD_INPUT2_SIZE; ++i) w1[i] -= 0.5f * g_w1[i];
    for (int i = 0; i < MLP_VALUE_AND_GRAD_INPUT3_SIZE; ++i) w2[i] -= 0.5f * g_w2[i];
    printf("step %d loss %.9g\n", step, loss);
  }
  return 0;
}
