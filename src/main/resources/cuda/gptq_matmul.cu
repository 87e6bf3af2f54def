// GPTQ matmul y[b,o] = sum_i xp[b,i] * w[i,o] (+ bias[o]), w dequantized in registers from the stored GPTQ tensors.
// Self-contained on purpose: NVRTC compiles it at start-up with no include path (fp16 is widened with inline PTX).
//
// Act-order: the host sorts input features by group once at load (stable), re-packs qweight rows and g_idx in that
// order (same GPTQ bit-stream layout, so g_idx becomes non-decreasing) and keeps perm[p] = original input of
// position p; gptq_gather_x applies perm to the activations once per call. Without act-order perm is the identity.
// Codes are handled in "units" of 32 inputs (= `bits` int32 rows of qweight for every width, the 3-bit straddle
// included), so one code path serves 2/3/4/8 bits; BITS is a compile-time constant inside, chosen by a switch.

#define GPTQ_DECODE_MAX_BATCH 4
#define GPTQ_DECODE_MAX_WARPS 32   // decode kernel: most warps per block (blockDim.y) the reduction buffer holds
#define GPTQ_TILE_ROWS 16      // batched kernel: rows of x per block
#define GPTQ_TILE_COLS 128     // batched kernel: output columns per block (= threads)
#define GPTQ_TILE_UNITS 4      // batched kernel: 32-input units of x staged in shared memory per step

static __device__ __forceinline__ float gptq_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);   // the host emulation (src/test/native/cudasim): exact, as cvt.f32.f16 is
#endif
}

// Value j of a little-endian bit stream of `bits`-wide values over words w[0], w[stride], ...
static __device__ __forceinline__ int gptq_extract(const int* w, long long stride, int bits, long long j) {
    long long bit = j * bits;
    long long k = bit >> 5;
    int shift = (int)(bit & 31);
    unsigned v = ((unsigned)w[k * stride]) >> shift;
    if (shift + bits > 32) v |= ((unsigned)w[(k + 1) * stride]) << (32 - shift);
    return (int)(v & ((1u << bits) - 1u));
}

// scale and zero of (group g, column o); zero already includes the legacy +1.
static __device__ __forceinline__ void gptq_group_params(const int* qzeros, const unsigned short* scales, int g, int o,
        int out, int zeroWords, int bits, int zeroPlusOne, float* s, float* z) {
    *s = gptq_h2f(scales[(long long)g * out + o]);
    *z = (float)(gptq_extract(qzeros + (long long)g * zeroWords, 1, bits, o) + zeroPlusOne);
}

// The 32 codes of unit u of column o; words past the last qweight row (in % 32 != 0) read as 0.
template <int BITS>
static __device__ __forceinline__ void gptq_unit_codes(const int* qweight, int o, int out, int qRows, int u,
        float* code) {
    unsigned w[BITS];
#pragma unroll
    for (int j = 0; j < BITS; j++) {
        int r = u * BITS + j;
        w[j] = r < qRows ? (unsigned)__ldg(qweight + (long long)r * out + o) : 0u;
    }
#pragma unroll
    for (int k = 0; k < 32; k++) {
        const int bit = k * BITS, wi = bit >> 5, sh = bit & 31;
        unsigned v = w[wi] >> sh;
        if (sh + BITS > 32) v |= w[wi + 1] << (32 - sh);
        code[k] = (float)(v & ((1u << BITS) - 1u));
    }
}

// Dequantized weights of unit u for column o into wv[32]. The common case (whole unit in one group) loads the
// group's scale/zero once and caches them across units in *curG/*s/*z; a unit that straddles groups (group size
// not a multiple of 32) falls back to a lookup per input.
template <int BITS>
static __device__ __forceinline__ void gptq_unit_weights(const int* qweight, const int* qzeros,
        const unsigned short* scales, const int* gIdx, int o, int in, int out, int qRows, int zeroWords,
        int zeroPlusOne, int u, int* curG, float* s, float* z, float* wv) {
    gptq_unit_codes<BITS>(qweight, o, out, qRows, u, wv);
    int i0 = u * 32;
    int iLast = min(i0 + 31, in - 1);
    int g0 = __ldg(gIdx + i0), g1 = __ldg(gIdx + iLast);
    if (g0 == g1) {
        if (g0 != *curG) {
            gptq_group_params(qzeros, scales, g0, o, out, zeroWords, BITS, zeroPlusOne, s, z);
            *curG = g0;
        }
#pragma unroll
        for (int k = 0; k < 32; k++) wv[k] = (wv[k] - *z) * *s;
    } else {
#pragma unroll
        for (int k = 0; k < 32; k++) {
            int g = __ldg(gIdx + min(i0 + k, in - 1));
            if (g != *curG) {
                gptq_group_params(qzeros, scales, g, o, out, zeroWords, BITS, zeroPlusOne, s, z);
                *curG = g;
            }
            wv[k] = (wv[k] - *z) * *s;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Decode: batch 1..4. Block (32, W): lane = output column (coalesced qweight reads), warp y = a contiguous K slice;
// gridDim.y > 1 splits K further across blocks and then accumulates with atomicAdd (y must be zeroed first).
// red: the entry's (warp, row, lane) partial-sum buffer in shared memory.
template <int BITS>
static __device__ void gptq_decode_body(float (*red)[GPTQ_DECODE_MAX_BATCH][32], const float* xp,
        const int* qweight, const int* qzeros, const unsigned short* scales, const int* gIdx,
        const unsigned short* bias, float* y, int batch, int in, int out, int zeroWords, int zeroPlusOne) {
    int lane = threadIdx.x, warp = threadIdx.y;
    int o = blockIdx.x * 32 + lane;
    int units = (in + 31) / 32;
    int qRows = (int)(((long long)in * BITS) / 32);
    int slices = gridDim.y * blockDim.y;
    int slice = blockIdx.y * blockDim.y + warp;
    int per = (units + slices - 1) / slices;
    int u0 = slice * per, u1 = min(units, u0 + per);
    float acc[GPTQ_DECODE_MAX_BATCH] = {0.f, 0.f, 0.f, 0.f};
    if (o < out) {
        int curG = -1;
        float s = 0.f, z = 0.f;
        float wv[32];
        for (int u = u0; u < u1; u++) {
            gptq_unit_weights<BITS>(qweight, qzeros, scales, gIdx, o, in, out, qRows, zeroWords, zeroPlusOne, u,
                                    &curG, &s, &z, wv);
            int i0 = u * 32;
            int n = min(32, in - i0);
            for (int b = 0; b < batch; b++) {
                const float* xr = xp + (long long)b * in + i0;
                float a = 0.f;
                if (n == 32) {
#pragma unroll
                    for (int k = 0; k < 32; k++) a = fmaf(__ldg(xr + k), wv[k], a);
                } else {
                    for (int k = 0; k < n; k++) a = fmaf(__ldg(xr + k), wv[k], a);
                }
                acc[b] += a;
            }
        }
    }
    for (int b = 0; b < GPTQ_DECODE_MAX_BATCH; b++) red[warp][b][lane] = acc[b];
    __syncthreads();
    if (warp == 0 && o < out) {
        for (int b = 0; b < batch; b++) {
            float t = 0.f;
            for (int w = 0; w < (int)blockDim.y; w++) t += red[w][b][lane];
            if (bias != 0 && blockIdx.y == 0) t += gptq_h2f(bias[o]);
            float* dst = y + (long long)b * out + o;
            if (gridDim.y > 1) atomicAdd(dst, t); else *dst = t;
        }
    }
}

extern "C" __global__ void gptq_matmul_decode(const float* xp, const int* qweight, const int* qzeros,
        const unsigned short* scales, const int* gIdx, const unsigned short* bias, float* y, int batch, int in,
        int out, int bits, int zeroWords, int zeroPlusOne) {
    // Declared here, once, not in the template: each instantiation would get its own __shared__ array and the
    // four would add up to 64 KiB of static shared memory, which ptxas refuses (the static limit is 48 KiB).
    __shared__ float red[GPTQ_DECODE_MAX_WARPS][GPTQ_DECODE_MAX_BATCH][32];
    switch (bits) {
        case 4: gptq_decode_body<4>(red, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 8: gptq_decode_body<8>(red, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 3: gptq_decode_body<3>(red, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 2: gptq_decode_body<2>(red, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        default: break;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Batched: block of GPTQ_TILE_COLS threads = output columns, GPTQ_TILE_ROWS rows of x per block (gridDim.y over
// rows). Each step stages GPTQ_TILE_UNITS*32 inputs of those rows in shared memory; every dequantized weight is
// reused for all the tile's rows from registers, and every x value is a shared-memory broadcast.
// xs: the entry's (row, input) tile of xp in shared memory, GPTQ_TILE_ROWS rows.
template <int BITS>
static __device__ void gptq_batched_body(float (*xs)[GPTQ_TILE_UNITS * 32], const float* xp, const int* qweight,
        const int* qzeros, const unsigned short* scales, const int* gIdx, const unsigned short* bias, float* y,
        int batch, int in, int out, int zeroWords, int zeroPlusOne) {
    int o = blockIdx.x * GPTQ_TILE_COLS + threadIdx.x;
    int b0 = blockIdx.y * GPTQ_TILE_ROWS;
    int units = (in + 31) / 32;
    int qRows = (int)(((long long)in * BITS) / 32);
    float acc[GPTQ_TILE_ROWS];
#pragma unroll
    for (int b = 0; b < GPTQ_TILE_ROWS; b++) acc[b] = 0.f;
    int curG = -1;
    float s = 0.f, z = 0.f;
    float wv[32];
    for (int uc = 0; uc < units; uc += GPTQ_TILE_UNITS) {
        for (int e = threadIdx.x; e < GPTQ_TILE_ROWS * GPTQ_TILE_UNITS * 32; e += blockDim.x) {
            int b = e / (GPTQ_TILE_UNITS * 32), k = e % (GPTQ_TILE_UNITS * 32);
            int i = uc * 32 + k;
            xs[b][k] = (b0 + b < batch && i < in) ? xp[(long long)(b0 + b) * in + i] : 0.f;
        }
        __syncthreads();
        if (o < out) {
            int uEnd = min(units, uc + GPTQ_TILE_UNITS);
            for (int u = uc; u < uEnd; u++) {
                gptq_unit_weights<BITS>(qweight, qzeros, scales, gIdx, o, in, out, qRows, zeroWords, zeroPlusOne,
                                        u, &curG, &s, &z, wv);
                int kb = (u - uc) * 32;
#pragma unroll
                for (int k = 0; k < 32; k++) {
#pragma unroll
                    for (int b = 0; b < GPTQ_TILE_ROWS; b++) acc[b] = fmaf(xs[b][kb + k], wv[k], acc[b]);
                }
            }
        }
        __syncthreads();
    }
    if (o < out) {
        float bo = bias != 0 ? gptq_h2f(bias[o]) : 0.f;
        for (int b = 0; b < GPTQ_TILE_ROWS && b0 + b < batch; b++) y[(long long)(b0 + b) * out + o] = acc[b] + bo;
    }
}

extern "C" __global__ void gptq_matmul_batched(const float* xp, const int* qweight, const int* qzeros,
        const unsigned short* scales, const int* gIdx, const unsigned short* bias, float* y, int batch, int in,
        int out, int bits, int zeroWords, int zeroPlusOne) {
    // One tile for every width, as in gptq_matmul_decode: per-instantiation arrays would take 4 × 8 KiB.
    __shared__ float xs[GPTQ_TILE_ROWS][GPTQ_TILE_UNITS * 32];
    switch (bits) {
        case 4: gptq_batched_body<4>(xs, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 8: gptq_batched_body<8>(xs, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 3: gptq_batched_body<3>(xs, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        case 2: gptq_batched_body<2>(xs, xp, qweight, qzeros, scales, gIdx, bias, y, batch, in, out, zeroWords, zeroPlusOne); break;
        default: break;
    }
}

// xp[b, p] = x[b, perm[p]]: the act-order gather, once per call. Grid (ceil(in/256), batch), block 256.
extern "C" __global__ void gptq_gather_x(const float* x, const int* perm, float* xp, int batch, int in) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int b = blockIdx.y;
    if (p < in && b < batch) xp[(long long)b * in + p] = x[(long long)b * in + perm[p]];
}
