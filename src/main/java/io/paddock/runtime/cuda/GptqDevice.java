package io.paddock.runtime.cuda;

/**
 * One GPTQ layer on the device in the layout gptq_matmul.cu reads: qweight re-packed in act-order (sorted) input
 * order, gIdx non-decreasing, qzeros/scales/bias as stored. Fields are device addresses.
 *
 * @param perm 0 where the stored order is already sorted by group (no gather needed)
 * @param bias 0 where the layer has none
 */
record GptqDevice(int in, int out, int bits, int zeroWords, boolean zeroPlusOne,
                  long qweight,   // int32 (in*bits/32, out)
                  long qzeros,    // int32 (groups, zeroWords)
                  long scales,    // fp16 (groups, out)
                  long gIdx,      // int32 (in), non-decreasing
                  long perm,      // int32 (in), sorted position -> original input, or 0
                  long bias) {}   // fp16 (out), or 0

/**
 * One 2-, 4- or 8-bit GPTQ layer on the device in the tiled layout ({@link GptqTileLayout}, docs/gpu-kernels.md
 * "Tiled GPTQ") that the gptq_gemv_tiled entries and (4-bit only) the tensor-core GEMM read. Fields besides the
 * shape and {@code bits} are device addresses.
 *
 * @param perm 0 where the stored order is already sorted by group
 * @param bias 0 where the layer has none
 */
record GptqTiledDevice(int in, int out, int groups, int bits,
                       long qtiles,     // int32 (in·out·bits/32), 16×64 tiles, panel-major
                       long zeros16,    // fp16 (groups, out): 1024 + zero
                       long scales,     // fp16 (groups, out)
                       long tileGroup,  // int32 (in/16)
                       long perm,       // int32 (in), sorted position -> original input, or 0
                       long bias) {}    // fp16 (out), or 0
