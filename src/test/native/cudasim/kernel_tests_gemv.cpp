// Kernel tests, part of kernel_tests.cpp's harness: gptq_gemv.cu (gptq_gemv_tiled, _b8, _b2 and _b3 on the tiled
// 4-, 8-, 2- and 3-bit layouts) against a double reference on the checkpoint's own layout (original input order,
// w = s · (q − z)); the output segments, accumulate, the staged SwiGLU and the memset-free split-K reduction
// (deterministic, counters left at zero).
#include "kernel_tests.h"

#include "gptq_gemv.cu"
PADDOCK_SIM_EXPORT(gptq_gemv_tiled)
PADDOCK_SIM_EXPORT(gptq_gemv_tiled_b8)
PADDOCK_SIM_EXPORT(gptq_gemv_tiled_b2)
PADDOCK_SIM_EXPORT(gptq_gemv_tiled_b3)

namespace kt {
namespace {

constexpr double kU16 = 1.0 / (1 << 11);   // unit roundoff of fp16

struct GemvCase {
    int in, out, group;   // group < 0: one group
    bool act_order;
    int zero_plus_one, rows, split_k;
    bool bias;
    int bits = 4;
    bool segments = false, accumulate = false, swiglu = false;

    std::string name() const {
        return fmt("gemv tiled b%d in=%d out=%d g=%d%s zp1=%d rows=%d splitK=%d%s%s%s%s", bits, in, out, group,
                   act_order ? " act" : "", zero_plus_one, rows, split_k, bias ? " bias" : "",
                   segments ? " segments" : "", accumulate ? " accumulate" : "", swiglu ? " swiglu" : "");
    }
};

// The tiled tensors, written from the layout's forward formula (docs/gpu-kernels.md, "Tiled GPTQ"): b = bits,
// P = 16 / b code pairs per word; word j of lane L of tile (kt, nt) lies at tile word 4L + 128(j >> 2) + (j & 3)
// for 8 bits and bL + j for 4 and 2 bits; its code p holds q(k, n) with g = L >> 2, tig = L & 3, i = p mod P,
// hi = p / P, t = (P/2)j + (i >> 1), r = i & 1, k = 16kt + 2tig + hi + 8r, n = 64nt + 8t + g. 3 bits: word j of
// lane L at tile word 32j + L; pair m = 2t + r (codes hi = 0, 1) of the lane: m < 15 at bits 3(m % 5) + 16hi of
// word m / 5, m = 15 bit j of its codes at bit 15 + 16hi of word j. qs(k, n): sorted code.
std::vector<int> tile_codes(int bits, int in, int out, const std::function<int(int, int)>& qs) {
    const int kTiles = in / 16, P = 16 / bits;
    std::vector<int> tiles(static_cast<std::size_t>(in) * out * bits / 32, 0);
    for (int nt = 0; nt < out / 64; nt++) {
        for (int kt = 0; kt < kTiles; kt++) {
            const std::size_t base = (static_cast<std::size_t>(nt) * kTiles + kt) * 32 * bits;
            for (int lane = 0; lane < 32; lane++) {
                int g = lane >> 2, tig = lane & 3;
                if (bits == 3) {
                    unsigned w[3] = {0, 0, 0};
                    for (int m = 0; m < 16; m++) {
                        for (int hi = 0; hi < 2; hi++) {
                            int t = m >> 1, r = m & 1;
                            auto c = static_cast<unsigned>(qs(kt * 16 + 2 * tig + hi + 8 * r, nt * 64 + 8 * t + g));
                            if (m < 15) {
                                w[m / 5] |= c << (3 * (m % 5) + 16 * hi);
                            } else {
                                for (int j = 0; j < 3; j++) w[j] |= ((c >> j) & 1u) << (15 + 16 * hi);
                            }
                        }
                    }
                    for (int j = 0; j < 3; j++) tiles[base + 32 * j + lane] = static_cast<int>(w[j]);
                    continue;
                }
                for (int j = 0; j < bits; j++) {
                    unsigned w = 0;
                    for (int p = 0; p < 32 / bits; p++) {
                        int i = p % P, hi = p / P, t = (P / 2) * j + (i >> 1), r = i & 1;
                        int k = kt * 16 + 2 * tig + hi + 8 * r, n = nt * 64 + 8 * t + g;
                        w |= static_cast<unsigned>(qs(k, n)) << (bits * p);
                    }
                    int at = bits == 8 ? 4 * lane + 128 * (j >> 2) + (j & 3) : bits * lane + j;
                    tiles[base + at] = static_cast<int>(w);
                }
            }
        }
    }
    return tiles;
}

struct GemvResult {
    Outcome outcome;
    double worst_rel = 0;        // max |got − want| / Σ|x·w| of the kernel (fp32 products and sums)
    double worst_rel_half2 = 0;  // the same for a half2-per-tile accumulation model, for the choice of the two
};

GemvResult gemv_run(const GemvCase& c) {
    Rng rng(c.name());
    const int in = c.in, out = c.out, rows = c.rows;
    const int groups = c.group < 0 ? 1 : (in + c.group - 1) / c.group;
    std::vector<int> g(in);
    for (int i = 0; i < in; i++) g[i] = c.group < 0 ? 0 : i / c.group;
    if (c.act_order) rng.shuffle(g);
    std::vector<std::vector<int>> q(out, std::vector<int>(in)), z(groups, std::vector<int>(out));
    const int levels = 1 << c.bits;
    for (auto& col : q) for (auto& v : col) v = rng.below(levels);
    for (auto& row : z) for (auto& v : row) v = rng.below(c.zero_plus_one ? levels - 1 : levels);
    std::vector<u16> scales(static_cast<std::size_t>(groups) * out), bias(out);
    for (auto& s : scales) s = to_half(rng.uniform(0.002f, 0.05f) * (rng.below(8) == 0 ? -1.f : 1.f));
    for (auto& b : bias) b = to_half(rng.uniform(-1, 1));
    std::vector<float> x(static_cast<std::size_t>(rows) * in), up;
    for (auto& v : x) v = rng.uniform(-1, 1);
    std::vector<float> xe = x;   // the x the product sees: x, or swiglu_f32's silu(x) * up in fp32
    if (c.swiglu) {
        up.resize(x.size());
        for (std::size_t i = 0; i < x.size(); i++) {
            x[i] = rng.uniform(-4, 4);
            up[i] = rng.uniform(-1, 1);
            xe[i] = x[i] / (1.0f + expf(-x[i])) * up[i];
        }
    }
    auto weight = [&](int i, int o) {   // exact: an fp16 scale times a small integer
        return half_value(scales[static_cast<std::size_t>(g[i]) * out + o]) * (q[o][i] - (z[g[i]][o] + c.zero_plus_one));
    };

    // Host preparation: stable sort by group, the tiled tensors from the sorted codes.
    std::vector<int> perm(in);
    std::iota(perm.begin(), perm.end(), 0);
    if (c.act_order) std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return g[a] < g[b]; });
    std::vector<int> tiles = tile_codes(c.bits, in, out, [&](int k, int n) { return q[n][perm[k]]; });
    std::vector<u16> zeros16(static_cast<std::size_t>(groups) * out);
    for (int k = 0; k < groups; k++) {
        for (int n = 0; n < out; n++) zeros16[static_cast<std::size_t>(k) * out + n] = to_half(1024.f + z[k][n] + c.zero_plus_one);
    }
    std::vector<int> tile_group(in / 16);
    for (int kt = 0; kt < in / 16; kt++) {
        tile_group[kt] = g[perm[kt * 16]];
        for (int k = kt * 16; k < kt * 16 + 16; k++) {
            if (g[perm[k]] != tile_group[kt]) return {{false, fmt("test setup: k-tile %d straddles groups", kt)}};
        }
    }

    // Output segments: [0, n0) to y0, [n0, n0 + n1) to y1, the rest to y2 (each row-major with its own width).
    const int n0 = c.segments ? 64 : out, n1 = c.segments ? (out >= 192 ? 64 : out - 64) : 0, n2 = out - n0 - n1;
    std::vector<float> ys[3] = {std::vector<float>(static_cast<std::size_t>(rows) * n0),
                                std::vector<float>(static_cast<std::size_t>(rows) * n1),
                                std::vector<float>(static_cast<std::size_t>(rows) * n2)};
    std::vector<float> before[3];
    for (int sg = 0; sg < 3; sg++) {
        for (auto& v : ys[sg]) v = c.accumulate ? rng.uniform(-2, 2) : kNaN;
        before[sg] = ys[sg];
    }
    auto at = [&](std::vector<float>* seg, int b, int o) -> float& {
        if (o < n0) return seg[0][static_cast<std::size_t>(b) * n0 + o];
        if (o < n0 + n1) return seg[1][static_cast<std::size_t>(b) * n1 + o - n0];
        return seg[2][static_cast<std::size_t>(b) * n2 + o - n0 - n1];
    };
    std::vector<float> partials(static_cast<std::size_t>(c.split_k) * rows * out, kNaN);
    std::vector<int> counters(out / 64, 0);
    auto entry = c.bits == 8 ? paddock_sim_launch_gptq_gemv_tiled_b8
               : c.bits == 2 ? paddock_sim_launch_gptq_gemv_tiled_b2
               : c.bits == 3 ? paddock_sim_launch_gptq_gemv_tiled_b3 : paddock_sim_launch_gptq_gemv_tiled;
    auto run = [&]() {
        return launch(entry, dim3(out / 64, c.split_k), dim3(32 * GEMV_WARPS), (const float*)x.data(),
                      c.swiglu ? (const float*)up.data() : (const float*)nullptr,
                      c.act_order ? (const int*)perm.data() : (const int*)nullptr, (const int*)tiles.data(),
                      (const u16*)zeros16.data(), (const u16*)scales.data(), (const int*)tile_group.data(),
                      c.bias ? (const u16*)bias.data() : (const u16*)nullptr, ys[0].data(),
                      n1 > 0 ? ys[1].data() : (float*)nullptr, n2 > 0 ? ys[2].data() : (float*)nullptr, n0, n1,
                      c.accumulate ? 1 : 0, partials.data(), counters.data(), rows, in, out);
    };
    if (run()) return {launch_failed(fmt("gptq_gemv_tiled (%d bits)", c.bits).c_str())};
    for (int t = 0; t < out / 64; t++) {
        if (counters[t] != 0) return {{false, fmt("split-K counter of panel %d left at %d", t, counters[t])}};
    }
    if (c.split_k > 1 && !c.accumulate) {
        // The reduction adds the slices in slice order: a second launch (other slices finish last) is bit-identical.
        std::vector<float> first[3] = {ys[0], ys[1], ys[2]};
        if (run()) return {launch_failed("gptq_gemv_tiled (second launch)")};
        for (int sg = 0; sg < 3; sg++) {
            for (std::size_t i = 0; i < ys[sg].size(); i++) {
                if (std::memcmp(&ys[sg][i], &first[sg][i], sizeof(float)) != 0) {
                    return {{false, fmt("split-K result differs between two launches (segment %d, element %zu)", sg, i)}};
                }
            }
        }
    }

    // Tolerance. Each product is fp16(x)·fp16(w), exact in fp32 (11 × 11 significant bits), so per term
    // |fp16(x)fp16(w) − xw| <= (2u16 + u16²)|xw| + subnormal slack (2^-25 per rounding below 2^-14, times the
    // other factor, |x| <= 1 and |w| <= 0.05·256 at 8 bits). The fp32 sums add at most m·u32·Σ|terms| with m = the longest
    // chain: 4 products per tile over one block's slice, 2 shuffles, the warps, the bias and the split-K atomics.
    const int kTiles = in / 16, per = (kTiles + c.split_k - 1) / c.split_k;
    const double m = 4.0 * per + 2 + GEMV_WARPS + 1 + c.split_k;
    const double rel = (2 * kU16 + kU16 * kU16) * (1 + m * kU) + m * kU;
    Compare cmp;
    GemvResult res;
    for (int b = 0; b < rows; b++) {
        for (int o = 0; o < out; o++) {
            double prior = c.accumulate ? at(before, b, o) : 0;
            double acc = c.bias ? half_value(bias[o]) : 0, mag = c.bias ? std::fabs(half_value(bias[o])) : 0, slack = 0;
            double half2 = c.bias ? half_value(bias[o]) : 0;   // model: per tile and lane, two hfma2, then fp32
            for (int i = 0; i < in; i++) {
                double xv = xe[static_cast<std::size_t>(b) * in + i], w = weight(i, o);
                acc += xv * w;
                mag += std::fabs(xv * w);
                slack += std::ldexp(1.0, -25) * (std::fabs(w) + 1.0);
            }
            for (int kt = 0; kt < kTiles; kt++) {
                for (int tig = 0; tig < 4; tig++) {
                    unsigned h = 0;
                    for (int r = 0; r < 2; r++) {
                        int k0 = kt * 16 + 2 * tig + 8 * r;
                        auto wx = [&](int k) {
                            return std::pair{to_half(static_cast<float>(weight(perm[k], o))),
                                             to_half(xe[static_cast<std::size_t>(b) * in + perm[k]])};
                        };
                        auto [w0, x0] = wx(k0);
                        auto [w1, x1] = wx(k0 + 1);
                        h = paddock_host_hfma2(w0 | (unsigned)w1 << 16, x0 | (unsigned)x1 << 16, h);
                    }
                    half2 += half_value(static_cast<u16>(h & 0xffff)) + half_value(static_cast<u16>(h >> 16));
                }
            }
            std::size_t idx = static_cast<std::size_t>(b) * out + o;
            double got = at(ys, b, o);
            // accumulate: one more fp32 rounding of prior + sum
            cmp.add(idx, got, prior + acc, rel * mag + slack + (c.accumulate ? kU * (std::fabs(prior) + mag) : 0));
            if (mag > 0) {
                res.worst_rel = std::max(res.worst_rel, std::fabs(got - prior - acc) / mag);
                res.worst_rel_half2 = std::max(res.worst_rel_half2, std::fabs(half2 - acc) / mag);
            }
        }
    }
    res.outcome = cmp.outcome();
    res.outcome.detail += fmt(" |err|/sum|xw|: fp32 %.3g (bound %.3g), half2-per-tile model %.3g", res.worst_rel, rel,
                              res.worst_rel_half2);
    return res;
}

std::vector<GemvCase> gemv_cases() {
    std::vector<GemvCase> cs;
    if (g_small) {   // ThreadSanitizer: small blocks of work, still several warps, steps and slices
        cs.push_back({256, 64, 32, true, 1, 3, 2, true});
        cs.push_back({1088, 64, -1, false, 0, 8, 1, false});   // 68 k-tiles: two staging steps
        cs.push_back({256, 64, 32, true, 1, 3, 2, true, 8});
        cs.push_back({1088, 64, 64, true, 0, 8, 2, false, 2});
        cs.push_back({256, 192, 32, true, 1, 2, 3, true, 4, true, true, true});   // split reduction across fibers
        cs.push_back({1088, 64, 64, true, 1, 5, 2, true, 3});
        return cs;
    }
    // rows 1..8, groups 16/32/128/none, act-order, zeroPlusOne 0/1, split-K 1..4, bias
    const int groups[] = {16, 32, 128, -1};
    for (int rows = 1; rows <= 8; rows++) {
        int group = groups[rows % 4];
        cs.push_back({512, 128, group, rows % 2 == 1, rows % 3 == 0 ? 1 : 0, rows, 1 + (rows % 4), rows % 2 == 0});
    }
    cs.push_back({2048, 64, 128, true, 0, 1, 1, true});      // 128 k-tiles in one block: two staging steps
    cs.push_back({4096, 128, 128, true, 1, 2, 4, false});    // a 7B-like column slice
    cs.push_back({64, 192, 16, true, 0, 8, 3, true});        // 4 k-tiles over 3 slices: the last slice is empty
    cs.push_back({80, 64, -1, false, 1, 5, 1, false});       // 5 k-tiles: the last warp has none
    cs.push_back({192, 64, 32, true, 1, 4, 4, true});
    // segments (3 and 2), accumulate, the staged SwiGLU, with and without split-K, every width
    for (int bits : {4, 8, 2, 3}) {
        cs.push_back({512, 192, 32, true, 0, 3, 4, true, bits, true, false, false});
        cs.push_back({512, 128, 128, false, 1, 8, 1, false, bits, true, true, false});
        cs.push_back({256, 192, -1, true, 0, 1, 3, true, bits, false, true, true});
        cs.push_back({1088, 64, 64, true, 1, 5, 2, false, bits, false, false, true});
        cs.push_back({512, 256, 16, true, 0, 2, 8, true, bits, true, true, true});
    }
    // 8, 2 and 3 bits: the same geometry (rows, groups, act-order, zeroPlusOne, split-K, staging steps, empty slices)
    for (int bits : {8, 2, 3}) {
        for (int rows = 1; rows <= 8; rows += 1) {
            int group = groups[rows % 4];
            cs.push_back({512, 128, group, rows % 2 == 0, (rows + bits) % 3 == 0 ? 1 : 0, rows, 1 + ((rows + 1) % 4),
                          rows % 2 == 1, bits});
        }
        cs.push_back({2048, 64, 128, true, 1, 1, 1, true, bits});    // two staging steps; UNROLL 8 at 2 bits, 5 at 3
        cs.push_back({4096, 128, 128, true, 0, 2, 4, false, bits});
        cs.push_back({64, 192, 16, true, 0, 8, 3, true, bits});      // the last slice is empty
        cs.push_back({80, 64, -1, false, 1, 5, 1, false, bits});     // the last warp has none; 5 < UNROLL tiles
        cs.push_back({112, 64, 16, true, 1, 7, 1, true, bits});      // 7 tiles: one warp 2, a partial unroll
    }
    cs.push_back({384, 64, 32, true, 0, 3, 1, false, 3});     // 3 bits: 6 tiles a warp, one full unroll of 5 and 1
    cs.push_back({4096, 320, 128, true, 1, 1, 5, true, 3, true});   // 5 panels in three segments, split-K 5
    return cs;
}

}  // namespace

void gemv_tests() {
    double worst[9] = {}, worst_half2[9] = {};
    for (const GemvCase& c : gemv_cases()) {
        run_case(c.name(), [&c, &worst, &worst_half2] {
            GemvResult r = gemv_run(c);
            worst[c.bits] = std::max(worst[c.bits], r.worst_rel);
            worst_half2[c.bits] = std::max(worst_half2[c.bits], r.worst_rel_half2);
            return r.outcome;
        });
    }
    for (int bits : {4, 8, 2, 3}) {
        std::printf("gemv tiled %d-bit: worst |err|/sum|xw| over the cases: fp32 accumulation %.3g, half2-per-tile"
                    " model %.3g\n", bits, worst[bits], worst_half2[bits]);
    }
}

}  // namespace kt
