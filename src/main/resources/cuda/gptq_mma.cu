// Tensor-core GPTQ GEMM for 4-bit layers in the tiled layout (docs/gpu-kernels.md, "Tiled GPTQ"):
// y[m, n] = sum_k xh[m, k] * w[k, n] (+ bias[n]), w[k, n] = scale[g, n] * (q(k, n) - z[g, n]) dequantized to fp16
// in registers, products on the tensor cores (mma.sync m16n8k16, fp16 x fp16 -> fp32), fp32 accumulation.
// Self-contained on purpose (NVRTC compiles it with no include path): every instruction the host emulation must
// model is a small helper with inline PTX under __CUDA_ARCH__ and the emulation's exact equivalent otherwise.
//
// Inputs are in the act-order-sorted order; gptq_mma_prepare_x gathers x through perm and rounds it to fp16 once
// per call (xh), so the GEMM's A tiles are plain 16-byte cp.async copies.

#define GM_WARPS 4           // warps per block; warp w owns 64-column panel blockIdx.x * 4 + w
#define GM_KTILES 2          // 16-input k-tiles per pipeline stage
#define GM_STAGES 4          // cp.async pipeline depth
#define GM_MAX_MTILES 4      // 16-row m-tiles per block at most (64 rows)
#define GM_A_ROW 5           // 16-byte chunks per A row in shared memory: 32 halves + 8 padding (ldmatrix without
                             // bank conflicts: rows 80 bytes apart hit distinct 4-bank groups)

static __device__ __forceinline__ float gm_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);
#endif
}

static __device__ __forceinline__ unsigned short gm_f2h(float f) {
#ifdef __CUDA_ARCH__
    unsigned short h;
    asm("{ .reg .b16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
    return h;
#else
    return paddock_host_f2h_rn(f);
#endif
}

// (a & b) | c on 32 bits.
static __device__ __forceinline__ unsigned gm_and_or(unsigned a, unsigned b, unsigned c) {
#ifdef __CUDA_ARCH__
    unsigned d;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
#else
    return paddock_host_lop3(a, b, c, 0xEA);
#endif
}

// half2 (a - b) * s with two explicit round-to-nearest operations (.rn keeps ptxas from fusing them into an fma).
static __device__ __forceinline__ unsigned gm_sub_mul(unsigned a, unsigned b, unsigned s) {
#ifdef __CUDA_ARCH__
    unsigned d;
    asm("{ .reg .b32 t; sub.rn.f16x2 t, %1, %2; mul.rn.f16x2 %0, t, %3; }" : "=r"(d) : "r"(a), "r"(b), "r"(s));
    return d;
#else
    return paddock_host_hmul2(paddock_host_hsub2(a, b), s);
#endif
}

// d += A (16x16, row) * B (16x8, col), fp32 accumulators, in the PTX ISA's fragment layouts.
static __device__ __forceinline__ void gm_mma(float* d, const unsigned* a, unsigned b0, unsigned b1) {
#ifdef __CUDA_ARCH__
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    const unsigned b[2] = {b0, b1};
    ::paddock_sim::mma_m16n8k16_f32_f16(d, a, b, d, __FILE__, __LINE__);
#endif
}

// The A fragment of one 16x16 tile: four 8x8 matrices (rows 0-7 / 8-15 x k 0-7, then k 8-15); lane l gives the
// address of row (l & 7) + 8 * ((l >> 3) & 1), k offset 8 * (l >> 4).
static __device__ __forceinline__ void gm_ldmatrix_x4(unsigned* a, const void* row) {
#ifdef __CUDA_ARCH__
    unsigned s;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(s) : "l"(row));
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3]) : "r"(s));
#else
    ::paddock_sim::ldmatrix_m8n8(a, 4, false, row, __FILE__, __LINE__);
#endif
}

// 16-byte asynchronous copy global -> shared; srcBytes < 16 zero-fills the rest (0: a row past the end of x).
static __device__ __forceinline__ void gm_cp_async16(void* dst, const void* src, int srcBytes) {
#ifdef __CUDA_ARCH__
    unsigned s;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(s) : "l"(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(s), "l"(src), "r"(srcBytes) : "memory");
#else
    ::paddock_sim::cp_async(dst, src, 16, srcBytes, true, __FILE__, __LINE__);
#endif
}

static __device__ __forceinline__ void gm_cp_commit() {
#ifdef __CUDA_ARCH__
    asm volatile("cp.async.commit_group;" ::: "memory");
#else
    ::paddock_sim::cp_async_commit_group();
#endif
}

// Waits until at most GM_STAGES - 2 of this thread's most recent groups are pending.
static __device__ __forceinline__ void gm_cp_wait_stages() {
#ifdef __CUDA_ARCH__
    asm volatile("cp.async.wait_group %0;" :: "n"(GM_STAGES - 2) : "memory");
#else
    ::paddock_sim::cp_async_wait_group(GM_STAGES - 2, __FILE__, __LINE__);
#endif
}

// Two consecutive floats of a split-K partial, read at L2 (ld.global.cg): they were written by other blocks of
// this launch, so a line an SM's L1 might hold must not answer.
static __device__ __forceinline__ float2 gm_ld_cg2(const float* p) {
#ifdef __CUDA_ARCH__
    float2 v;
    asm volatile("ld.global.cg.v2.f32 {%0, %1}, [%2];" : "=f"(v.x), "=f"(v.y) : "l"(p));
    return v;
#else
    return make_float2(p[0], p[1]);
#endif
}

// Where output column col of row m goes (GptqOut): [0, n0) -> y0 (row stride n0), [n0, n0 + n1) -> y1 (stride
// n1), the rest -> y2 (stride N - n0 - n1); accumulate adds v to what is there instead of overwriting it.
struct GmOut {
    float* y0;
    float* y1;
    float* y2;
    int n0, n1, accumulate;

    __device__ __forceinline__ void store(int m, int col, int N, float v) const {
        float* dst;
        if (col < n0) {
            dst = y0 + (long long)m * n0 + col;
        } else if (col < n0 + n1) {
            dst = y1 + (long long)m * n1 + (col - n0);
        } else {
            dst = y2 + (long long)m * (N - n0 - n1) + (col - n0 - n1);
        }
        *dst = accumulate ? *dst + v : v;
    }
};

// ---------------------------------------------------------------------------------------------------------------
// xh[m, p] = fp16(v(m, perm[p])) (perm null: identity), round to nearest even, where v = x, or with xUp non-null
// the SwiGLU of gate x and up xUp: v = g / (1 + exp(-g)) * u (swiglu_f32's fp32 expression in layer_ops.cu), so the
// down projection takes the MLP's gate/up output directly. Grid (ceil(K/256), M), block 256.
extern "C" __global__ void gptq_mma_prepare_x(const float* x, const float* xUp, const int* perm, unsigned short* xh,
        int M, int K) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    int m = blockIdx.y;
    if (p < K && m < M) {
        const long long src = (long long)m * K + (perm != 0 ? perm[p] : p);
        float v = x[src];
        if (xUp != 0) v = v / (1.0f + expf(-v)) * xUp[src];
        xh[(long long)m * K + p] = gm_f2h(v);
    }
}

// Shared memory of one block: GM_STAGES stages of the A tile (rows x 32 halves, padded) and of the qtiles
// (GM_KTILES k-tiles x 4 panels x 32 lanes x 16 bytes).
struct GmShared {
    uint4 a[GM_STAGES][GM_MAX_MTILES * 16][GM_A_ROW];
    uint4 b[GM_STAGES][GM_KTILES][GM_WARPS][32];
};

// One block: rows row0 .. row0 + 16*MT - 1 of y, panels nt = blockIdx.x * 4 + warp, k-tiles [kt0, kt1).
template <int MT>
static __device__ void gm_body(GmShared& sm, const unsigned short* xh, const int* qtiles,
        const unsigned short* zeros16, const unsigned short* scales, const int* tileGroup,
        const unsigned short* bias, const GmOut& out, float* partials, int* counters, int& lastFlag, int M,
        int K, int N) {
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int kTiles = K >> 4, panels = N >> 6;
    const int row0 = blockIdx.y * (16 * MT);
    const int nt = blockIdx.x * GM_WARPS + warp;
    const bool panelOk = nt < panels;
    const int splitK = gridDim.z, slice = blockIdx.z;
    const int per = (kTiles + splitK - 1) / splitK;
    const int kt0 = min(kTiles, slice * per), kt1 = min(kTiles, kt0 + per);
    const int stages = (kt1 - kt0 + GM_KTILES - 1) / GM_KTILES;
    if (row0 >= M) return;   // uniform per block

    // Issues the copies of stage s into buffer s % GM_STAGES; always commits one group (possibly empty).
    auto load = [&](int s) {
        if (s < stages) {
            const int buf = s % GM_STAGES;
            const int ktBase = kt0 + s * GM_KTILES;
#pragma unroll
            for (int j = 0; j < GM_KTILES; j++) {
                const int kt = ktBase + j;
                if (panelOk && kt < kt1) {
                    gm_cp_async16(&sm.b[buf][j][warp][lane], qtiles + (((long long)nt * kTiles + kt) * 128 + lane * 4), 16);
                }
            }
            // A: 16*MT rows x GM_KTILES*2 chunks of 8 halves
            for (int e = tid; e < 16 * MT * GM_KTILES * 2; e += GM_WARPS * 32) {
                const int r = e / (GM_KTILES * 2), c = e % (GM_KTILES * 2);
                const int kt = ktBase + (c >> 1);
                if (kt < kt1) {
                    const int m = row0 + r;
                    const unsigned short* src = xh + (long long)min(m, M - 1) * K + kt * 16 + (c & 1) * 8;
                    gm_cp_async16(&sm.a[buf][r][c], src, m < M ? 16 : 0);
                }
            }
        }
        gm_cp_commit();
    };

    float acc[MT][8][4];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int t = 0; t < 8; t++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][t][c] = 0.f;

    const int g = lane >> 2, tig = lane & 3;
    unsigned s2[8], z2[8];   // (scale, scale) and (1024 + zero, 1024 + zero) of the lane's 8 columns
    int curGroup = -1;

#pragma unroll
    for (int s = 0; s < GM_STAGES - 1; s++) load(s);

    for (int s = 0; s < stages; s++) {
        gm_cp_wait_stages();
        __syncthreads();          // stage s visible to every warp; buffer (s - 1) % GM_STAGES free
        load(s + GM_STAGES - 1);
        const int buf = s % GM_STAGES;
        if (panelOk) {
#pragma unroll
            for (int j = 0; j < GM_KTILES; j++) {
                const int kt = kt0 + s * GM_KTILES + j;
                if (kt >= kt1) break;
                const int grp = tileGroup[kt];
                if (grp != curGroup) {
                    curGroup = grp;
#pragma unroll
                    for (int t = 0; t < 8; t++) {
                        const long long o = (long long)grp * N + nt * 64 + 8 * t + g;
                        const unsigned sv = scales[o], zv = zeros16[o];
                        s2[t] = sv | (sv << 16);
                        z2[t] = zv | (zv << 16);
                    }
                }
                unsigned a[MT][4];
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    gm_ldmatrix_x4(a[i], &sm.a[buf][i * 16 + (lane & 7) + 8 * ((lane >> 3) & 1)][2 * j + (lane >> 4)]);
                }
                const uint4 w = sm.b[buf][j][warp][lane];   // this lane's own copy: complete after its wait
                const unsigned words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
                for (int t = 0; t < 8; t++) {
                    // word t/2, nibbles i = 2*(t&1) + r: ((w >> 4i) & 0x000f000f) | 0x64006400 = (1024 + q) pairs
                    const unsigned word = words[t >> 1];
                    const int i0 = 2 * (t & 1);
                    const unsigned b0 = gm_sub_mul(gm_and_or(word >> (4 * i0), 0x000f000fu, 0x64006400u), z2[t], s2[t]);
                    const unsigned b1 = gm_sub_mul(gm_and_or(word >> (4 * i0 + 4), 0x000f000fu, 0x64006400u), z2[t], s2[t]);
#pragma unroll
                    for (int i = 0; i < MT; i++) gm_mma(acc[i][t], a[i], b0, b1);
                }
            }
        }
    }

    // The lane's outputs: m16 tile i, n8 tile t, half h -> row row0 + 16i + g + 8h, columns col, col + 1.
    if (splitK == 1) {
        if (!panelOk) return;
#pragma unroll
        for (int i = 0; i < MT; i++) {
#pragma unroll
            for (int t = 0; t < 8; t++) {
                const int col = nt * 64 + 8 * t + 2 * tig;
                const float b0 = bias != 0 ? gm_h2f(bias[col]) : 0.f, b1 = bias != 0 ? gm_h2f(bias[col + 1]) : 0.f;
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int m = row0 + i * 16 + g + 8 * h;
                    if (m < M) {
                        out.store(m, col, N, acc[i][t][2 * h] + b0);
                        out.store(m, col + 1, N, acc[i][t][2 * h + 1] + b1);
                    }
                }
            }
        }
        return;
    }

    // Split-K: this slice's sums (no bias) to partials[slice][m][col]; the block that counts last on the tile's
    // counter adds the slices in slice order 0, 1, .. (the same sum whichever slice finished last), adds the bias,
    // stores through out and sets the counter back to zero for the next launch.
    if (panelOk) {
#pragma unroll
        for (int i = 0; i < MT; i++) {
#pragma unroll
            for (int t = 0; t < 8; t++) {
                const int col = nt * 64 + 8 * t + 2 * tig;
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int m = row0 + i * 16 + g + 8 * h;
                    if (m < M) {
                        *reinterpret_cast<float2*>(partials + ((long long)slice * M + m) * N + col) =
                                make_float2(acc[i][t][2 * h], acc[i][t][2 * h + 1]);
                    }
                }
            }
        }
    }
    __threadfence();   // this thread's partials are visible device-wide before the block counts itself
    __syncthreads();
    const int tile = blockIdx.x + gridDim.x * blockIdx.y;
    if (tid == 0) lastFlag = atomicAdd(&counters[tile], 1) == splitK - 1;
    __syncthreads();
    if (!lastFlag) return;
    __threadfence();   // every other slice's partials (fenced before their count) are visible to this thread
    if (tid == 0) atomicExch(&counters[tile], 0);
    if (!panelOk) return;
    // Not unrolled: acc is dead here, and unrolled, the loads hoisted ahead cost ~30 registers at the kernel's peak.
#pragma unroll 1
    for (int i = 0; i < MT; i++) {
#pragma unroll 1
        for (int t = 0; t < 8; t++) {
            const int col = nt * 64 + 8 * t + 2 * tig;
            const float b0 = bias != 0 ? gm_h2f(bias[col]) : 0.f, b1 = bias != 0 ? gm_h2f(bias[col + 1]) : 0.f;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int m = row0 + i * 16 + g + 8 * h;
                if (m >= M) continue;
                const float* p = partials + (long long)m * N + col;
                const long long sliceStride = (long long)M * N;
                float2 v = gm_ld_cg2(p);
                for (int z = 1; z < splitK; z++) {
                    const float2 w = gm_ld_cg2(p + z * sliceStride);
                    v.x += w.x;
                    v.y += w.y;
                }
                out.store(m, col, N, v.x + b0);
                out.store(m, col + 1, N, v.y + b1);
            }
        }
    }
}

// y = xh * W (+ bias) for one 4-bit tiled layer, stored through the segments y0 / y1 / y2 (see GmOut; overwritten,
// or added to with accumulate). Block 128 threads (4 warps). Grid (ceil(N/256), ceil(M/(16*MT)), splitK) with
// MT = 1 (M <= 16), 2 (M <= 32), else 4; slice z of splitK takes a contiguous range of k-tiles. With splitK > 1,
// partials holds splitK * M * N floats (8-byte aligned: pairs are stored as float2) and counters one zero int per
// (x, y) tile of the grid (left zero); each element of y still has exactly one writer, no atomics into y and no
// zeroing first. K % 16 == 0, N % 64 == 0.
extern "C" __global__ void gptq_mma_gemm(const unsigned short* xh, const int* qtiles, const unsigned short* zeros16,
        const unsigned short* scales, const int* tileGroup, const unsigned short* bias, float* y0, float* y1,
        float* y2, int n0, int n1, int accumulate, float* partials, int* counters, int M, int K, int N) {
    __shared__ GmShared sm;   // once here, not per instantiation (see gptq_matmul.cu)
    __shared__ int lastFlag;  // split-K: whether this block counted last on its tile
    const GmOut out = {y0, y1, y2, n0, n1, accumulate};
    if (M <= 16) {
        gm_body<1>(sm, xh, qtiles, zeros16, scales, tileGroup, bias, out, partials, counters, lastFlag, M, K, N);
    } else if (M <= 32) {
        gm_body<2>(sm, xh, qtiles, zeros16, scales, tileGroup, bias, out, partials, counters, lastFlag, M, K, N);
    } else {
        gm_body<4>(sm, xh, qtiles, zeros16, scales, tileGroup, bias, out, partials, counters, lastFlag, M, K, N);
    }
}
