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

// ---- fp16 KV pool: GQA-aware flash-decoding and tiled prefill -------------------------------------------------
// Same pool layout with fp16 elements (raw 16-bit words): half the bytes per cached token. One block computes a
// "query set" of up to PA16_QUERIES query vectors that share one kv head and one block table (decode: every query
// head of a row's GQA group; prefill: a tile of consecutive rows of one chunk times the group's heads), so each K/V
// position is read from global memory once per set. K/V tiles of PA16_TILE positions are staged in shared memory as
// fp16 (rows padded by one 32-bit word against bank conflicts), widened to fp32 for the math; online softmax.

#define PA16_THREADS 128
#define PA16_TILE 16
#define PA16_QUERIES 16
#define PA16_KW (PA_MAX_HEAD_DIM / 2 + 1)                           // 32-bit words per staged K/V row
#define PA16_ACC (PA16_QUERIES * PA_MAX_HEAD_DIM / PA16_THREADS)    // output elements per thread

static __device__ __forceinline__ float pa_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);   // the host emulation (src/test/native/cudasim): exact, as cvt.f32.f16 is
#endif
}

static __device__ __forceinline__ unsigned short pa_f2h(float f) {
#ifdef __CUDA_ARCH__
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
#else
    return paddock_host_f2h_rn(f);   // the host emulation: round to nearest even, as cvt.rn.f16.f32
#endif
}

// Writes row r of k and v (rows, kvDim), rounded to fp16 (nearest even), into the slot of position pos[r].
// Grid (rows, ceil(kvDim/256)), block 256.
extern "C" __global__ void kv_store_f16(unsigned short* kPool, unsigned short* vPool, const float* k, const float* v,
        const int* blockTables, const int* tableOffset, const int* pos, int kvDim, int blockSize) {
    int r = blockIdx.x;
    int d = blockIdx.y * blockDim.x + threadIdx.x;
    if (d >= kvDim) return;
    int p = pos[r];
    const int* table = blockTables + tableOffset[r];
    long long row = (long long)table[p / blockSize] * blockSize + p % blockSize;
    kPool[row * kvDim + d] = pa_f2h(k[(long long)r * kvDim + d]);
    vPool[row * kvDim + d] = pa_f2h(v[(long long)r * kvDim + d]);
}

// RoPE on q and k and the fp16 KV store of the rotated k and of v, in one launch: block (r, h) rotates q head h of
// row r in place (q rows of stride heads*headDim) and, if h < kvHeads, k head h in place (rows of stride
// kvHeads*headDim) and writes that k head and v head h, rounded to fp16, into the slot of position pos[r]. The
// arithmetic is rope_rotate_half_f32's (layer_ops.cu) expression for expression, both with the tables (cosTable
// non-null, (maxPositions, headDim/2)) and with the computed angle, and the store is kv_store_f16's, so every result
// is bit-identical to rope_rotate_half_f32(q), rope_rotate_half_f32(k), kv_store_f16. Element i of a head pairs with
// i + headDim/2 and one thread handles both: it stores to the pool the rotated values it computed itself, so no
// barrier is needed. Grid (rows, heads), block min(headDim/2, 128); headDim even, heads a multiple of kvHeads.
extern "C" __global__ void rope_kv_store_f16(float* q, float* k, const float* v, unsigned short* kPool,
        unsigned short* vPool, const int* blockTables, const int* tableOffset, const int* pos, const float* cosTable,
        const float* sinTable, double theta, int heads, int kvHeads, int headDim, int blockSize) {
    const int r = blockIdx.x, h = blockIdx.y;
    const int half = headDim / 2, kvDim = kvHeads * headDim;
    const int p = pos[r];
    float* qlo = q + (long long)r * heads * headDim + (long long)h * headDim;
    float* qhi = qlo + half;
    const bool kv = h < kvHeads;
    float* klo = k + (long long)r * kvDim + (long long)h * headDim;
    float* khi = klo + half;
    const float* vh = v + (long long)r * kvDim + (long long)h * headDim;
    long long slot = 0;
    if (kv) {
        const int* table = blockTables + tableOffset[r];
        slot = ((long long)table[p / blockSize] * blockSize + p % blockSize) * kvDim + (long long)h * headDim;
    }
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float c, s;
        if (cosTable != 0) {
            c = cosTable[(long long)p * half + i];
            s = sinTable[(long long)p * half + i];
        } else {
            float exponent = (float)(2 * i) / (float)headDim;
            float invFreq = 1.0f / (float)pow(theta, (double)exponent);
            float angle = (float)p * invFreq;
            c = (float)cos((double)angle);
            s = (float)sin((double)angle);
        }
        float a = qlo[i], b = qhi[i];
        qlo[i] = a * c - b * s;
        qhi[i] = b * c + a * s;
        if (kv) {
            float ka = klo[i], kb = khi[i];
            float kLo = ka * c - kb * s;
            float kHi = kb * c + ka * s;
            klo[i] = kLo;
            khi[i] = kHi;
            kPool[slot + i] = pa_f2h(kLo);
            kPool[slot + half + i] = pa_f2h(kHi);
            vPool[slot + i] = pa_f2h(vh[i]);
            vPool[slot + half + i] = pa_f2h(vh[half + i]);
        }
    }
}

// The shared state of one query set.
struct Pa16Shared {
    unsigned int k[PA16_TILE][PA16_KW];     // fp16 pairs
    unsigned int v[PA16_TILE][PA16_KW];
    float q[PA16_QUERIES][PA_MAX_HEAD_DIM];
    float p[PA16_QUERIES][PA16_TILE];       // scores, then softmax weights
    float m[PA16_QUERIES], l[PA16_QUERIES], corr[PA16_QUERIES];
    int len[PA16_QUERIES];                  // query i sees positions [tStart, len[i])
};

// Online softmax of queries 0..nq-1 (q and len already in s) over positions [tStart, tEnd) of the kv head at
// headOff; leaves m, l in s and each thread's unnormalised output elements e = tid + PA16_THREADS*j (query e/hd,
// dim e%hd) in acc. Every query must see at least one position of the first tile.
static __device__ __forceinline__ void pa16_run(Pa16Shared& s, float* acc, int nq, int tStart, int tEnd,
        const unsigned short* kPool, const unsigned short* vPool, const int* table, int kvDim, int headOff,
        int headDim, int blockSize) {
    const int tid = threadIdx.x, hw = headDim >> 1;
    const float scale = 1.0f / sqrtf((float)headDim);
    const float NEG_INF = -__int_as_float(0x7f800000);
#pragma unroll
    for (int j = 0; j < PA16_ACC; j++) acc[j] = 0.f;
    if (tid < nq) { s.m[tid] = NEG_INF; s.l[tid] = 0.f; }
    for (int t0 = tStart; t0 < tEnd; t0 += PA16_TILE) {
        // Stage the tile: 32-bit loads of fp16 pairs (headDim and kvDim are even); positions past tEnd read as 0.
        for (int i = tid; i < PA16_TILE * hw; i += PA16_THREADS) {
            int t = i / hw, w = i - t * hw, p = t0 + t;
            unsigned int kw = 0u, vw = 0u;
            if (p < tEnd) {
                long long off = ((long long)table[p / blockSize] * blockSize + p % blockSize) * kvDim + headOff + 2 * w;
                kw = *(const unsigned int*)(kPool + off);
                vw = *(const unsigned int*)(vPool + off);
            }
            s.k[t][w] = kw;
            s.v[t][w] = vw;
        }
        __syncthreads();
        // Scores: one thread per (query, position).
        for (int i = tid; i < nq * PA16_TILE; i += PA16_THREADS) {
            int qi = i / PA16_TILE, t = i - qi * PA16_TILE;
            const float* qv = s.q[qi];
            float dot = 0.f;
            for (int w = 0; w < hw; w++) {
                unsigned int kw = s.k[t][w];
                dot = fmaf(qv[2 * w], pa_h2f((unsigned short)(kw & 0xffffu)), dot);
                dot = fmaf(qv[2 * w + 1], pa_h2f((unsigned short)(kw >> 16)), dot);
            }
            s.p[qi][t] = dot * scale;
        }
        __syncthreads();
        // Softmax step: one thread per query.
        if (tid < nq) {
            int valid = min(s.len[tid], tEnd) - t0;   // positions of this tile the query sees
            float mOld = s.m[tid], tmax = NEG_INF;
            for (int t = 0; t < PA16_TILE; t++) if (t < valid) tmax = fmaxf(tmax, s.p[tid][t]);
            float mNew = fmaxf(mOld, tmax);
            float corr = mNew == NEG_INF ? 1.f : expf(mOld - mNew);   // 0 on the first tile (mOld = -inf)
            float sum = 0.f;
            for (int t = 0; t < PA16_TILE; t++) {
                float pw = t < valid ? expf(s.p[tid][t] - mNew) : 0.f;
                s.p[tid][t] = pw;
                sum += pw;
            }
            s.l[tid] = s.l[tid] * corr + sum;
            s.m[tid] = mNew;
            s.corr[tid] = corr;
        }
        __syncthreads();
        // Output: acc = acc·corr + Σ_t p_t·v_t, fp32.
#pragma unroll
        for (int j = 0; j < PA16_ACC; j++) {
            int e = tid + PA16_THREADS * j;
            if (e < nq * headDim) {
                int qi = e / headDim, d = e - qi * headDim, w = d >> 1, sh = (d & 1) << 4;
                float a = acc[j] * s.corr[qi];
                for (int t = 0; t < PA16_TILE; t++) {
                    a = fmaf(s.p[qi][t], pa_h2f((unsigned short)((s.v[t][w] >> sh) & 0xffffu)), a);
                }
                acc[j] = a;
            }
        }
        __syncthreads();
    }
}

// Element d of head h of decode row r (slot `slot`): out = Σ_z e^(m_z - M)·O_z / Σ_z e^(m_z - M)·l_z over the row's
// ceil(len/partSize) partitions (M their max), from the partials paged_attention_decode_f16 wrote.
static __device__ void pa16_combine(float* out, const float* partO, const float* partML, int slot, int r, int h,
        int d, int len, int numHeads, int headDim, int partSize, int splits) {
    const int n = min(splits, (len + partSize - 1) / partSize);
    const long long base = ((long long)slot * numHeads + h) * splits;
    const float NEG_INF = -__int_as_float(0x7f800000);
    float M = NEG_INF;
    for (int z = 0; z < n; z++) M = fmaxf(M, partML[(base + z) * 2]);
    float L = 0.f;
    for (int z = 0; z < n; z++) L = fmaf(partML[(base + z) * 2 + 1], expf(partML[(base + z) * 2] - M), L);
    float o = 0.f;
    for (int z = 0; z < n; z++) o = fmaf(partO[(base + z) * headDim + d], expf(partML[(base + z) * 2] - M), o);
    out[((long long)r * numHeads + h) * headDim + d] = o * (1.0f / L);
}

// Decode (flash-decoding, GQA-aware): slot i = blockIdx.x computes row decodeRows[i]'s numHeads/numKvHeads query
// heads of kv head blockIdx.y over context partition z = blockIdx.z, positions [z·partSize, min(pos+1,
// (z+1)·partSize)). A row whose context fits one partition (pos < partSize) is written to out directly; otherwise
// each partition writes its max, sum and unnormalised output to partML (slots, numHeads, splits, 2) and partO
// (slots, numHeads, splits, headDim), then counts itself on counters[slot * numKvHeads + kv head]; the partition
// that counts last (of the row's ceil((pos+1)/partSize)) combines them for the group's heads and clears the
// counter (no reduce launch; the partials are fenced as in the GPTQ split-K). Partitions past the row's context
// exit at once, so the grid (decode rows, numKvHeads, splits) depends only on the step's decode-row count and the
// reserved maximum context. Block 128. headDim <= 256 and even, numHeads/numKvHeads <= 16, partSize a multiple
// of 16.
extern "C" __global__ void paged_attention_decode_f16(float* out, float* partO, float* partML, int* counters,
        const float* q,
        const unsigned short* kPool, const unsigned short* vPool, const int* blockTables, const int* tableOffset,
        const int* pos, const int* decodeRows, int numHeads, int numKvHeads, int headDim, int blockSize,
        int partSize) {
    __shared__ Pa16Shared s;
    const int slot = blockIdx.x, kvh = blockIdx.y, z = blockIdx.z, splits = gridDim.z;
    const int r = decodeRows[slot];
    const int len = pos[r] + 1, tStart = z * partSize;
    if (tStart >= len) return;   // the whole block leaves together
    const int group = numHeads / numKvHeads, tEnd = min(len, tStart + partSize);
    const float* qr = q + (long long)r * numHeads * headDim + (long long)kvh * group * headDim;
    for (int i = threadIdx.x; i < group * headDim; i += PA16_THREADS) s.q[i / headDim][i % headDim] = qr[i];
    if (threadIdx.x < group) s.len[threadIdx.x] = len;
    __syncthreads();
    float acc[PA16_ACC];
    pa16_run(s, acc, group, tStart, tEnd, kPool, vPool, blockTables + tableOffset[r], numKvHeads * headDim,
             kvh * headDim, headDim, blockSize);
    const bool direct = len <= partSize;
#pragma unroll
    for (int j = 0; j < PA16_ACC; j++) {
        int e = threadIdx.x + PA16_THREADS * j;
        if (e < group * headDim) {
            int g = e / headDim, d = e - g * headDim, h = kvh * group + g;
            if (direct) {
                out[((long long)r * numHeads + h) * headDim + d] = acc[j] / s.l[g];
            } else {
                partO[(((long long)slot * numHeads + h) * splits + z) * headDim + d] = acc[j];
            }
        }
    }
    if (direct) return;
    if (threadIdx.x < group) {
        long long at = (((long long)slot * numHeads + kvh * group + threadIdx.x) * splits + z) * 2;
        partML[at] = s.m[threadIdx.x];
        partML[at + 1] = s.l[threadIdx.x];
    }
    // Count this partition; the last of the row's partitions to count combines them all.
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        int* counter = counters + (long long)slot * numKvHeads + kvh;
        int ticket = atomicAdd(counter, 1);
        last = ticket == min(splits, (len + partSize - 1) / partSize) - 1;
        if (last) atomicExch(counter, 0);
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    for (int e = threadIdx.x; e < group * headDim; e += PA16_THREADS) {
        int g = e / headDim, d = e - g * headDim;
        pa16_combine(out, partO, partML, slot, r, kvh * group + g, d, len, numHeads, headDim, partSize, splits);
    }
}

// Prefill (tiled): tile i = blockIdx.x is rows tiles[2i] .. tiles[2i] + tiles[2i+1] - 1 of one chunk (consecutive
// rows sharing one block table); the block computes all numHeads/numKvHeads query heads of kv head blockIdx.y for
// those rows, each row attending over [0, pos[row]] (causal by its own position), reading each K/V tile once for
// all of them. rows·group <= 16 per tile (the host cuts the tiles). Grid (tiles, numKvHeads), block 128.
extern "C" __global__ void paged_attention_prefill_f16(float* out, const float* q, const unsigned short* kPool,
        const unsigned short* vPool, const int* blockTables, const int* tableOffset, const int* pos,
        const int* tiles, int numHeads, int numKvHeads, int headDim, int blockSize) {
    __shared__ Pa16Shared s;
    const int first = tiles[2 * blockIdx.x], count = tiles[2 * blockIdx.x + 1], kvh = blockIdx.y;
    const int group = numHeads / numKvHeads, nq = count * group;
    for (int i = threadIdx.x; i < nq * headDim; i += PA16_THREADS) {
        int qi = i / headDim, d = i - qi * headDim, row = first + qi / group, h = kvh * group + qi % group;
        s.q[qi][d] = q[((long long)row * numHeads + h) * headDim + d];
    }
    if (threadIdx.x < nq) s.len[threadIdx.x] = pos[first + threadIdx.x / group] + 1;
    int end = 0;
    for (int i = 0; i < count; i++) end = max(end, pos[first + i] + 1);
    __syncthreads();
    float acc[PA16_ACC];
    pa16_run(s, acc, nq, 0, end, kPool, vPool, blockTables + tableOffset[first], numKvHeads * headDim,
             kvh * headDim, headDim, blockSize);
#pragma unroll
    for (int j = 0; j < PA16_ACC; j++) {
        int e = threadIdx.x + PA16_THREADS * j;
        if (e < nq * headDim) {
            int qi = e / headDim, d = e - qi * headDim, row = first + qi / group, h = kvh * group + qi % group;
            out[((long long)row * numHeads + h) * headDim + d] = acc[j] / s.l[qi];
        }
    }
}
