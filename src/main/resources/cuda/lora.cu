// Unmerged LoRA adapters, several per step (segmented like Punica/S-LoRA's SGMV): for every row whose adapter slot
// s is non-zero, y[row] += scale[s] * B[s] · (A[s] · x[row]), added to what the base linear layer wrote into y.
// Two kernels per adapted linear layer (in inputs, out outputs), fp32 throughout with fp32 accumulation:
//   lora_shrink  t[row, j] = sum_i A[s][j][i] * x[row][i]          for j < rank[s]
//   lora_expand  y[row, o] += scale[s] * sum_j Bt[s][j][o] * t[row][j]
// Per layer and module the device holds, for slots 1..S at index s-1: A (S, maxRank, in), B transposed as
// Bt (S, maxRank, out) so the threads of a block read consecutive outputs, rank (S) and scale (S); rank 0 is a
// module the slot's adapter leaves alone (nothing is added). rowSlot (rows) names each row's slot; 0 = the bare
// base model, which both kernels skip. t is (rows, maxRank). Self-contained (no includes) for NVRTC.

// Grid (rows, ceil(maxRank/8)), block (32, 8): one warp per (row, j), lanes striding over the inputs (coalesced
// reads of x's row and A's row), then a butterfly sum. Exits are uniform per block (slot) and per warp (j).
extern "C" __global__ void lora_shrink(const float* x, const float* a, const int* rowSlot, const int* rank, float* t,
        int rows, int in, int maxRank) {
    int row = blockIdx.x;
    int j = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= rows) return;
    int s = rowSlot[row];
    if (s == 0) return;
    if (j >= rank[s - 1]) return;
    const float* xr = x + (long long)row * in;
    const float* ar = a + ((long long)(s - 1) * maxRank + j) * in;
    float acc = 0.f;
    for (int i = threadIdx.x; i < in; i += 32) acc = fmaf(ar[i], xr[i], acc);
    for (int d = 16; d > 0; d >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, d);
    if (threadIdx.x == 0) t[(long long)row * maxRank + j] = acc;
}

// Grid (rows, ceil(out/256)), block 256: one thread per output of a row, a chain of rank fmaf over t's row (the
// same address in every thread: a broadcast) and Bt's column (consecutive across the block), then one fmaf into y.
extern "C" __global__ void lora_expand(const float* t, const float* bt, const int* rowSlot, const int* rank,
        const float* scale, float* y, int rows, int out, int maxRank) {
    int row = blockIdx.x;
    int o = blockIdx.y * blockDim.x + threadIdx.x;
    if (row >= rows || o >= out) return;
    int s = rowSlot[row];
    if (s == 0) return;
    int r = rank[s - 1];
    if (r == 0) return;
    const float* tr = t + (long long)row * maxRank;
    const float* b = bt + (long long)(s - 1) * maxRank * out + o;
    float acc = 0.f;
    for (int j = 0; j < r; j++) acc = fmaf(b[(long long)j * out], tr[j], acc);
    float* yo = y + (long long)row * out + o;
    *yo = fmaf(scale[s - 1], acc, *yo);
}
