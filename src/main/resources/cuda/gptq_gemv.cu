// GPTQ GEMV for 1..8 rows on the tiled 2/3/4/8-bit layout (docs/gpu-kernels.md, "Tiled GPTQ"):
// y[b, o] = sum_k xh[b, k] * w[k, o] (+ bias[o]) with xh = fp16(x[b, perm[k]]) and w = fp16(s * (q - z)).
// Self-contained on purpose: NVRTC compiles it with no include path. fp16 math is inline PTX under __CUDA_ARCH__
// and the exact host helpers of the emulation (src/test/native/cudasim/cuda_sim.h) otherwise.
//
// One entry per code width (gptq_gemv_tiled: 4 bits, gptq_gemv_tiled_b8, _b2, _b3), the body templated on BITS and
// rows. Grid (out/64, splitK), block 32*GEMV_WARPS. Block (nt, s) owns output panel nt (64 columns) and the s-th
// slice of the k-tiles; it walks its slice in steps of GEMV_STAGE_TILES tiles: stage those inputs of every row in
// shared memory as fp16 pairs (gathered through perm, converted from fp32), then each warp streams a contiguous run
// of the step's tiles; a lane reads BITS words of each tile (4 bits: one 16-byte load, 8 bits: two, 2 bits: one
// 8-byte load, 3 bits: three 4-byte loads). Lane L = 4g + tig holds the partial sums of columns 8t + g (t = 0..7)
// over inputs 2tig, 2tig+1, 2tig+8, 2tig+9 of every tile; the 4 lanes of a g combine with shuffles, the warps in
// shared memory.
//
// Split-K without atomics into y and without a memset: with splitK > 1 every slice writes its panel's sums to
// partials (slice, row, column), counts itself on counters[panel], and the slice that counts last adds the partials
// in slice order (the result does not depend on which slice finished first), then writes y and clears the counter.
// The output: columns [0, n0) to y0 (row stride n0), [n0, n0 + n1) to y1 (stride n1), the rest to y2, so one
// launch of a fused q/k/v or gate/up layer fills its consumers' buffers; with accumulate the value is added to y
// (a residual add folded in). The staged x may be SwiGLU(x, xUp) = silu(x) * xUp (the down projection).
//
// Dequantization without int->float converts: ((w >> BITS*i) & mask) | 0x64006400, mask = 2^BITS - 1 in both halves,
// is the half2 (1024 + q(k0), 1024 + q(k0 + 1)); minus zeros16 (1024 + z, both halves; <= 1280, exact) is q - z
// exactly; times the scale is the one fp16 rounding. At 3 bits 15 of a lane's 16 pairs read so; the 16th sits in the
// words' spare bits 15 and 31 and is gathered bit by bit (gemv_pair). Products and sums are fp32 (chosen over half2
// sums by measured accuracy: docs/gpu-kernels.md).

#define GEMV_WARPS 4
#define GEMV_MAX_ROWS 8
#define GEMV_STAGE_TILES 64   // k-tiles (16 inputs each) of x staged in shared memory per step
#define GEMV_UNROLL 4         // tiles a warp loads before it uses them (8 at 2 bits, 5 at 3: about the same bytes)

static __device__ __forceinline__ float gemv_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);
#endif
}

static __device__ __forceinline__ unsigned short gemv_f2h(float f) {
#ifdef __CUDA_ARCH__
    unsigned short h;
    asm("{ .reg .b16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
    return h;
#else
    return paddock_host_f2h_rn(f);
#endif
}

// (a & MASK) | 0x64006400 in one lop3 (immLut 0xEA = (A & B) | C).
template <unsigned MASK>
static __device__ __forceinline__ unsigned gemv_codes(unsigned a) {
#ifdef __CUDA_ARCH__
    unsigned d;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "n"(MASK), "n"(0x64006400));
    return d;
#else
    return paddock_host_lop3(a, MASK, 0x64006400u, 0xEA);
#endif
}

// The BITS words lane `lane` owns in tile word offset `tile` (docs/gpu-kernels.md): 4 bits words 4L..4L+3 (one
// uint4), 2 bits words 2L, 2L+1 (one uint2), 8 bits words 4L..4L+3 and 128+4L..128+4L+3 (two uint4, each load
// 512 contiguous bytes over the warp), 3 bits words L, 32+L, 64+L (three 4-byte loads, each 128 contiguous bytes
// over the warp: 12 bytes a lane have no aligned vector load).
template <int BITS>
struct GemvTile {
    unsigned w[BITS];
};

template <int BITS>
static __device__ __forceinline__ GemvTile<BITS> gemv_load(const int* qtiles, long long tile, int lane) {
    GemvTile<BITS> t;
    const int* base = qtiles + tile * (32 * BITS);
    if (BITS == 2) {
        uint2 v = __ldg((const uint2*)(base + 2 * lane));
        t.w[0] = v.x;
        t.w[1 % BITS] = v.y;
    } else if (BITS == 3) {
#pragma unroll
        for (int j = 0; j < BITS; j++) t.w[j] = (unsigned)__ldg(base + 32 * j + lane);
    } else {
#pragma unroll
        for (int h = 0; h < BITS / 4; h++) {
            uint4 v = __ldg((const uint4*)(base + 128 * h + 4 * lane));
            t.w[(4 * h) % BITS] = v.x;
            t.w[(4 * h + 1) % BITS] = v.y;
            t.w[(4 * h + 2) % BITS] = v.z;
            t.w[(4 * h + 3) % BITS] = v.w;
        }
    }
    return t;
}

// The half2 (1024 + q(k0, n), 1024 + q(k0 + 1, n)) of register r of n8 subtile t, k0 = 16kt + 2tig + 8r: with
// P = 16 / BITS pairs per word, pair i of word j is t = (P/2)j + (i >> 1), r = i & 1, codes i and i + P.
// 3 bits: pair m = 2t + r; pairs 0..14 are pair m % 5 of word m / 5 (codes at bits 3p and 16 + 3p, p = m % 5, so
// the same shift and mask), pair 15 is spread over bits 15 and 31 of the three words (bit j of its codes in word j).
template <int BITS>
static __device__ __forceinline__ unsigned gemv_pair(const GemvTile<BITS>& q, int t, int r) {
    if (BITS == 3) {
        const int m = 2 * t + r;
        if (m < 15) return gemv_codes<0x00070007u>(q.w[(m / 5) % BITS] >> (3 * (m % 5)));
        return ((q.w[0] >> 15) & 0x00010001u) | ((q.w[1 % BITS] >> 14) & 0x00020002u)
                | gemv_codes<0x00040004u>(q.w[2 % BITS] >> 13);
    }
    constexpr int P = 16 / BITS;
    constexpr unsigned MASK = ((1u << BITS) - 1u) * 0x00010001u;
    const int j = t / (P / 2), i = 2 * (t % (P / 2)) + r;
    return gemv_codes<MASK>(q.w[j] >> (BITS * i));
}

static __device__ __forceinline__ unsigned gemv_hsub2(unsigned a, unsigned b) {
#ifdef __CUDA_ARCH__
    unsigned d;
    asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
#else
    return paddock_host_hsub2(a, b);
#endif
}

static __device__ __forceinline__ unsigned gemv_hmul2(unsigned a, unsigned b) {
#ifdef __CUDA_ARCH__
    unsigned d;
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
#else
    return paddock_host_hmul2(a, b);
#endif
}

// Both halves of a half2 widened (exact): .x = low 16 bits.
static __device__ __forceinline__ void gemv_h2f2(unsigned h, float* lo, float* hi) {
#ifdef __CUDA_ARCH__
    asm("{ .reg .b16 l, h; mov.b32 {l, h}, %2; cvt.f32.f16 %0, l; cvt.f32.f16 %1, h; }" : "=f"(*lo), "=f"(*hi) : "r"(h));
#else
    *lo = paddock_host_h2f((unsigned short)(h & 0xffffu));
    *hi = paddock_host_h2f((unsigned short)(h >> 16));
#endif
}

// Where the results go (docs/gpu-kernels.md "Tiled GPTQ"): column segments, accumulate, the split-K workspace.
struct GemvOut {
    float* y0;
    float* y1;
    float* y2;
    int n0, n1, accumulate;
    float* partials;   // (splits, rows, out) fp32
    int* counters;     // one per panel, zero between launches
};

// Row b, column o (of out) into its segment: y = v, or y += v with accumulate. One writer per element.
static __device__ __forceinline__ void gemv_store(const GemvOut& y, int b, int o, int out, float v) {
    float* dst;
    if (o < y.n0) {
        dst = y.y0 + (long long)b * y.n0 + o;
    } else if (o < y.n0 + y.n1) {
        dst = y.y1 + (long long)b * y.n1 + (o - y.n0);
    } else {
        int n2 = out - y.n0 - y.n1;
        dst = y.y2 + (long long)b * n2 + (o - y.n0 - y.n1);
    }
    *dst = y.accumulate != 0 ? *dst + v : v;
}

// After every thread wrote its partials: true in the block whose slice is the last of `splits` to count on
// *counter, which it clears; its threads may then read every slice's partials. The fences on both sides order the
// partials' writes before the count and the last slice's reads after it (gpu scope).
static __device__ bool gemv_last_slice(int* counter, int splits) {
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        int ticket = atomicAdd(counter, 1);
        last = ticket == splits - 1;
        if (last) atomicExch(counter, 0);
    }
    __syncthreads();
    if (!last) return false;
    __threadfence();
    return true;
}

// swiglu_f32's expression: silu(g) * u in fp32.
static __device__ __forceinline__ float gemv_swiglu(float g, float u) {
    return g / (1.0f + expf(-g)) * u;
}

// xs: the step's inputs as fp16 pairs, xs[b][8 * (kt - c0) + q] = (x(2q), x(2q + 1)) of tile kt;
// red: the warps' column sums.
template <int BITS, int ROWS>
static __device__ void gemv_body(unsigned (*xs)[GEMV_STAGE_TILES * 8], float (*red)[GEMV_MAX_ROWS][64],
        const float* x, const float* xUp, const int* perm, const int* qtiles, const unsigned short* zeros16,
        const unsigned short* scales, const int* tileGroup, const unsigned short* bias, const GemvOut& y, int in,
        int out) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, tig = lane & 3;
    const int nt = blockIdx.x;
    const int kTiles = in >> 4;
    const int per = (kTiles + (int)gridDim.y - 1) / (int)gridDim.y;
    const int kt0 = (int)blockIdx.y * per, kt1 = min(kTiles, kt0 + per);
    // tiles in flight: 64 bytes a lane at 4 and 2 bits, 60 at 3 (5 tiles of 12 bytes), 128 at 8
    constexpr int UNROLL = BITS == 2 ? 2 * GEMV_UNROLL : BITS == 3 ? GEMV_UNROLL + 1 : GEMV_UNROLL;
    const long long panel = (long long)nt * kTiles;   // tile index of the panel's first k-tile
    float acc[ROWS][8];
#pragma unroll
    for (int b = 0; b < ROWS; b++) {
#pragma unroll
        for (int t = 0; t < 8; t++) acc[b][t] = 0.f;
    }
    int curG = -1;
    unsigned z2[8], s2[8];   // (1024 + z, 1024 + z) and (s, s) of columns 8t + g in group curG
    for (int c0 = kt0; c0 < kt1; c0 += GEMV_STAGE_TILES) {
        const int c1 = min(kt1, c0 + GEMV_STAGE_TILES);
        const int pairs = (c1 - c0) * 8;
        for (int e = threadIdx.x; e < ROWS * pairs; e += blockDim.x) {
            int b = e / pairs, q = e - b * pairs;
            int p = c0 * 16 + 2 * q;
            int i0 = perm != 0 ? __ldg(perm + p) : p, i1 = perm != 0 ? __ldg(perm + p + 1) : p + 1;
            float v0 = x[(long long)b * in + i0], v1 = x[(long long)b * in + i1];
            if (xUp != 0) {
                v0 = gemv_swiglu(v0, xUp[(long long)b * in + i0]);
                v1 = gemv_swiglu(v1, xUp[(long long)b * in + i1]);
            }
            xs[b][q] = (unsigned)gemv_f2h(v0) | ((unsigned)gemv_f2h(v1) << 16);
        }
        __syncthreads();
        const int wper = (c1 - c0 + GEMV_WARPS - 1) / GEMV_WARPS;
        const int w0 = c0 + warp * wper, w1 = min(c1, w0 + wper);
        for (int kt = w0; kt < w1; kt += UNROLL) {
            GemvTile<BITS> wq[UNROLL];
#pragma unroll
            for (int u = 0; u < UNROLL; u++) {
                if (kt + u < w1) wq[u] = gemv_load<BITS>(qtiles, panel + kt + u, lane);
            }
#pragma unroll
            for (int u = 0; u < UNROLL; u++) {
                if (kt + u >= w1) break;
                const int grp = __ldg(tileGroup + kt + u);
                if (grp != curG) {
                    curG = grp;
#pragma unroll
                    for (int t = 0; t < 8; t++) {
                        long long at = (long long)grp * out + nt * 64 + 8 * t + g;
                        unsigned z = __ldg(zeros16 + at), s = __ldg(scales + at);
                        z2[t] = z | (z << 16);
                        s2[t] = s | (s << 16);
                    }
                }
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    // inputs 2tig + 8r and 2tig + 8r + 1 of the tile, every row
                    const int xq = (kt + u - c0) * 8 + tig + 4 * r;
                    float xv[ROWS][2];
#pragma unroll
                    for (int b = 0; b < ROWS; b++) gemv_h2f2(xs[b][xq], &xv[b][0], &xv[b][1]);
#pragma unroll
                    for (int t = 0; t < 8; t++) {
                        unsigned h = gemv_hmul2(gemv_hsub2(gemv_pair<BITS>(wq[u], t, r), z2[t]), s2[t]);
                        float wlo, whi;
                        gemv_h2f2(h, &wlo, &whi);
#pragma unroll
                        for (int b = 0; b < ROWS; b++) {
                            acc[b][t] = fmaf(wlo, xv[b][0], acc[b][t]);
                            acc[b][t] = fmaf(whi, xv[b][1], acc[b][t]);
                        }
                    }
                }
            }
        }
        __syncthreads();   // the next step overwrites xs
    }
#pragma unroll
    for (int b = 0; b < ROWS; b++) {
#pragma unroll
        for (int t = 0; t < 8; t++) {
            float v = acc[b][t];
            v += __shfl_xor_sync(0xffffffffu, v, 1);
            v += __shfl_xor_sync(0xffffffffu, v, 2);
            if (tig == 0) red[warp][b][8 * t + g] = v;
        }
    }
    __syncthreads();
    const int splits = (int)gridDim.y;
    if (splits > 1) {
        // This slice's sums to the partials, then the count; only the slice that counts last goes on.
        for (int e = threadIdx.x; e < ROWS * 64; e += blockDim.x) {
            int b = e >> 6, c = e & 63;
            float v = 0.f;
#pragma unroll
            for (int w = 0; w < GEMV_WARPS; w++) v += red[w][b][c];
            y.partials[((long long)blockIdx.y * ROWS + b) * out + nt * 64 + c] = v;
        }
        if (!gemv_last_slice(y.counters + nt, splits)) return;
    }
    for (int e = threadIdx.x; e < ROWS * 64; e += blockDim.x) {
        int b = e >> 6, c = e & 63;
        int o = nt * 64 + c;
        float v = 0.f;
        if (splits > 1) {
            for (int sl = 0; sl < splits; sl++) v += y.partials[((long long)sl * ROWS + b) * out + o];
        } else {
#pragma unroll
            for (int w = 0; w < GEMV_WARPS; w++) v += red[w][b][c];
        }
        if (bias != 0) v += gemv_h2f(bias[o]);
        gemv_store(y, b, o, out, v);
    }
}

template <int BITS>
static __device__ __forceinline__ void gemv_rows(unsigned (*xs)[GEMV_STAGE_TILES * 8],
        float (*red)[GEMV_MAX_ROWS][64], const float* x, const float* xUp, const int* perm, const int* qtiles,
        const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup, const unsigned short* bias,
        const GemvOut& y, int rows, int in, int out) {
    switch (rows) {
        case 1: gemv_body<BITS, 1>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 2: gemv_body<BITS, 2>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 3: gemv_body<BITS, 3>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 4: gemv_body<BITS, 4>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 5: gemv_body<BITS, 5>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 6: gemv_body<BITS, 6>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 7: gemv_body<BITS, 7>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        case 8: gemv_body<BITS, 8>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, in, out); break;
        default: break;
    }
}

// rows 1..GEMV_MAX_ROWS of x (rows, in) fp32 in the original input order (xUp: null, or the up projection, same
// shape, for a staged SwiGLU); y: the segments (rows, n0 | n1 | out - n0 - n1) fp32. Block 32*GEMV_WARPS; with
// gridDim.y > 1, partials holds gridDim.y * rows * out floats and counters out/64 ints, zero at launch.
// Shared memory is declared once in each entry (not per instantiation: eight copies would add up past the static
// limit). One entry per code width; the parameters are the same.
extern "C" __global__ void gptq_gemv_tiled(const float* x, const float* xUp, const int* perm,
        const int* qtiles, const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup,
        const unsigned short* bias, float* y0, float* y1, float* y2, int n0, int n1, int accumulate, float* partials,
        int* counters, int rows, int in, int out) {
    __shared__ unsigned xs[GEMV_MAX_ROWS][GEMV_STAGE_TILES * 8];
    __shared__ float red[GEMV_WARPS][GEMV_MAX_ROWS][64];
    const GemvOut y = {y0, y1, y2, n0, n1, accumulate, partials, counters};
    gemv_rows<4>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, rows, in, out);
}

extern "C" __global__ void gptq_gemv_tiled_b8(const float* x, const float* xUp, const int* perm,
        const int* qtiles, const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup,
        const unsigned short* bias, float* y0, float* y1, float* y2, int n0, int n1, int accumulate, float* partials,
        int* counters, int rows, int in, int out) {
    __shared__ unsigned xs[GEMV_MAX_ROWS][GEMV_STAGE_TILES * 8];
    __shared__ float red[GEMV_WARPS][GEMV_MAX_ROWS][64];
    const GemvOut y = {y0, y1, y2, n0, n1, accumulate, partials, counters};
    gemv_rows<8>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, rows, in, out);
}

extern "C" __global__ void gptq_gemv_tiled_b2(const float* x, const float* xUp, const int* perm,
        const int* qtiles, const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup,
        const unsigned short* bias, float* y0, float* y1, float* y2, int n0, int n1, int accumulate, float* partials,
        int* counters, int rows, int in, int out) {
    __shared__ unsigned xs[GEMV_MAX_ROWS][GEMV_STAGE_TILES * 8];
    __shared__ float red[GEMV_WARPS][GEMV_MAX_ROWS][64];
    const GemvOut y = {y0, y1, y2, n0, n1, accumulate, partials, counters};
    gemv_rows<2>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, rows, in, out);
}

extern "C" __global__ void gptq_gemv_tiled_b3(const float* x, const float* xUp, const int* perm,
        const int* qtiles, const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup,
        const unsigned short* bias, float* y0, float* y1, float* y2, int n0, int n1, int accumulate, float* partials,
        int* counters, int rows, int in, int out) {
    __shared__ unsigned xs[GEMV_MAX_ROWS][GEMV_STAGE_TILES * 8];
    __shared__ float red[GEMV_WARPS][GEMV_MAX_ROWS][64];
    const GemvOut y = {y0, y1, y2, n0, n1, accumulate, partials, counters};
    gemv_rows<3>(xs, red, x, xUp, perm, qtiles, zeros16, scales, tileGroup, bias, y, rows, in, out);
}
