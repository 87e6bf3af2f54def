package io.paddock.runtime.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * One GPTQ layer on the device in the layout gptq_matmul.cu reads: qweight re-packed in act-order (sorted) input
 * order, gIdx non-decreasing, qzeros/scales/bias as stored.
 *
 * @param perm null where the stored order is already sorted by group (no gather needed)
 * @param bias null where the layer has none
 */
record GptqDevice(int in, int out, int bits, int zeroWords, boolean zeroPlusOne,
                  CUdeviceptr qweight,   // int32 (in*bits/32, out)
                  CUdeviceptr qzeros,    // int32 (groups, zeroWords)
                  CUdeviceptr scales,    // fp16 (groups, out)
                  CUdeviceptr gIdx,      // int32 (in), non-decreasing
                  CUdeviceptr perm,      // int32 (in), sorted position -> original input, or null
                  CUdeviceptr bias) {}   // fp16 (out), or null
