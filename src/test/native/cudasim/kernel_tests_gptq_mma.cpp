// Kernel tests, part of kernel_tests.cpp's harness: gptq_mma.cu (the tensor-core GPTQ GEMM on the tiled 4-bit
// layout and its x gather/convert pre-pass) against a double-precision reference computed from the checkpoint's
// own view (original input order, q - (zero + zeroPlusOne), fp16 scales). The tile packer below is written from
// the layout's specification (docs/gpu-kernels.md, "Tiled GPTQ"), independently of the kernel.
#include "kernel_tests.h"

#include "gptq_mma.cu"
PADDOCK_SIM_EXPORT(gptq_mma_prepare_x)
PADDOCK_SIM_EXPORT(gptq_mma_gemm)

namespace kt {
namespace {

struct MmaGemmCase {
    int m, k, n, group;   // group < 0: one group
    bool act_order, bias;
    int split_k, zero_plus_one;

    std::string name() const {
        return fmt("gptq mma M=%d K=%d N=%d g=%d%s%s splitK=%d zp1=%d", m, k, n, group, act_order ? " act" : "",
                   bias ? " bias" : "", split_k, zero_plus_one);
    }
};

// The layout's rows per block as the kernel chooses them (gptq_mma_gemm: MT = 1, 2 or 4 m16 tiles).
int rows_per_block(int m) { return m <= 16 ? 16 : m <= 32 ? 32 : 64; }

// qtiles from sorted codes qs[k][n]: tile (kt, nt) at word ((nt * K/16) + kt) * 128; lane L owns words 4L..4L+3;
// nibble p of word j: i = p & 3, hi = p >> 2, t = 2j + (i >> 1), r = i & 1, k = kt*16 + 2*tig + hi + 8r,
// n = nt*64 + 8t + g (g = L >> 2, tig = L & 3).
std::vector<int> pack_tiles(const std::vector<std::vector<int>>& qs, int K, int N) {
    std::vector<int> words(static_cast<std::size_t>(K) * N / 8, 0);
    const int kTiles = K / 16;
    for (int nt = 0; nt < N / 64; nt++) {
        for (int kt = 0; kt < kTiles; kt++) {
            for (int lane = 0; lane < 32; lane++) {
                const int g = lane >> 2, tig = lane & 3;
                for (int j = 0; j < 4; j++) {
                    unsigned w = 0;
                    for (int p = 0; p < 8; p++) {
                        int i = p & 3, hi = p >> 2, t = 2 * j + (i >> 1), r = i & 1;
                        int k = kt * 16 + 2 * tig + hi + 8 * r, n = nt * 64 + 8 * t + g;
                        w |= static_cast<unsigned>(qs[k][n]) << (4 * p);
                    }
                    words[(static_cast<std::size_t>(nt) * kTiles + kt) * 128 + lane * 4 + j] = static_cast<int>(w);
                }
            }
        }
    }
    return words;
}

Outcome mma_gemm_run(const MmaGemmCase& c, double* worst) {
    Rng rng(c.name());
    const int M = c.m, K = c.k, N = c.n;
    const int groups = c.group < 0 ? 1 : (K + c.group - 1) / c.group;
    std::vector<int> gi(K);
    for (int i = 0; i < K; i++) gi[i] = c.group < 0 ? 0 : i / c.group;
    if (c.act_order) rng.shuffle(gi);
    std::vector<std::vector<int>> q(K, std::vector<int>(N)), z(groups, std::vector<int>(N));
    for (auto& row : q) for (auto& v : row) v = rng.below(16);
    for (auto& row : z) for (auto& v : row) v = rng.below(16);
    std::vector<u16> scales(static_cast<std::size_t>(groups) * N), bias(N);
    for (auto& s : scales) s = to_half(rng.uniform(0.002f, 0.05f) * (rng.below(8) == 0 ? -1.f : 1.f));
    for (auto& b : bias) b = to_half(rng.uniform(-1, 1));
    std::vector<float> x(static_cast<std::size_t>(M) * K);
    for (auto& v : x) v = rng.uniform(-1, 1);
    if (M * K > 10) x[7] = 3e-6f;   // an fp16 subnormal after rounding

    // reference (original input order) and the bound's terms
    std::vector<double> want(static_cast<std::size_t>(M) * N), mag(want.size()), wabs(want.size());
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = c.bias ? half_value(bias[n]) : 0, s = 0, sw = 0;
            for (int i = 0; i < K; i++) {
                double w = half_value(scales[static_cast<std::size_t>(gi[i]) * N + n]) * (q[i][n] - (z[gi[i]][n] + c.zero_plus_one));
                double t = static_cast<double>(x[static_cast<std::size_t>(m) * K + i]) * w;
                acc += t;
                s += std::fabs(t);
                sw += std::fabs(w);
            }
            want[static_cast<std::size_t>(m) * N + n] = acc;
            mag[static_cast<std::size_t>(m) * N + n] = s + (c.bias ? std::fabs(half_value(bias[n])) : 0);
            wabs[static_cast<std::size_t>(m) * N + n] = sw;
        }
    }

    // the tiled layout: inputs stably sorted by group, perm[p] = original input at p
    std::vector<int> perm(K);
    std::iota(perm.begin(), perm.end(), 0);
    if (c.act_order) std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return gi[a] < gi[b]; });
    std::vector<std::vector<int>> qs(K);
    for (int p = 0; p < K; p++) qs[p] = q[perm[p]];
    std::vector<int> qtiles = pack_tiles(qs, K, N), tile_group(K / 16);
    for (int kt = 0; kt < K / 16; kt++) {
        tile_group[kt] = gi[perm[kt * 16]];
        for (int p = kt * 16; p < kt * 16 + 16; p++) {
            if (gi[perm[p]] != tile_group[kt]) return {false, "test setup: a k-tile spans two groups"};
        }
    }
    std::vector<u16> zeros16(static_cast<std::size_t>(groups) * N);
    for (int g = 0; g < groups; g++) {
        for (int n = 0; n < N; n++) zeros16[static_cast<std::size_t>(g) * N + n] = to_half(1024.f + z[g][n] + c.zero_plus_one);
    }

    std::vector<u16> xh(static_cast<std::size_t>(M) * K, 0xffff);
    const int* pp = c.act_order ? perm.data() : nullptr;
    if (launch(paddock_sim_launch_gptq_mma_prepare_x, dim3(ceil_div(K, 256), M), dim3(256), (const float*)x.data(), pp,
               xh.data(), M, K)) {
        return launch_failed("gptq_mma_prepare_x");
    }
    for (int m = 0; m < M; m++) {
        for (int p = 0; p < K; p++) {
            u16 w = to_half(x[static_cast<std::size_t>(m) * K + perm[p]]);
            if (xh[static_cast<std::size_t>(m) * K + p] != w) return {false, fmt("prepare_x: xh[%d,%d] is not fp16(x[%d,%d])", m, p, m, perm[p])};
        }
    }
    std::vector<float> y(want.size(), c.split_k > 1 ? 0.f : kNaN);
    const dim3 grid(ceil_div(N, 256), ceil_div(M, rows_per_block(M)), c.split_k);
    if (launch(paddock_sim_launch_gptq_mma_gemm, grid, dim3(128), (const u16*)xh.data(), (const int*)qtiles.data(),
               (const u16*)zeros16.data(), (const u16*)scales.data(), (const int*)tile_group.data(),
               (const u16*)(c.bias ? bias.data() : nullptr), y.data(), M, K, N)) {
        return launch_failed("gptq_mma_gemm");
    }
    // Bound: x rounded to fp16 (relative 2^-11, or 2^-25 absolute in fp16's subnormal range), each weight rounded
    // once to fp16 (2^-11; q - z is exact), products exact, then fp32 roundings: one per 16-input mma step, the
    // split-K atomics and the bias (u = 2^-24 each, against sum |x*w|).
    const double uh = 0x1p-11;
    const double steps = K / 16 + c.split_k + 2;
    Compare cmp;
    for (std::size_t i = 0; i < y.size(); i++) {
        double tol = (2 * uh + uh * uh + steps * kU) * mag[i] + 0x1p-25 * wabs[i] * (1 + uh);
        cmp.add(i, y[i], want[i], tol);
    }
    *worst = std::max(*worst, cmp.worst);
    return cmp.outcome();
}

std::vector<MmaGemmCase> mma_gemm_cases() {
    std::vector<MmaGemmCase> cs;
    const bool s = g_small;
    // M sweep (1, 9, 16, 17, 64, 100, 256) across group sizes, act-order, bias and split-K 1..4
    const int ms[] = {1, 9, 16, 17, 64, 100, 256};
    int i = 0;
    for (int m : ms) {
        if (s && m > 64) continue;
        int group = (i % 3 == 0) ? 32 : (i % 3 == 1) ? 128 : -1;
        cs.push_back({m, 256, 192, group, i % 2 == 0, i % 2 == 1, 1 + i % 4, i % 2});
        i++;
    }
    // split-K 1..4 at one shape; a second column block with one busy warp (N = 320: panels 4 + 1)
    for (int sk = 1; sk <= 4; sk++) cs.push_back({s ? 17 : 33, 384, 128, 128, true, true, sk, 1});
    cs.push_back({s ? 9 : 40, 256, 320, 32, true, false, 2, 0});
    // an odd number of k-tiles (partial pipeline stage), groups of 16, more slices than stages
    cs.push_back({20, 208, 64, 16, true, true, 3, 1});
    cs.push_back({5, 208, 64, 64, false, false, 8, 0});
    if (!s) {
        cs.push_back({256, 512, 256, 128, true, true, 2, 1});
        cs.push_back({100, 256, 448, -1, false, true, 4, 0});
    }
    return cs;
}

}  // namespace

void gptq_mma_tests() {
    double worst = 0;
    for (const MmaGemmCase& c : mma_gemm_cases()) run_case(c.name(), [&c, &worst] { return mma_gemm_run(c, &worst); });
    std::printf("gptq mma: worst |error| / bound over all cases = %.3g\n", worst);
}

}  // namespace kt
