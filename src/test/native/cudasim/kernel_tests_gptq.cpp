// Kernel tests, part of kernel_tests.cpp's harness: gptq_matmul.cu (both matmuls and the act-order gather).
#include "kernel_tests.h"

#include "gptq_matmul.cu"
PADDOCK_SIM_EXPORT(gptq_matmul_decode)
PADDOCK_SIM_EXPORT(gptq_matmul_batched)
PADDOCK_SIM_EXPORT(gptq_gather_x)

namespace kt {
namespace {

// Little-endian bit stream of `bits`-wide values, value j at bit j*bits over words[first], words[first+stride], ...
void pack_bits(const std::vector<int>& vals, int bits, std::vector<int>& words, long first, long stride) {
    for (std::size_t j = 0; j < vals.size(); j++) {
        long bit = static_cast<long>(j) * bits, k = bit >> 5;
        int sh = static_cast<int>(bit & 31);
        auto v = static_cast<unsigned>(vals[j]);
        words[first + k * stride] = static_cast<int>(static_cast<unsigned>(words[first + k * stride]) | (v << sh));
        if (sh + bits > 32) {
            words[first + (k + 1) * stride] =
                    static_cast<int>(static_cast<unsigned>(words[first + (k + 1) * stride]) | (v >> (32 - sh)));
        }
    }
}

struct GptqCase {
    bool batched;
    int bits, in, out, group;   // group < 0: one group
    bool act_order;
    int zero_plus_one, batch, split_k, warps;
    bool bias;
    int zero_pad = 0;           // extra qzeros words per row (zeroWords > ceil(out*bits/32))

    std::string name() const {
        std::string s = fmt("gptq %s bits=%d in=%d out=%d g=%d%s zp1=%d batch=%d", batched ? "batched" : "decode",
                            bits, in, out, group, act_order ? " act" : "", zero_plus_one, batch);
        if (!batched) s += fmt(" splitK=%d W=%d", split_k, warps);
        if (bias) s += " bias";
        if (zero_pad) s += fmt(" zpad=%d", zero_pad);
        return s;
    }
};

Outcome gptq_run(const GptqCase& c) {
    Rng rng(c.name());
    const int bits = c.bits, in = c.in, out = c.out, batch = c.batch;
    const int groups = c.group < 0 ? 1 : (in + c.group - 1) / c.group;
    std::vector<int> g(in);
    for (int i = 0; i < in; i++) g[i] = c.group < 0 ? 0 : i / c.group;
    if (c.act_order) rng.shuffle(g);   // desc_act checkpoints: any input may belong to any group
    std::vector<std::vector<int>> q(out, std::vector<int>(in)), z(groups, std::vector<int>(out));
    for (auto& col : q) for (auto& v : col) v = rng.below(1 << bits);
    for (auto& row : z) for (auto& v : row) v = rng.below(1 << bits);
    const int q_rows = in * bits / 32;
    const int zero_words = (out * bits + 31) / 32 + c.zero_pad;
    std::vector<int> qzeros(static_cast<std::size_t>(groups) * zero_words, 0);
    for (int k = 0; k < groups; k++) pack_bits(z[k], bits, qzeros, static_cast<long>(k) * zero_words, 1);
    std::vector<u16> scales(static_cast<std::size_t>(groups) * out), bias(out);
    for (auto& s : scales) s = to_half(rng.uniform(0.002f, 0.05f) * (rng.below(8) == 0 ? -1.f : 1.f));
    for (auto& b : bias) b = to_half(rng.uniform(-1, 1));
    std::vector<float> x(static_cast<std::size_t>(batch) * in);
    for (auto& v : x) v = rng.uniform(-1, 1);

    // Reference from the checkpoint's own layout (original input order).
    std::vector<double> want(static_cast<std::size_t>(batch) * out), mag(want.size());
    for (int b = 0; b < batch; b++) {
        for (int o = 0; o < out; o++) {
            double acc = c.bias ? half_value(bias[o]) : 0, m = c.bias ? std::fabs(half_value(bias[o])) : 0;
            for (int i = 0; i < in; i++) {
                double w = half_value(scales[static_cast<std::size_t>(g[i]) * out + o])
                        * (q[o][i] - (z[g[i]][o] + c.zero_plus_one));
                double t = static_cast<double>(x[static_cast<std::size_t>(b) * in + i]) * w;
                acc += t;
                m += std::fabs(t);
            }
            want[static_cast<std::size_t>(b) * out + o] = acc;
            mag[static_cast<std::size_t>(b) * out + o] = m;
        }
    }

    // Host preparation (docs/gpu-kernels.md): stable sort of inputs by group, qweight re-packed in that order.
    std::vector<int> perm(in);
    std::iota(perm.begin(), perm.end(), 0);
    if (c.act_order) std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return g[a] < g[b]; });
    std::vector<int> g_sorted(in), qweight(static_cast<std::size_t>(q_rows) * out, 0);
    for (int p = 0; p < in; p++) g_sorted[p] = g[perm[p]];
    for (int o = 0; o < out; o++) {
        std::vector<int> col(in);
        for (int p = 0; p < in; p++) col[p] = q[o][perm[p]];
        pack_bits(col, bits, qweight, o, out);
    }
    std::vector<float> xp(x.size(), kNaN);
    const float* src = x.data();
    if (c.act_order) {
        if (launch(paddock_sim_launch_gptq_gather_x, dim3(ceil_div(in, 256), batch), dim3(256), (const float*)x.data(),
                   (const int*)perm.data(), xp.data(), batch, in)) {
            return launch_failed("gptq_gather_x");
        }
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < in; p++) {
                if (xp[static_cast<std::size_t>(b) * in + p] != x[static_cast<std::size_t>(b) * in + perm[p]]) {
                    return {false, fmt("gather: xp[%d,%d] is not x[%d,%d]", b, p, b, perm[p])};
                }
            }
        }
        src = xp.data();
    }
    const u16* bp = c.bias ? bias.data() : nullptr;
    std::vector<float> y(want.size(), c.split_k > 1 && !c.batched ? 0.f : kNaN);   // split-K: zeroed first
    int rc;
    if (c.batched) {
        rc = launch(paddock_sim_launch_gptq_matmul_batched, dim3(ceil_div(out, 128), ceil_div(batch, 16)), dim3(128),
                    src, (const int*)qweight.data(), (const int*)qzeros.data(), (const u16*)scales.data(),
                    (const int*)g_sorted.data(), bp, y.data(), batch, in, out, bits, zero_words, c.zero_plus_one);
    } else {
        rc = launch(paddock_sim_launch_gptq_matmul_decode, dim3(ceil_div(out, 32), c.split_k), dim3(32, c.warps), src,
                    (const int*)qweight.data(), (const int*)qzeros.data(), (const u16*)scales.data(),
                    (const int*)g_sorted.data(), bp, y.data(), batch, in, out, bits, zero_words, c.zero_plus_one);
    }
    if (rc) return launch_failed(c.batched ? "gptq_matmul_batched" : "gptq_matmul_decode");
    // Roundings per output: one per dequantized weight ((code - zero) exact, * scale rounds), then the sums:
    // batched = one fmaf chain over all `in` inputs (+ bias); decode = 32-term unit sums, <= units per warp slice,
    // W warps in shared memory, + bias, + split-K atomics.
    const int units = (in + 31) / 32;
    const double k = c.batched ? in + 2 : 32 + units + c.warps + c.split_k + 2;
    Compare cmp;
    for (std::size_t i = 0; i < y.size(); i++) cmp.add(i, y[i], want[i], k * kU * mag[i] + 1e-30);
    return cmp.outcome();
}

std::vector<GptqCase> gptq_cases() {
    std::vector<GptqCase> cs;
    const bool s = g_small;
    for (int bits : {2, 3, 4, 8}) {
        int in = s ? 256 : 1024, out = s ? 72 : 200;
        // decode: batch 1..4, split-K 1..3, group sizes 32/64/128/none and 48 (groups straddle 32-input units)
        cs.push_back({false, bits, in, out, s ? 48 : 128, false, 0, 1, 1, 8, false});
        cs.push_back({false, bits, in, out, 48, true, 1, 4, 2, 8, true});
        if (!s) {
            cs.push_back({false, bits, 512, 96, -1, false, 0, 2, 3, 4, true});
            cs.push_back({false, bits, 768, 64, 64, true, 0, 3, 1, 32, false});
            cs.push_back({false, bits, in, out, 32, true, 1, 1, 3, 1, true});
        }
        // batched: batches 5, 16, 17, 32, 100
        cs.push_back({true, bits, s ? 256 : 512, s ? 136 : 200, s ? 48 : 128, true, 1, 17, 1, 0, true});
        if (!s) {
            cs.push_back({true, bits, 384, 130, 48, false, 0, 5, 1, 0, false});
            cs.push_back({true, bits, 256, 128, -1, false, 1, 16, 1, 0, true});
            cs.push_back({true, bits, 256, 64, 64, true, 0, 32, 1, 0, false});
            cs.push_back({true, bits, 128, 256, 32, true, 0, 100, 1, 0, true});
        }
    }
    // in not a multiple of 32 (2/4/8 bits; the format needs in*bits % 32 == 0)
    for (auto [bits, in] : {std::pair{2, 208}, std::pair{4, 200}, std::pair{8, 196}}) {
        cs.push_back({false, bits, in, 40, 32, true, 0, 3, 2, 8, true});
        cs.push_back({true, bits, in, 40, -1, false, 1, 17, 1, 0, false});
        if (g_small) break;
    }
    // qzeros rows with padding words beyond ceil(out*bits/32)
    cs.push_back({false, 3, 256, 70, 64, false, 0, 2, 1, 8, false, 1});
    if (!g_small) cs.push_back({true, 4, 256, 70, 64, true, 1, 6, 1, 0, true, 2});
    return cs;
}

}  // namespace

void gptq_tests() {
    for (const GptqCase& c : gptq_cases()) run_case(c.name(), [&c] { return gptq_run(c); });
}

}  // namespace kt
