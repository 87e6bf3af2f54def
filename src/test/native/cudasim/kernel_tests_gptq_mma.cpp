// Kernel tests, part of kernel_tests.cpp's harness: gptq_mma.cu (the tensor-core GPTQ GEMM on the tiled 4-bit
// layout and its x gather/convert/SwiGLU pre-pass) against a double-precision reference computed from the
// checkpoint's own view (original input order, q - (zero + zeroPlusOne), fp16 scales), and bit for bit against a
// serial evaluation in the kernel's order (per slice: k-tiles in order, each as the emulation's mma rounds it;
// then the slices summed in slice order, the bias, the accumulate). Outputs go through the kernel's segments
// (y0 / y1 / y2) and accumulate mode; split-K runs through the partials/counters workspace, whose counters must
// be zero after every launch, and is re-run with other slices finishing last. The tile packer below is written
// from the layout's specification (docs/gpu-kernels.md, "Tiled GPTQ"), independently of the kernel.
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
    int n0 = -1, n1 = 0;      // output segments (n0 < 0: all N columns in y0)
    bool accumulate = false;  // y += x*W onto prefilled values
    bool swiglu = false;      // x = silu(gate) * up in the pre-pass

    std::string name() const {
        std::string s = fmt("gptq mma M=%d K=%d N=%d g=%d%s%s splitK=%d zp1=%d", m, k, n, group,
                            act_order ? " act" : "", bias ? " bias" : "", split_k, zero_plus_one);
        if (n0 >= 0) s += fmt(" segs=%d/%d/%d", n0, n1, n - n0 - n1);
        if (accumulate) s += " accumulate";
        if (swiglu) s += " swiglu";
        return s;
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

// The gptq_mma_gemm launch of one case: its output segments and split-K workspace.
struct MmaLaunch {
    int M, K, N, n0, n1, split;
    std::vector<float> y[3], partials;
    std::vector<int> counters;

    MmaLaunch(int m, int k, int n, int seg0, int seg1, int splitK)
        : M(m), K(k), N(n), n0(seg0), n1(seg1), split(splitK) {
        const int widths[3] = {n0, n1, N - n0 - n1};
        for (int s = 0; s < 3; s++) y[s].assign(static_cast<std::size_t>(M) * widths[s], kNaN);
        if (split > 1) {
            partials.assign(static_cast<std::size_t>(split) * M * N, kNaN);   // stale reads would show
            counters.assign(tiles(), 0);
        }
    }
    dim3 grid() const { return dim3(ceil_div(N, 256), ceil_div(M, rows_per_block(M)), split); }
    unsigned tiles() const { return ceil_div(N, 256) * ceil_div(M, rows_per_block(M)); }
    // Element (m, o) of the whole output, through the segments.
    float& at(int m, int o) {
        if (o < n0) return y[0][static_cast<std::size_t>(m) * n0 + o];
        if (o < n0 + n1) return y[1][static_cast<std::size_t>(m) * n1 + (o - n0)];
        return y[2][static_cast<std::size_t>(m) * (N - n0 - n1) + (o - n0 - n1)];
    }
    int run(const u16* xh, const int* qtiles, const u16* zeros16, const u16* scales, const int* tileGroup,
            const u16* bias, bool accumulate) {
        // empty segments get no buffer (the kernel must not touch them); no workspace without split
        float* ys[3];
        for (int s = 0; s < 3; s++) ys[s] = y[s].empty() ? nullptr : y[s].data();
        return launch(paddock_sim_launch_gptq_mma_gemm, grid(), dim3(128), xh, qtiles, zeros16, scales, tileGroup,
                      bias, ys[0], ys[1], ys[2], n0, n1, accumulate ? 1 : 0,
                      partials.empty() ? nullptr : partials.data(), counters.empty() ? nullptr : counters.data(),
                      M, K, N);
    }
};

Outcome mma_gemm_run(const MmaGemmCase& c, double* worst) {
    Rng rng(c.name());
    const int M = c.m, K = c.k, N = c.n;
    const int n0 = c.n0 < 0 ? N : c.n0, n1 = c.n0 < 0 ? 0 : c.n1;
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
    std::vector<float> x(static_cast<std::size_t>(M) * K), up;
    for (auto& v : x) v = c.swiglu ? rng.uniform(-6, 6) : rng.uniform(-1, 1);
    if (c.swiglu) {
        up.resize(x.size());
        for (auto& v : up) v = rng.uniform(-1, 1);
    } else if (M * K > 10) {
        x[7] = 3e-6f;   // an fp16 subnormal after rounding
    }
    // what the pre-pass rounds to fp16, in fp32 as the kernel computes it (swiglu_f32's expression), and exactly
    auto input_f32 = [&](std::size_t i) {
        if (!c.swiglu) return x[i];
        const float g = x[i];
        return g / (1.0f + expf(-g)) * up[i];
    };
    auto input_exact = [&](std::size_t i) {
        if (!c.swiglu) return static_cast<double>(x[i]);
        const double g = x[i];
        return g / (1.0 + std::exp(-g)) * up[i];
    };
    std::vector<float> pre(static_cast<std::size_t>(M) * N, 0.f);   // accumulate: what y holds before
    if (c.accumulate) for (auto& v : pre) v = rng.uniform(-4, 4);

    // reference (original input order) and the bound's terms
    std::vector<double> want(static_cast<std::size_t>(M) * N), mag(want.size()), wabs(want.size());
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = c.bias ? half_value(bias[n]) : 0, s = 0, sw = 0;
            for (int i = 0; i < K; i++) {
                double w = half_value(scales[static_cast<std::size_t>(gi[i]) * N + n]) * (q[i][n] - (z[gi[i]][n] + c.zero_plus_one));
                double t = input_exact(static_cast<std::size_t>(m) * K + i) * w;
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
    if (launch(paddock_sim_launch_gptq_mma_prepare_x, dim3(ceil_div(K, 256), M), dim3(256), (const float*)x.data(),
               (const float*)(c.swiglu ? up.data() : nullptr), pp, xh.data(), M, K)) {
        return launch_failed("gptq_mma_prepare_x");
    }
    for (int m = 0; m < M; m++) {
        for (int p = 0; p < K; p++) {
            u16 w = to_half(input_f32(static_cast<std::size_t>(m) * K + perm[p]));
            if (xh[static_cast<std::size_t>(m) * K + p] != w) {
                return {false, fmt("prepare_x: xh[%d,%d] is not fp16 of input %d of row %d", m, p, perm[p], m)};
            }
        }
    }

    // The kernel's own order, serially: weights dequantized to fp16 (q - z exact, one rounding by the scale); per
    // slice, each k-tile's 16 exact products added to the fp32 accumulator in double and rounded once (the
    // emulation's mma); the slices' sums added in slice order, then the bias, then (accumulate) onto y.
    const int kTiles = K / 16, split = c.split_k, per = (kTiles + split - 1) / split;
    std::vector<double> wq(static_cast<std::size_t>(K) * N);
    for (int p = 0; p < K; p++) {
        const int i = perm[p];
        for (int n = 0; n < N; n++) {
            const double d = q[i][n] - (z[gi[i]][n] + c.zero_plus_one);
            wq[static_cast<std::size_t>(p) * N + n] =
                    half_value(to_half(static_cast<float>(d * half_value(scales[static_cast<std::size_t>(gi[i]) * N + n]))));
        }
    }
    std::vector<float> serial(want.size());
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            float sum = 0.f;
            for (int s = 0; s < split; s++) {
                const int kt0 = std::min(kTiles, s * per), kt1 = std::min(kTiles, kt0 + per);
                float acc = 0.f;
                for (int kt = kt0; kt < kt1; kt++) {
                    double a = acc;
                    for (int p = kt * 16; p < kt * 16 + 16; p++) {
                        a += half_value(xh[static_cast<std::size_t>(m) * K + p]) * wq[static_cast<std::size_t>(p) * N + n];
                    }
                    acc = static_cast<float>(a);
                }
                sum = s == 0 ? acc : sum + acc;
            }
            const float b = c.bias ? static_cast<float>(half_value(bias[n])) : 0.f;
            const float v = sum + b;
            const std::size_t e = static_cast<std::size_t>(m) * N + n;
            serial[e] = c.accumulate ? pre[e] + v : v;
        }
    }

    MmaLaunch run(M, K, N, n0, n1, split);
    auto prefill = [&] {
        for (int m = 0; m < M; m++) for (int n = 0; n < N; n++) run.at(m, n) = c.accumulate ? pre[static_cast<std::size_t>(m) * N + n] : kNaN;
    };
    auto go = [&] {
        return run.run(xh.data(), qtiles.data(), zeros16.data(), scales.data(), tile_group.data(),
                       c.bias ? bias.data() : nullptr, c.accumulate);
    };
    prefill();
    if (go()) return launch_failed("gptq_mma_gemm");
    // Bound: x rounded to fp16 (relative 2^-11, or 2^-25 absolute in fp16's subnormal range; SwiGLU's fp32
    // evaluation adds a few u before that rounding), each weight rounded once to fp16 (2^-11; q - z is exact),
    // products exact, then fp32 roundings: one per 16-input mma step, one per slice of the split-K sum and the
    // bias (u = 2^-24 each, against sum |x*w|); accumulate: one more rounding of y + v.
    const double uh = 0x1p-11;
    const double steps = K / 16 + c.split_k + 2 + (c.swiglu ? 6 : 0);
    Compare cmp, bits;
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            const std::size_t i = static_cast<std::size_t>(m) * N + n;
            double tol = (2 * uh + uh * uh + steps * kU) * mag[i] + 0x1p-25 * wabs[i] * (1 + uh);
            if (c.accumulate) tol += kU * (std::fabs(pre[i]) + 2 * mag[i]);
            cmp.add(i, run.at(m, n), want[i] + pre[i], tol);
            bits.exact(i, run.at(m, n), serial[i]);
        }
    }
    *worst = std::max(*worst, cmp.worst);
    if (!cmp.outcome().ok) return cmp.outcome();
    if (!bits.outcome().ok) return {false, "not the serial evaluation in slice order: " + bits.outcome().detail};
    for (std::size_t t = 0; t < run.counters.size(); t++) {
        if (run.counters[t] != 0) return {false, fmt("counter of tile %zu left at %d", t, run.counters[t])};
    }

    if (split > 1) {
        // Other slices finishing last. One worker runs the blocks in order (x, then y, then z), so each tile's
        // slices count in slice order; a counter preset to split - 1 - j makes slice j the one that counts last,
        // and it then reads the partials of slices j+1.. that the previous launch left (the same values: each
        // slice's sums are a function of the inputs alone). The result must not change by a bit; the counter ends
        // at split - 1 - j (slices j+1.. counted after the reset).
        paddock_sim_set_workers(1);
        std::string failure;
        for (int pass = 0; pass < 3 && failure.empty(); pass++) {
            std::vector<int> last(run.counters.size());
            for (std::size_t t = 0; t < last.size(); t++) {
                last[t] = pass == 0 ? split - 1 : pass == 1 ? 0 : static_cast<int>((t + 1) % split);
                run.counters[t] = split - 1 - last[t];
            }
            prefill();
            if (go()) {
                failure = launch_failed("gptq_mma_gemm").detail;
                break;
            }
            Compare again;
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) again.exact(static_cast<std::size_t>(m) * N + n, run.at(m, n), serial[static_cast<std::size_t>(m) * N + n]);
            }
            if (!again.outcome().ok) failure = fmt("pass %d: ", pass) + again.outcome().detail;
            for (std::size_t t = 0; t < last.size() && failure.empty(); t++) {
                if (run.counters[t] != split - 1 - last[t]) failure = fmt("pass %d: counter of tile %zu is %d", pass, t, run.counters[t]);
                run.counters[t] = 0;
            }
        }
        paddock_sim_set_workers(g_workers);
        if (!failure.empty()) return {false, "with other slices finishing last: " + failure};
    }
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
    // split-K 1..8 at one shape (24 k-tiles); a second column block with one busy warp (N = 320: panels 4 + 1)
    for (int sk = 1; sk <= 8; sk++) {
        if (s && sk > 4 && sk != 8) continue;
        cs.push_back({s ? 17 : 33, 384, 128, 128, true, true, sk, 1});
    }
    cs.push_back({s ? 9 : 40, 256, 320, 32, true, false, 2, 0});
    // an odd number of k-tiles (partial pipeline stage), groups of 16, more slices than stages (the last empty)
    cs.push_back({20, 208, 64, 16, true, true, 3, 1});
    cs.push_back({5, 208, 64, 64, false, false, 8, 0});
    // segments: q/k/v-like 128/64/64, uneven 64/192/0, boundaries inside a panel and between a column pair
    for (int sk : {1, 3}) {
        MmaGemmCase c{9, 256, 256, 64, true, true, sk, 0};
        c.n0 = 128, c.n1 = 64;
        cs.push_back(c);
    }
    {
        MmaGemmCase c{17, 256, 256, 32, false, false, 2, 1};
        c.n0 = 64, c.n1 = 192;
        cs.push_back(c);
        MmaGemmCase d{s ? 20 : 70, 128, 320, 64, true, true, 2, 0};
        d.n0 = 33, d.n1 = 100;
        cs.push_back(d);
    }
    // accumulate (a residual add): unsplit, split, and with segments (gate/up-like 128/128)
    for (int sk : {1, 4}) {
        MmaGemmCase c{s ? 17 : 40, 256, 192, 64, true, true, sk, 0};
        c.accumulate = true;
        cs.push_back(c);
    }
    {
        MmaGemmCase c{9, 256, 256, 128, false, true, 2, 1};
        c.n0 = 128, c.n1 = 128, c.accumulate = true;
        cs.push_back(c);
    }
    // SwiGLU in the pre-pass (the down projection): gathered through perm, unsplit and split
    for (int sk : {1, 2}) {
        MmaGemmCase c{sk == 1 ? 33 : 9, 256, 128, 32, sk == 2, false, sk, 0};
        c.swiglu = true;
        cs.push_back(c);
    }
    {
        MmaGemmCase c{9, 256, 128, 64, true, true, 3, 0};
        c.swiglu = true, c.accumulate = true;
        cs.push_back(c);
    }
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
