// Kernel tests, part of kernel_tests.cpp's harness: the emulation's warp-level tensor-core and async-copy
// instructions (mma.sync m16n8k16, ldmatrix m8n8, cp.async and its groups) through small CUDA kernels written as
// the .cu files use them, checked against references written here from the PTX ISA's fragment layouts, and the
// misuses that must fail a launch.
#include "kernel_tests.h"

// ---- test kernels (host branch of what a .cu file wraps in inline PTX) ------------------------------------------
static __device__ __forceinline__ void t_mma(float* d, const unsigned* a, const unsigned* b) {
    ::paddock_sim::mma_m16n8k16_f32_f16(d, a, b, d, __FILE__, __LINE__);
}
static __device__ __forceinline__ void t_ldsm(unsigned* r, int count, bool trans, const void* row) {
    ::paddock_sim::ldmatrix_m8n8(r, count, trans, row, __FILE__, __LINE__);
}
static __device__ __forceinline__ void t_cp16(void* dst, const void* src) {
    ::paddock_sim::cp_async(dst, src, 16, 16, true, __FILE__, __LINE__);
}

// One m16n8k16 product per warp: A row-major [16][16] fp16, B [16 k][8 n] fp16, C/D [16][8] fp32. Each lane
// builds its fragments element by element from the PTX ISA's tables (groupID g = lane >> 2, threadID_in_group t).
extern "C" __global__ void sim_mma_layout(const unsigned short* A, const unsigned short* B, const float* C, float* D) {
    int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    A += w * 256;
    B += w * 128;
    C += w * 128;
    D += w * 128;
    int g = lane >> 2, t = lane & 3;
    unsigned a[4], b[2];
    float d[4];
    for (int r = 0; r < 4; r++) {   // a_{2r}, a_{2r+1}
        int row = g + 8 * (r & 1), col = 2 * t + 8 * (r >> 1);
        a[r] = A[row * 16 + col] | (unsigned)A[row * 16 + col + 1] << 16;
    }
    for (int r = 0; r < 2; r++) {   // b_{2r}, b_{2r+1}
        int k = 2 * t + 8 * r;
        b[r] = B[k * 8 + g] | (unsigned)B[(k + 1) * 8 + g] << 16;
    }
    for (int i = 0; i < 4; i++) d[i] = C[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
    t_mma(d, a, b);
    for (int i = 0; i < 4; i++) D[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = d[i];
}
PADDOCK_SIM_EXPORT(sim_mma_layout)

// The same product with the fragments loaded by ldmatrix from shared memory, as GEMM kernels do: A row-major
// through .x4 (matrices: rows 0-7/8-15 x k 0-7, then k 8-15), B stored k-major ([k][n]) through .x2.trans.
extern "C" __global__ void sim_mma_ldmatrix(const unsigned short* A, const unsigned short* B, const float* C, float* D) {
    __shared__ __attribute__((aligned(16))) unsigned short sa[16][24];   // padded rows: 48 bytes, 16-aligned
    __shared__ __attribute__((aligned(16))) unsigned short sb[16][8];
    int lane = threadIdx.x;
    for (int e = lane; e < 256; e += 32) sa[e / 16][e % 16] = A[e];
    for (int e = lane; e < 128; e += 32) sb[e / 8][e % 8] = B[e];
    __syncwarp();
    unsigned a[4], b[2];
    t_ldsm(a, 4, false, &sa[(lane & 7) + 8 * ((lane >> 3) & 1)][8 * (lane >> 4)]);
    t_ldsm(b, 2, true, &sb[lane & 15][0]);
    int g = lane >> 2, t = lane & 3;
    float d[4];
    for (int i = 0; i < 4; i++) d[i] = C[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)];
    t_mma(d, a, b);
    for (int i = 0; i < 4; i++) D[(g + 8 * (i >> 1)) * 8 + 2 * t + (i & 1)] = d[i];
}
PADDOCK_SIM_EXPORT(sim_mma_ldmatrix)

// ldmatrix .x{count}[.trans]: 32 rows of 8 b16 values in shared memory (value = 8*row + column); lane l gives row
// rowOf[l]. out[lane*4 + i] = register i.
extern "C" __global__ void sim_ldmatrix(const int* rowOf, int count, int trans, unsigned* out) {
    __shared__ __attribute__((aligned(16))) unsigned short rows[32][8];
    int lane = threadIdx.x;
    for (int c = 0; c < 8; c++) rows[lane][c] = (unsigned short)(8 * lane + c);
    __syncwarp();
    unsigned r[4] = {0xdead, 0xdead, 0xdead, 0xdead};
    t_ldsm(r, count, trans != 0, &rows[rowOf[lane]][0]);
    for (int i = 0; i < 4; i++) out[lane * 4 + i] = r[i];
}
PADDOCK_SIM_EXPORT(sim_ldmatrix)

// Double-buffered cp.async pipeline: a block of 64 threads copies n 16-byte chunks per step through two shared
// stages and writes them back out (dst = src when correct). skipWait: the version that forgets the wait_group.
extern "C" __global__ void sim_cp_async_pipeline(const uint4* src, uint4* dst, int steps, int skipWait) {
    __shared__ uint4 stage[2][64];
    int t = threadIdx.x;
    stage[0][t] = make_uint4(0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef);
    stage[1][t] = stage[0][t];
    __syncthreads();
    t_cp16(&stage[0][t], &src[t]);
    ::paddock_sim::cp_async_commit_group();
    for (int s = 0; s < steps; s++) {
        if (s + 1 < steps) t_cp16(&stage[(s + 1) & 1][t], &src[(s + 1) * 64 + t]);
        ::paddock_sim::cp_async_commit_group();   // possibly empty: keeps the group count uniform
        if (!skipWait) ::paddock_sim::cp_async_wait_group(1, __FILE__, __LINE__);
        __syncthreads();
        dst[s * 64 + t] = stage[s & 1][63 - t];   // read a chunk another thread copied
        __syncthreads();
    }
}
PADDOCK_SIM_EXPORT(sim_cp_async_pipeline)

// .ca copies of 4 and 8 bytes, a zero-filling copy (source size 6 of 16), wait_all; and a copy into memory the
// kernel never waits for, which the emulation completes at thread exit. out[0..7]: words.
extern "C" __global__ void sim_cp_async_sizes(const unsigned* src, unsigned* out, unsigned* atExit) {
    __shared__ __attribute__((aligned(16))) unsigned s[8];
    if (threadIdx.x == 0) {
        for (int i = 0; i < 8; i++) s[i] = 0xffffffffu;
        ::paddock_sim::cp_async(&s[0], &src[1], 4, 4, false, __FILE__, __LINE__);
        ::paddock_sim::cp_async(&s[2], &src[2], 8, 8, false, __FILE__, __LINE__);
        ::paddock_sim::cp_async(&s[4], &src[4], 16, 6, false, __FILE__, __LINE__);
        unsigned before = s[0];
        ::paddock_sim::cp_async_wait_all();
        for (int i = 0; i < 8; i++) out[i] = s[i];
        out[8] = before;
        // emulation-only check (cp.async's destination must be shared memory on a GPU): pending at exit
        ::paddock_sim::cp_async(atExit, &src[0], 16, 16, true, __FILE__, __LINE__);
        ::paddock_sim::cp_async_commit_group();
    }
}
PADDOCK_SIM_EXPORT(sim_cp_async_sizes)

// misuses
extern "C" __global__ void sim_mma_half_warp() {
    unsigned a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
    float d[4] = {0, 0, 0, 0};
    if (threadIdx.x >= 16) return;
    t_mma(d, a, b);
}
PADDOCK_SIM_EXPORT(sim_mma_half_warp)

extern "C" __global__ void sim_mma_block16() {
    unsigned a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
    float d[4] = {0, 0, 0, 0};
    t_mma(d, a, b);
}
PADDOCK_SIM_EXPORT(sim_mma_block16)

extern "C" __global__ void sim_cp_async_misaligned(const unsigned char* src, int offset) {
    __shared__ __attribute__((aligned(16))) unsigned char s[64];
    t_cp16(&s[0], src + offset);
    ::paddock_sim::cp_async_wait_all();
}
PADDOCK_SIM_EXPORT(sim_cp_async_misaligned)

extern "C" __global__ void sim_ldmatrix_misaligned() {
    __shared__ __attribute__((aligned(16))) unsigned short s[33][8];
    unsigned r[4];
    t_ldsm(r, 4, false, &s[threadIdx.x][threadIdx.x == 7 ? 1 : 0]);
}
PADDOCK_SIM_EXPORT(sim_ldmatrix_misaligned)

extern "C" __global__ void sim_ldmatrix_mixed() {
    __shared__ __attribute__((aligned(16))) unsigned short s[32][8];
    unsigned r[4];
    t_ldsm(r, threadIdx.x < 16 ? 4 : 2, false, &s[threadIdx.x][0]);
}
PADDOCK_SIM_EXPORT(sim_ldmatrix_mixed)

namespace kt {
namespace {

Outcome expect_error(int rc, const char* needle) {
    std::string msg = paddock_sim_last_error();
    if (rc == 0) return {false, std::string("launch succeeded; expected an error containing '") + needle + "'"};
    if (msg.find(needle) == std::string::npos) return {false, "unexpected error: " + msg};
    return {true, msg};
}

struct MmaData {
    std::vector<u16> a, b;
    std::vector<float> c;
};

MmaData mma_data(int warps, const std::string& seed, bool hard) {
    Rng rng(seed);
    MmaData m{std::vector<u16>(256 * warps), std::vector<u16>(128 * warps), std::vector<float>(128 * warps)};
    for (auto& v : m.a) v = to_half(hard ? std::ldexp(rng.uniform(1, 2), rng.below(30) - 15) * (rng.below(2) ? 1 : -1) : rng.uniform(-2, 2));
    for (auto& v : m.b) v = to_half(hard ? std::ldexp(rng.uniform(1, 2), rng.below(30) - 15) * (rng.below(2) ? 1 : -1) : rng.uniform(-2, 2));
    for (auto& v : m.c) v = hard ? std::ldexp(rng.uniform(-1, 1), rng.below(40) - 20) : rng.uniform(-4, 4);
    return m;
}

// D = A*B + C per warp: `same_order` = the emulation's model (double, k in order, one rounding to fp32), else the
// exact value (long double accumulation with an error-free check is overkill here: products are exact in double
// and 16 terms of such magnitudes stay within double's range, so it is compared within one fp32 rounding).
Outcome mma_compare(const MmaData& m, const std::vector<float>& d, int warps, bool bit_exact) {
    Compare cmp;
    for (int w = 0; w < warps; w++) {
        for (int r = 0; r < 16; r++) {
            for (int n = 0; n < 8; n++) {
                double acc = m.c[w * 128 + r * 8 + n], mag = std::fabs(acc);
                for (int k = 0; k < 16; k++) {
                    double p = half_value(m.a[w * 256 + r * 16 + k]) * half_value(m.b[w * 128 + k * 8 + n]);
                    acc += p;
                    mag += std::fabs(p);
                }
                std::size_t i = static_cast<std::size_t>(w) * 128 + r * 8 + n;
                if (bit_exact) {
                    cmp.exact(i, d[i], static_cast<float>(acc));
                } else {
                    cmp.add(i, d[i], acc, kU * std::fabs(acc) + 17 * 0x1p-53 * mag);
                }
            }
        }
    }
    return cmp.outcome();
}

Outcome mma_layout_case(bool hard) {
    const int warps = 4;
    MmaData m = mma_data(warps, hard ? "mma hard" : "mma", hard);
    std::vector<float> d(128 * warps, kNaN);
    if (launch(paddock_sim_launch_sim_mma_layout, dim3(1), dim3(32 * warps), (const u16*)m.a.data(),
               (const u16*)m.b.data(), (const float*)m.c.data(), d.data())) {
        return launch_failed("sim_mma_layout");
    }
    Outcome exact = mma_compare(m, d, warps, true);
    if (!exact.ok) return exact;
    Outcome within = mma_compare(m, d, warps, false);
    if (!within.ok) return within;
    return {true, "bit exact to the model; vs double: " + within.detail};
}

Outcome mma_ldmatrix_case() {
    MmaData m = mma_data(1, "mma ldmatrix", false);
    std::vector<float> d(128, kNaN);
    if (launch(paddock_sim_launch_sim_mma_ldmatrix, dim3(1), dim3(32), (const u16*)m.a.data(), (const u16*)m.b.data(),
               (const float*)m.c.data(), d.data())) {
        return launch_failed("sim_mma_ldmatrix");
    }
    return mma_compare(m, d, 1, true);
}

Outcome ldmatrix_case(int count, bool trans) {
    std::vector<int> row_of(32);
    for (int l = 0; l < 32; l++) row_of[l] = (l * 5 + 3) % 32;   // any row, in any order
    std::vector<unsigned> out(128, 0);
    if (launch(paddock_sim_launch_sim_ldmatrix, dim3(1), dim3(32), (const int*)row_of.data(), count, trans ? 1 : 0,
               out.data())) {
        return launch_failed("sim_ldmatrix");
    }
    Compare cmp;
    for (int l = 0; l < 32; l++) {
        for (int i = 0; i < 4; i++) {
            unsigned want = 0xdead;
            if (i < count) {
                // matrix i's row r comes from lane 8i + r; register = (row l/4, cols 2(l%4)+{0,1}), or transposed
                auto elem = [&](int r, int c) { return static_cast<unsigned>(8 * row_of[8 * i + r] + c); };
                int a = l / 4, b = 2 * (l % 4);
                want = trans ? elem(b, a) | elem(b + 1, a) << 16 : elem(a, b) | elem(a, b + 1) << 16;
            }
            cmp.exact(l * 4 + i, out[l * 4 + i], want);
        }
    }
    return cmp.outcome();
}

Outcome pipeline_case(bool skip_wait) {
    const int steps = 6;
    std::vector<unsigned> src(steps * 64 * 4), dst(src.size(), 0);
    for (std::size_t i = 0; i < src.size(); i++) src[i] = static_cast<unsigned>(i * 2654435761u);
    if (launch(paddock_sim_launch_sim_cp_async_pipeline, dim3(1), dim3(64), (const uint4*)src.data(),
               (uint4*)dst.data(), steps, skip_wait ? 1 : 0)) {
        return launch_failed("sim_cp_async_pipeline");
    }
    std::size_t wrong = 0;
    for (int s = 0; s < steps; s++) {
        for (int t = 0; t < 64; t++) {
            for (int k = 0; k < 4; k++) wrong += dst[(s * 64 + t) * 4 + k] != src[(s * 64 + 63 - t) * 4 + k];
        }
    }
    if (skip_wait) {
        // every step reads its stage before any copy of it was performed: all stale
        if (wrong == dst.size()) return {true, fmt("without wait_group: all %zu words stale, as expected", wrong)};
        return {false, fmt("without wait_group only %zu of %zu words differ: the emulation performed copies early", wrong, dst.size())};
    }
    return {wrong == 0, fmt("%zu of %zu words wrong", wrong, dst.size())};
}

Outcome cp_sizes_case() {
    std::vector<unsigned> src = {0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u, 0x55555555u, 0x66666666u,
                                 0x77777777u, 0x88888888u};
    std::vector<unsigned> out(9, 0), at_exit(4, 0);
    if (launch(paddock_sim_launch_sim_cp_async_sizes, dim3(1), dim3(32), (const unsigned*)src.data(), out.data(),
               at_exit.data())) {
        return launch_failed("sim_cp_async_sizes");
    }
    // s[0] <- src[1]; s[1] untouched; s[2..3] <- src[2..3]; s[4] <- src[4], s[5] low half <- src[5], rest 0
    std::vector<unsigned> want = {src[1], 0xffffffffu, src[2], src[3], src[4], src[5] & 0xffffu, 0, 0, 0xffffffffu};
    Compare cmp;
    for (int i = 0; i < 9; i++) cmp.exact(i, out[i], want[i]);
    for (int i = 0; i < 4; i++) cmp.exact(9 + i, at_exit[i], src[i]);
    return cmp.outcome();
}

}  // namespace

void mma_tests() {
    run_case("sim mma: m16n8k16 from the PTX fragment layout, bit exact to the model, within fp32 of double", [] {
        return mma_layout_case(false);
    });
    run_case("sim mma: m16n8k16 with wide exponents (cancellation, subnormal products)", [] { return mma_layout_case(true); });
    run_case("sim mma: fragments through ldmatrix.x4 (A) and ldmatrix.x2.trans (B)", mma_ldmatrix_case);
    for (int count : {1, 2, 4}) {
        for (bool trans : {false, true}) {
            run_case(fmt("sim ldmatrix: .x%d%s, rows from any lane order", count, trans ? ".trans" : ""),
                     [count, trans] { return ldmatrix_case(count, trans); });
        }
    }
    run_case("sim cp.async: double-buffered pipeline with commit/wait_group", [] { return pipeline_case(false); });
    run_case("sim cp.async: the same pipeline without wait_group reads stale stages", [] { return pipeline_case(true); });
    run_case("sim cp.async: .ca 4/8 bytes, zero fill, wait_all, pending copies done at exit", cp_sizes_case);
    run_case("sim error: mma.sync with half the warp (the rest exited)", [] {
        return expect_error(launch(paddock_sim_launch_sim_mma_half_warp, dim3(1), dim3(32)), "exited while lanes");
    });
    run_case("sim error: mma.sync in a 16-thread block", [] {
        return expect_error(launch(paddock_sim_launch_sim_mma_block16, dim3(1), dim3(16)), "do not exist");
    });
    run_case("sim error: misaligned cp.async source", [] {
        std::vector<unsigned char> buf(64, 0);
        const unsigned char* p = buf.data();
        return expect_error(launch(paddock_sim_launch_sim_cp_async_misaligned, dim3(1), dim3(1), p, 8), "not 16-byte aligned");
    });
    run_case("sim error: misaligned ldmatrix row", [] {
        return expect_error(launch(paddock_sim_launch_sim_ldmatrix_misaligned, dim3(1), dim3(32)), "not 16-byte aligned");
    });
    run_case("sim error: lanes at ldmatrix .x4 and .x2", [] {
        return expect_error(launch(paddock_sim_launch_sim_ldmatrix_mixed, dim3(1), dim3(32)), "while lane");
    });
}

}  // namespace kt
