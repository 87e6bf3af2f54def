// Paged attention over the PagedKvStore layout and the KV writes into it. Per layer, the K and V pools are each
// (numBlocks*blockSize, kvDim) fp32: position p of a sequence lives at row blockTable[p / blockSize]*blockSize
// + p % blockSize. The host passes the layer's pool base pointers. Row r's block table starts at
// blockTables[tableOffset[r]], so rows of one sequence (prefill) can share one table.
// Self-contained (no includes) for NVRTC.

#define PA_WARPS 4
#define PA_MAX_HEAD_DIM 256
#define PA_PER_LANE (PA_MAX_HEAD_DIM / 32)

// Query row r, head h attends over positions [0, pos[r]] with one-pass online softmax, so the sequence length is
// unbounded. GQA: kv head = h / (numHeads / numKvHeads); scale 1/sqrt(headDim). q and out are (rows, numHeads*headDim).
// Grid (rows, numHeads), block 32*PA_WARPS. headDim <= 256. Each warp takes positions warp, warp+PA_WARPS, ...;
// lane d-slices hold q and the running output; warps merge their (max, sum, acc) at the end.
extern "C" __global__ void paged_attention_f32(float* out, const float* q, const float* kPool, const float* vPool,
        const int* blockTables, const int* tableOffset, const int* pos, int numHeads, int numKvHeads, int headDim,
        int blockSize) {
    __shared__ float sm[PA_WARPS];
    __shared__ float sl[PA_WARPS];
    __shared__ float sacc[PA_WARPS][PA_MAX_HEAD_DIM];
    int r = blockIdx.x, h = blockIdx.y;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int kvDim = numKvHeads * headDim;
    int headOff = (h / (numHeads / numKvHeads)) * headDim;
    const int* table = blockTables + tableOffset[r];
    int seqLen = pos[r] + 1;
    float scale = 1.0f / sqrtf((float)headDim);
    const float* qh = q + (long long)r * numHeads * headDim + (long long)h * headDim;

    float qv[PA_PER_LANE], acc[PA_PER_LANE];
#pragma unroll
    for (int j = 0; j < PA_PER_LANE; j++) {
        int d = lane + 32 * j;
        qv[j] = d < headDim ? qh[d] : 0.f;
        acc[j] = 0.f;
    }
    const float NEG_INF = -__int_as_float(0x7f800000);
    float m = NEG_INF, l = 0.f;
    for (int t = warp; t < seqLen; t += PA_WARPS) {
        long long row = (long long)table[t / blockSize] * blockSize + t % blockSize;
        const float* k = kPool + row * kvDim + headOff;
        const float* v = vPool + row * kvDim + headOff;
        float part = 0.f;
#pragma unroll
        for (int j = 0; j < PA_PER_LANE; j++) {
            int d = lane + 32 * j;
            if (d < headDim) part = fmaf(qv[j], k[d], part);
        }
        for (int o = 16; o > 0; o >>= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
        float s = part * scale;
        float mNew = fmaxf(m, s);
        float corr = expf(m - mNew);   // 0 on the first position (m = -inf)
        float p = expf(s - mNew);
        l = l * corr + p;
#pragma unroll
        for (int j = 0; j < PA_PER_LANE; j++) {
            int d = lane + 32 * j;
            if (d < headDim) acc[j] = fmaf(p, v[d], acc[j] * corr);
        }
        m = mNew;
    }
    if (lane == 0) { sm[warp] = m; sl[warp] = l; }
#pragma unroll
    for (int j = 0; j < PA_PER_LANE; j++) {
        int d = lane + 32 * j;
        if (d < headDim) sacc[warp][d] = acc[j];
    }
    __syncthreads();
    float M = NEG_INF;
    for (int w = 0; w < PA_WARPS; w++) M = fmaxf(M, sm[w]);
    float L = 0.f;
    float f[PA_WARPS];
    for (int w = 0; w < PA_WARPS; w++) {
        f[w] = sm[w] == NEG_INF ? 0.f : expf(sm[w] - M);   // a warp with no positions contributes nothing
        L += sl[w] * f[w];
    }
    float inv = 1.0f / L;
    float* oh = out + (long long)r * numHeads * headDim + (long long)h * headDim;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float o = 0.f;
        for (int w = 0; w < PA_WARPS; w++) o = fmaf(sacc[w][d], f[w], o);
        oh[d] = o * inv;
    }
}

// Writes row r of k and v (rows, kvDim) into the slot of position pos[r] of its sequence's blocks.
// Grid (rows, ceil(kvDim/256)), block 256.
extern "C" __global__ void kv_store_f32(float* kPool, float* vPool, const float* k, const float* v,
        const int* blockTables, const int* tableOffset, const int* pos, int kvDim, int blockSize) {
    int r = blockIdx.x;
    int d = blockIdx.y * blockDim.x + threadIdx.x;
    if (d >= kvDim) return;
    int p = pos[r];
    const int* table = blockTables + tableOffset[r];
    long long row = (long long)table[p / blockSize] * blockSize + p % blockSize;
    kPool[row * kvDim + d] = k[(long long)r * kvDim + d];
    vPool[row * kvDim + d] = v[(long long)r * kvDim + d];
}
