// Kernel tests, part of kernel_tests.cpp's harness: paged_attention.cu (attention over the paged KV pool, KV writes).
#include "kernel_tests.h"

#include "paged_attention.cu"
PADDOCK_SIM_EXPORT(paged_attention_f32)
PADDOCK_SIM_EXPORT(kv_store_f32)

namespace kt {
namespace {

// Sequences of given lengths in a shuffled pool of blocks; rows reference a sequence and a position.
struct PagedLayout {
    int block_size, kv_dim, num_blocks;
    std::vector<int> tables;        // all tables back to back
    std::vector<int> table_start;   // per sequence
    long long row_of(int seq, int p) const {
        return static_cast<long long>(tables[table_start[seq] + p / block_size]) * block_size + p % block_size;
    }
};

PagedLayout make_layout(Rng& rng, const std::vector<int>& lengths, int block_size, int kv_dim) {
    PagedLayout l{block_size, kv_dim, 0, {}, {}};
    int needed = 0;
    for (int len : lengths) needed += (len + block_size - 1) / block_size;
    l.num_blocks = needed + 5;   // spare blocks stay NaN: reading one poisons the result
    std::vector<int> ids(l.num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    rng.shuffle(ids);
    int next = 0;
    for (int len : lengths) {
        l.table_start.push_back(static_cast<int>(l.tables.size()));
        for (int b = 0; b < (len + block_size - 1) / block_size; b++) l.tables.push_back(ids[next++]);
    }
    return l;
}

Outcome kv_store_run(int block_size, int kv_dim) {
    Rng rng(fmt("kv %d %d", block_size, kv_dim));
    PagedLayout l = make_layout(rng, {37, 5, 64}, block_size, kv_dim);
    // rows: a prefill chunk of sequence 0 (positions 30..36, one shared table), decode rows of 1 and 2
    std::vector<int> seq = {0, 0, 0, 0, 0, 0, 0, 1, 2}, pos = {30, 31, 32, 33, 34, 35, 36, 4, 63};
    int rows = static_cast<int>(seq.size());
    std::vector<int> offset(rows);
    for (int r = 0; r < rows; r++) offset[r] = l.table_start[seq[r]];
    std::size_t pool = static_cast<std::size_t>(l.num_blocks) * block_size * kv_dim;
    std::vector<float> kp(pool, kNaN), vp(pool, kNaN), k(static_cast<std::size_t>(rows) * kv_dim), v(k.size());
    for (auto& e : k) e = rng.uniform(-1, 1);
    for (auto& e : v) e = rng.uniform(-1, 1);
    if (launch(paddock_sim_launch_kv_store_f32, dim3(rows, ceil_div(kv_dim, 256)), dim3(256), kp.data(), vp.data(),
               (const float*)k.data(), (const float*)v.data(), (const int*)l.tables.data(), (const int*)offset.data(),
               (const int*)pos.data(), kv_dim, block_size)) {
        return launch_failed("kv_store_f32");
    }
    std::vector<float> kw(pool, kNaN), vw(pool, kNaN);
    for (int r = 0; r < rows; r++) {
        long long row = l.row_of(seq[r], pos[r]);
        for (int d = 0; d < kv_dim; d++) {
            kw[row * kv_dim + d] = k[static_cast<std::size_t>(r) * kv_dim + d];
            vw[row * kv_dim + d] = v[static_cast<std::size_t>(r) * kv_dim + d];
        }
    }
    Compare cmp;   // every pool element: written rows exact, all others untouched
    for (std::size_t i = 0; i < pool; i++) {
        cmp.exact(i, kp[i], kw[i]);
        cmp.exact(pool + i, vp[i], vw[i]);
    }
    return cmp.outcome();
}

struct AttnCase {
    int heads, kv_heads, head_dim, block_size;
    std::vector<int> lengths;   // per sequence; the last position of each is a decode row
    int prefill_rows;           // also rows for positions 0..prefill_rows-1 of sequence 0 (sharing its table)
    float q_scale;              // > 1 sharpens the softmax (exercises the running-max rescale)

    std::string name() const {
        std::string s = fmt("paged_attention heads=%d kv=%d hd=%d bs=%d ctx=", heads, kv_heads, head_dim, block_size);
        for (std::size_t i = 0; i < lengths.size(); i++) s += (i ? "," : "") + std::to_string(lengths[i]);
        return s + fmt(" prefill=%d qx%g", prefill_rows, q_scale);
    }
};

Outcome attention_run(const AttnCase& c) {
    Rng rng(c.name());
    const int hd = c.head_dim, kv_dim = c.kv_heads * hd, q_dim = c.heads * hd;
    PagedLayout l = make_layout(rng, c.lengths, c.block_size, kv_dim);
    std::size_t pool = static_cast<std::size_t>(l.num_blocks) * c.block_size * kv_dim;
    std::vector<float> kp(pool, kNaN), vp(pool, kNaN);
    for (std::size_t s = 0; s < c.lengths.size(); s++) {
        for (int p = 0; p < c.lengths[s]; p++) {
            long long row = l.row_of(static_cast<int>(s), p);
            for (int d = 0; d < kv_dim; d++) {
                kp[row * kv_dim + d] = rng.uniform(-1, 1);
                vp[row * kv_dim + d] = rng.uniform(-1, 1);
            }
        }
    }
    std::vector<int> seq, pos;
    for (int p = 0; p < c.prefill_rows; p++) {
        seq.push_back(0);
        pos.push_back(p);
    }
    for (std::size_t s = 0; s < c.lengths.size(); s++) {
        seq.push_back(static_cast<int>(s));
        pos.push_back(c.lengths[s] - 1);
    }
    const int rows = static_cast<int>(seq.size());
    std::vector<int> offset(rows);
    for (int r = 0; r < rows; r++) offset[r] = l.table_start[seq[r]];
    std::vector<float> q(static_cast<std::size_t>(rows) * q_dim), out(q.size(), kNaN);
    for (auto& e : q) e = rng.uniform(-1, 1) * c.q_scale;
    if (launch(paddock_sim_launch_paged_attention_f32, dim3(rows, c.heads), dim3(128), out.data(), (const float*)q.data(),
               (const float*)kp.data(), (const float*)vp.data(), (const int*)l.tables.data(), (const int*)offset.data(),
               (const int*)pos.data(), c.heads, c.kv_heads, hd, c.block_size)) {
        return launch_failed("paged_attention_f32");
    }
    Compare cmp;
    const double scale = 1 / std::sqrt(static_cast<double>(hd));
    for (int r = 0; r < rows; r++) {
        const int len = pos[r] + 1, nw = (len + 3) / 4;
        for (int h = 0; h < c.heads; h++) {
            const int kvh = h / (c.heads / c.kv_heads);
            const float* qh = &q[static_cast<std::size_t>(r) * q_dim + static_cast<std::size_t>(h) * hd];
            std::vector<double> s(len);
            double smax = -INFINITY, dmax = 0, vmax = 0;
            for (int t = 0; t < len; t++) {
                const float* kr = &kp[l.row_of(seq[r], t) * kv_dim + static_cast<long long>(kvh) * hd];
                double dot = 0, d = 0;
                for (int e = 0; e < hd; e++) {
                    dot += static_cast<double>(qh[e]) * kr[e];
                    d += std::fabs(static_cast<double>(qh[e]) * kr[e]);
                }
                s[t] = dot * scale;
                smax = std::max(smax, s[t]);
                dmax = std::max(dmax, d * scale);
            }
            std::vector<double> o(hd, 0.0);
            double sum = 0;
            for (int t = 0; t < len; t++) {
                double p = std::exp(s[t] - smax);
                sum += p;
                const float* vr = &vp[l.row_of(seq[r], t) * kv_dim + static_cast<long long>(kvh) * hd];
                for (int e = 0; e < hd; e++) {
                    o[e] += p * vr[e];
                    vmax = std::max(vmax, std::fabs(static_cast<double>(vr[e])));
                }
            }
            // Score error: per-lane fmaf chains (hd/32) + 5 butterfly adds + scale (3 roundings incl. 1/sqrtf):
            // |ds| <= (hd/32 + 8) u max_t scale*sum|q k|. Weights exp(s - m): expf 2 ulp plus the rounded
            // difference (u*2max|s|), relative to each weight; a relative weight error e moves a weighted mean of v
            // by <= 2e max|v|. The running sums (acc*corr then fmaf; l*corr + p) over nw = ceil(len/4) positions per
            // warp, the per-step corr factors and the 4-warp merge add <= (6 nw + 20) u max|v|.
            double e = 2 * (hd / 32.0 + 8) * kU * dmax + 4 * kU * std::fabs(smax) + 3 * kU;
            double tol = (2 * e + (6.0 * nw + 20) * kU) * vmax;
            for (int d = 0; d < hd; d++) {
                std::size_t j = static_cast<std::size_t>(r) * q_dim + static_cast<std::size_t>(h) * hd + d;
                cmp.add(j, out[j], o[d] / sum, tol);
            }
        }
    }
    return cmp.outcome();
}

}  // namespace

void attention_tests() {
    for (auto [bs, kv] : {std::pair{1, 64}, std::pair{4, 300}, std::pair{16, 128}}) {
        run_case(fmt("kv_store_f32 blockSize=%d kvDim=%d", bs, kv), [=] { return kv_store_run(bs, kv); });
    }
    std::vector<AttnCase> attn;
    if (g_small) {
        attn = {{2, 2, 64, 16, {1500, 1}, 3, 1},
                {4, 1, 80, 4, {300, 40}, 2, 4},
                {4, 1, 128, 1, {200}, 0, 1},
                {1, 1, 256, 16, {70}, 0, 2}};
    } else {
        attn = {{4, 4, 64, 16, {3000, 1, 17}, 5, 1},
                {8, 2, 128, 1, {1000, 33}, 3, 1},
                {4, 1, 80, 4, {3000}, 0, 4},
                {8, 8, 128, 16, {257, 64}, 0, 8},
                {4, 1, 256, 4, {100}, 2, 1}};
    }
    for (const AttnCase& c : attn) run_case(c.name(), [&c] { return attention_run(c); });
}

}  // namespace kt
