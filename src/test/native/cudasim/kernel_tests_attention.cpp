// Kernel tests, part of kernel_tests.cpp's harness: paged_attention.cu (attention over the paged KV pool, KV writes).
#include "kernel_tests.h"

#include "paged_attention.cu"
PADDOCK_SIM_EXPORT(paged_attention_f32)
PADDOCK_SIM_EXPORT(kv_store_f32)
PADDOCK_SIM_EXPORT(kv_store_f16)
PADDOCK_SIM_EXPORT(paged_attention_decode_f16)
PADDOCK_SIM_EXPORT(paged_attention_prefill_f16)
PADDOCK_SIM_EXPORT(rope_kv_store_f16)

// rope_rotate_half_f32 is exported by kernel_tests_layers.cpp (layer_ops.cu): the fused kernel is held against it.
extern "C" int paddock_sim_launch_rope_rotate_half_f32(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
        void**, const int*, int);

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


// ---- fp16 pool ------------------------------------------------------------------------------------------------

// fp32 -> fp16 round to nearest even, computed independently of the emulation: scale to the binade's quantum and
// round with nearbyint (the default rounding mode is to nearest even); the value as a double (inf past the range).
double rne_half_value(float f) {
    double a = std::fabs(static_cast<double>(f));
    if (std::isnan(a)) return NAN;
    int e = a == 0 ? -14 : std::max(-14, static_cast<int>(std::floor(std::log2(a))));
    double quantum = std::ldexp(1.0, e - 10);
    double r = std::nearbyint(a / quantum) * quantum;
    if (r >= 65536.0 - 16.0) r = INFINITY;   // 65520 and above round to inf
    return std::signbit(f) ? -r : r;
}

Outcome kv_store_f16_run(int block_size, int kv_dim) {
    Rng rng(fmt("kv16 %d %d", block_size, kv_dim));
    PagedLayout l = make_layout(rng, {37, 5, 64}, block_size, kv_dim);
    std::vector<int> seq = {0, 0, 0, 0, 0, 0, 0, 1, 2}, pos = {30, 31, 32, 33, 34, 35, 36, 4, 63};
    int rows = static_cast<int>(seq.size());
    std::vector<int> offset(rows);
    for (int r = 0; r < rows; r++) offset[r] = l.table_start[seq[r]];
    std::size_t pool = static_cast<std::size_t>(l.num_blocks) * block_size * kv_dim;
    const u16 kPoison = 0x7e01;   // a NaN the kernel never writes
    std::vector<u16> kp(pool, kPoison), vp(pool, kPoison);
    std::vector<float> k(static_cast<std::size_t>(rows) * kv_dim), v(k.size());
    // Random values over many binades, plus ties (1 + 2^-11 and 1 + 3·2^-11: even neighbour below / above),
    // subnormals, the overflow edge (65519 rounds to 65504, 65520 to inf) and signed zero.
    const float special[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, -(1.0f + 0x1p-11f), 0x1p-25f, 0x1.8p-24f, 3e-6f,
                             65519.0f, 65520.0f, -70000.0f, -0.0f, 0.0f, 1e-9f, 2049.0f, 2051.0f};
    std::size_t ns = sizeof special / sizeof special[0];
    for (std::size_t i = 0; i < k.size(); i++) {
        k[i] = i < ns ? special[i] : rng.uniform(-1, 1) * std::ldexp(1.0f, rng.below(30) - 20);
        v[i] = i < ns ? special[ns - 1 - i] : rng.uniform(-1, 1) * std::ldexp(1.0f, rng.below(30) - 20);
    }
    if (launch(paddock_sim_launch_kv_store_f16, dim3(rows, ceil_div(kv_dim, 256)), dim3(256), kp.data(), vp.data(),
               (const float*)k.data(), (const float*)v.data(), (const int*)l.tables.data(), (const int*)offset.data(),
               (const int*)pos.data(), kv_dim, block_size)) {
        return launch_failed("kv_store_f16");
    }
    std::vector<double> kw(pool, NAN), vw(pool, NAN);
    std::vector<char> written(pool, 0);
    for (int r = 0; r < rows; r++) {
        long long row = l.row_of(seq[r], pos[r]);
        for (int d = 0; d < kv_dim; d++) {
            kw[row * kv_dim + d] = rne_half_value(k[static_cast<std::size_t>(r) * kv_dim + d]);
            vw[row * kv_dim + d] = rne_half_value(v[static_cast<std::size_t>(r) * kv_dim + d]);
            written[row * kv_dim + d] = 1;
        }
    }
    Compare cmp;   // written elements exact (value and sign), all others untouched
    for (std::size_t i = 0; i < pool; i++) {
        if (written[i]) {
            cmp.exact(i, half_value(kp[i]), kw[i]);
            cmp.exact(pool + i, half_value(vp[i]), vw[i]);
        } else {
            cmp.exact(i, kp[i], kPoison);
            cmp.exact(pool + i, vp[i], kPoison);
        }
    }
    return cmp.outcome();
}

// A paged fp16 pool holding random K/V for sequences of the given lengths; unused slots hold fp16 NaN.
struct Pool16 {
    PagedLayout l;
    std::vector<u16> k, v;
    double key(int seq, int p, int i) const { return half_value(k[l.row_of(seq, p) * l.kv_dim + i]); }
    double val(int seq, int p, int i) const { return half_value(v[l.row_of(seq, p) * l.kv_dim + i]); }
};

Pool16 make_pool16(Rng& rng, const std::vector<int>& lengths, int block_size, int kv_dim) {
    Pool16 p{make_layout(rng, lengths, block_size, kv_dim), {}, {}};
    std::size_t n = static_cast<std::size_t>(p.l.num_blocks) * block_size * kv_dim;
    p.k.assign(n, 0x7e00);
    p.v.assign(n, 0x7e00);
    for (std::size_t s = 0; s < lengths.size(); s++) {
        for (int t = 0; t < lengths[s]; t++) {
            long long row = p.l.row_of(static_cast<int>(s), t);
            for (int d = 0; d < kv_dim; d++) {
                p.k[row * kv_dim + d] = to_half(rng.uniform(-1, 1));
                p.v[row * kv_dim + d] = to_half(rng.uniform(-1, 1));
            }
        }
    }
    return p;
}

// Compares out's (row, head) against a double softmax over positions [0, pos] of sequence seq, K/V as the fp16
// pool holds them. Tolerance (u = 2^-24): each score is a sequential fp32 fmaf chain of headDim terms and a scale
// multiply, |ds| <= (hd + 2) u scale·Σ|q k|; the weights exp(s - m) see twice that plus expf (2 ulp) and the rounded
// difference (2u max|s|); a relative weight error e moves the weighted mean of v by <= 2e max|v|. The running sums
// (16 fmaf per tile, a corr multiply per tile, the weight sum, one division, and across partitions the reduce's
// few roundings) add <= (2 len + 40) u max|v| in the worst case of no cancellation.
void check_row_head(Compare& cmp, const Pool16& pool, int seq, int pos, const float* qh, int kvh, int hd,
        const float* got, std::size_t at, double* worst_abs) {
    const int len = pos + 1;
    const double scale = 1 / std::sqrt(static_cast<double>(hd));
    std::vector<double> s(len);
    double smax = -INFINITY, dmax = 0, vmax = 0;
    for (int t = 0; t < len; t++) {
        double dot = 0, d = 0;
        for (int e = 0; e < hd; e++) {
            double kv = pool.key(seq, t, kvh * hd + e);
            dot += static_cast<double>(qh[e]) * kv;
            d += std::fabs(static_cast<double>(qh[e]) * kv);
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
        for (int e = 0; e < hd; e++) {
            double vv = pool.val(seq, t, kvh * hd + e);
            o[e] += p * vv;
            vmax = std::max(vmax, std::fabs(vv));
        }
    }
    double e = 2 * (hd + 2) * kU * dmax + 4 * kU * std::fabs(smax) + 3 * kU;
    double tol = (4 * e + (2.0 * len + 40) * kU) * vmax;
    for (int d = 0; d < hd; d++) {
        cmp.add(at + d, got[at + d], o[d] / sum, tol);
        if (!std::isnan(got[at + d])) *worst_abs = std::max(*worst_abs, std::fabs(got[at + d] - o[d] / sum));
    }
}

struct Decode16Case {
    int heads, kv_heads, head_dim, block_size, part_size;
    std::vector<int> lengths;   // one decode row per sequence (its last position)

    std::string name() const {
        std::string s = fmt("paged_attention_decode_f16 heads=%d kv=%d hd=%d bs=%d part=%d ctx=", heads, kv_heads,
                            head_dim, block_size, part_size);
        for (std::size_t i = 0; i < lengths.size(); i++) s += (i ? "," : "") + std::to_string(lengths[i]);
        return s;
    }
};

Outcome decode16_run(const Decode16Case& c) {
    Rng rng(c.name());
    const int hd = c.head_dim, kv_dim = c.kv_heads * hd, q_dim = c.heads * hd;
    Pool16 pool = make_pool16(rng, c.lengths, c.block_size, kv_dim);
    // Rows: an unrelated row first (not decoded: its output must stay untouched), then the decode rows in reverse
    // sequence order, so slot i != row i.
    const int ns = static_cast<int>(c.lengths.size()), rows = ns + 1;
    std::vector<int> seq(rows), pos(rows), offset(rows), decode_rows;
    seq[0] = 0;
    pos[0] = 0;
    for (int i = 0; i < ns; i++) {
        seq[1 + i] = ns - 1 - i;
        pos[1 + i] = c.lengths[ns - 1 - i] - 1;
        decode_rows.push_back(1 + i);
    }
    for (int r = 0; r < rows; r++) offset[r] = pool.l.table_start[seq[r]];
    int max_len = *std::max_element(c.lengths.begin(), c.lengths.end());
    const int splits = ceil_div(max_len, c.part_size) + 1;   // one partition past every row: must exit at once
    std::vector<float> q(static_cast<std::size_t>(rows) * q_dim), out(q.size(), kNaN);
    for (auto& e : q) e = rng.uniform(-1, 1) * 2;
    std::size_t parts = static_cast<std::size_t>(ns) * c.heads * splits;
    std::vector<float> part_o(parts * hd, kNaN), part_ml(parts * 2, kNaN);
    std::vector<int> counters(static_cast<std::size_t>(ns) * c.kv_heads, 0);
    if (launch(paddock_sim_launch_paged_attention_decode_f16, dim3(ns, c.kv_heads, splits), dim3(128), out.data(),
               part_o.data(), part_ml.data(), counters.data(), (const float*)q.data(), (const u16*)pool.k.data(),
               (const u16*)pool.v.data(), (const int*)pool.l.tables.data(), (const int*)offset.data(),
               (const int*)pos.data(), (const int*)decode_rows.data(), c.heads, c.kv_heads, hd, c.block_size,
               c.part_size)) {
        return launch_failed("paged_attention_decode_f16");
    }
    Compare cmp;
    for (std::size_t i = 0; i < counters.size(); i++) {
        if (counters[i] != 0) return {false, fmt("partition counter %zu left at %d", i, counters[i])};
    }
    double worst = 0;
    for (int h = 0; h < q_dim; h++) cmp.exact(static_cast<std::size_t>(h), out[h], kNaN);   // row 0 untouched
    for (int r = 1; r < rows; r++) {
        for (int h = 0; h < c.heads; h++) {
            std::size_t at = static_cast<std::size_t>(r) * q_dim + static_cast<std::size_t>(h) * hd;
            check_row_head(cmp, pool, seq[r], pos[r], &q[at], h / (c.heads / c.kv_heads), hd, out.data(), at, &worst);
        }
    }
    Outcome o = cmp.outcome();
    o.detail += fmt(" splits=%d max|err|=%.3g", splits, worst);
    return o;
}

struct Prefill16Case {
    int heads, kv_heads, head_dim, block_size;
    std::vector<int> lengths;                  // per sequence
    std::vector<std::pair<int, int>> chunks;   // (sequence, rows): the last rows of that sequence, one chunk each

    std::string name() const {
        std::string s = fmt("paged_attention_prefill_f16 heads=%d kv=%d hd=%d bs=%d chunks=", heads, kv_heads,
                            head_dim, block_size);
        for (std::size_t i = 0; i < chunks.size(); i++) {
            s += fmt("%s%d/%d", i ? "," : "", chunks[i].second, lengths[chunks[i].first]);
        }
        return s;
    }
};

Outcome prefill16_run(const Prefill16Case& c) {
    Rng rng(c.name());
    const int hd = c.head_dim, kv_dim = c.kv_heads * hd, q_dim = c.heads * hd, group = c.heads / c.kv_heads;
    Pool16 pool = make_pool16(rng, c.lengths, c.block_size, kv_dim);
    std::vector<int> seq, pos, tiles;
    const int tile_rows = std::max(1, 16 / group);   // as the host cuts them
    for (auto [s, n] : c.chunks) {
        int first = static_cast<int>(seq.size());
        for (int i = 0; i < n; i++) {
            seq.push_back(s);
            pos.push_back(c.lengths[s] - n + i);
        }
        for (int t = 0; t < n; t += tile_rows) {
            tiles.push_back(first + t);
            tiles.push_back(std::min(tile_rows, n - t));
        }
    }
    const int rows = static_cast<int>(seq.size()), ntiles = static_cast<int>(tiles.size() / 2);
    std::vector<int> offset(rows);
    for (int r = 0; r < rows; r++) offset[r] = pool.l.table_start[seq[r]];
    std::vector<float> q(static_cast<std::size_t>(rows) * q_dim), out(q.size(), kNaN);
    for (auto& e : q) e = rng.uniform(-1, 1) * 2;
    if (launch(paddock_sim_launch_paged_attention_prefill_f16, dim3(ntiles, c.kv_heads), dim3(128), out.data(),
               (const float*)q.data(), (const u16*)pool.k.data(), (const u16*)pool.v.data(),
               (const int*)pool.l.tables.data(), (const int*)offset.data(), (const int*)pos.data(),
               (const int*)tiles.data(), c.heads, c.kv_heads, hd, c.block_size)) {
        return launch_failed("paged_attention_prefill_f16");
    }
    Compare cmp;
    double worst = 0;
    for (int r = 0; r < rows; r++) {
        for (int h = 0; h < c.heads; h++) {
            std::size_t at = static_cast<std::size_t>(r) * q_dim + static_cast<std::size_t>(h) * hd;
            check_row_head(cmp, pool, seq[r], pos[r], &q[at], h / group, hd, out.data(), at, &worst);
        }
    }
    Outcome o = cmp.outcome();
    o.detail += fmt(" tiles=%d max|err|=%.3g", ntiles, worst);
    return o;
}

// ---- RoPE + fp16 KV store in one kernel ------------------------------------------------------------------------

struct RopeKvCase {
    int heads, kv_heads, head_dim, block_size;
    bool tables;
    double theta;
    unsigned block;   // 0: the launcher's min(headDim/2, 128)

    std::string name() const {
        return fmt("rope_kv_store_f16 heads=%d kv=%d hd=%d bs=%d %s theta=%g block=%u", heads, kv_heads, head_dim,
                   block_size, tables ? "table" : "computed-angle", theta, block);
    }
};

// The fused kernel against the three launches it replaces, on identical inputs: rope_rotate_half_f32 on q, on k,
// then kv_store_f16. q, k (rotated in place) and both pools must agree bit for bit; pool slots no row writes must
// keep their poison in both. Rows: a prefill chunk of sequence 0 sharing one table, decode rows of the others, at
// positions up to 4000 (large angles; 1000 with --small); values over many binades (fp16 subnormals, rounding,
// overflow to inf).
Outcome rope_kv_store_run(const RopeKvCase& c) {
    Rng rng(c.name());
    // --small (TSan): a shorter sequence 0, so the pools to compare are a quarter the size
    const int hd = c.head_dim, half = hd / 2, kv_dim = c.kv_heads * hd, q_dim = c.heads * hd;
    const int max_pos = g_small ? 1001 : 4001, last = max_pos - 1;
    PagedLayout l = make_layout(rng, {max_pos, 37, 5, 300}, c.block_size, kv_dim);
    std::vector<int> seq = {0, 0, 0, 0, 1, 2, 3, 0}, pos = {last - 4, last - 3, last - 2, last - 1, 36, 4, 0, last};
    // sequence 0's chunk and its decode row in a different order than their positions
    std::swap(pos[1], pos[2]);
    const int rows = static_cast<int>(seq.size());
    std::vector<int> offset(rows);
    for (int r = 0; r < rows; r++) offset[r] = l.table_start[seq[r]];
    std::vector<float> cos_t(static_cast<std::size_t>(max_pos) * half), sin_t(cos_t.size());
    for (int i = 0; i < half; i++) {   // RopeTable.create's arithmetic (see kernel_tests_layers.cpp)
        float exponent = static_cast<float>(2 * i) / static_cast<float>(hd);
        float inv_freq = 1.0f / static_cast<float>(std::pow(c.theta, static_cast<double>(exponent)));
        for (int p = 0; p < max_pos; p++) {
            float angle = static_cast<float>(p) * inv_freq;
            cos_t[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
            sin_t[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
    }
    auto value = [&] { return rng.uniform(-1, 1) * std::ldexp(1.0f, rng.below(44) - 26); };
    std::vector<float> q(static_cast<std::size_t>(rows) * q_dim);
    std::vector<float> k(static_cast<std::size_t>(rows) * kv_dim), v(k.size());
    for (auto& e : q) e = value();
    for (auto& e : k) e = value();
    for (auto& e : v) e = value();
    const float special[] = {1.0f + 0x1p-11f, -(1.0f + 3 * 0x1p-11f), 0x1p-25f, 65519.0f, 65520.0f, -0.0f, 1e-9f};
    for (std::size_t i = 0; i < sizeof special / sizeof special[0]; i++) v[i] = special[i];
    const std::size_t pool = static_cast<std::size_t>(l.num_blocks) * c.block_size * kv_dim;
    const u16 kPoison = 0x7e01;
    std::vector<u16> kp_old(pool, kPoison), vp_old(pool, kPoison);
    std::vector<float> q_old = q, k_old = k, q_new = q, k_new = k;
    std::vector<u16> kp_new = kp_old, vp_new = vp_old;
    const float* ct = c.tables ? cos_t.data() : nullptr;
    const float* st = c.tables ? sin_t.data() : nullptr;
    const unsigned rope_block = static_cast<unsigned>(std::min(half, 128));
    const unsigned block = c.block ? c.block : rope_block;

    if (launch(paddock_sim_launch_rope_rotate_half_f32, dim3(rows, c.heads), dim3(rope_block), q_old.data(),
               (const int*)pos.data(), q_dim, hd, ct, st, c.theta)) {
        return launch_failed("rope_rotate_half_f32 (q)");
    }
    if (launch(paddock_sim_launch_rope_rotate_half_f32, dim3(rows, c.kv_heads), dim3(rope_block), k_old.data(),
               (const int*)pos.data(), kv_dim, hd, ct, st, c.theta)) {
        return launch_failed("rope_rotate_half_f32 (k)");
    }
    if (launch(paddock_sim_launch_kv_store_f16, dim3(rows, ceil_div(kv_dim, 256)), dim3(256), kp_old.data(),
               vp_old.data(), (const float*)k_old.data(), (const float*)v.data(), (const int*)l.tables.data(),
               (const int*)offset.data(), (const int*)pos.data(), kv_dim, c.block_size)) {
        return launch_failed("kv_store_f16");
    }
    if (launch(paddock_sim_launch_rope_kv_store_f16, dim3(rows, c.heads), dim3(block), q_new.data(), k_new.data(),
               (const float*)v.data(), kp_new.data(), vp_new.data(), (const int*)l.tables.data(),
               (const int*)offset.data(), (const int*)pos.data(), ct, st, c.theta, c.heads, c.kv_heads, hd,
               c.block_size)) {
        return launch_failed("rope_kv_store_f16");
    }
    std::vector<char> written(pool, 0);
    for (int r = 0; r < rows; r++) {
        long long row = l.row_of(seq[r], pos[r]);
        for (int d = 0; d < kv_dim; d++) written[row * kv_dim + d] = 1;
    }
    Compare cmp;
    std::size_t at = 0, rotated = 0, inf16 = 0;
    for (std::size_t i = 0; i < q.size(); i++, at++) {
        cmp.exact(at, q_new[i], q_old[i]);
        rotated += q_new[i] != q[i];
    }
    for (std::size_t i = 0; i < k.size(); i++, at++) cmp.exact(at, k_new[i], k_old[i]);
    for (std::size_t i = 0; i < pool; i++) {
        cmp.exact(at + 2 * i, kp_new[i], kp_old[i]);
        cmp.exact(at + 2 * i + 1, vp_new[i], vp_old[i]);
        if (!written[i]) {   // both must have left it alone
            cmp.exact(at + 2 * i, kp_new[i], kPoison);
            cmp.exact(at + 2 * i + 1, vp_new[i], kPoison);
        } else {
            inf16 += (kp_new[i] & 0x7fff) == 0x7c00;
        }
    }
    Outcome o = cmp.outcome();
    // a kernel that left q alone (or a test whose positions were all 0) would not show here
    if (o.ok && rotated < q.size() / 2) return {false, fmt("only %zu of %zu q elements changed", rotated, q.size())};
    o.detail += fmt(" (q, k, pools bit for bit; %zu k entries rounded to fp16 inf)", inf16);
    return o;
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

    for (auto [bs, kv] : {std::pair{1, 64}, std::pair{4, 300}, std::pair{16, 128}}) {
        run_case(fmt("kv_store_f16 blockSize=%d kvDim=%d", bs, kv), [=] { return kv_store_f16_run(bs, kv); });
    }
    // GQA ratios 1/4/8, headDim 64/128/80, blockSize 1/16 (and 3: a length that no block size divides), contexts
    // 1..3000, one to many partitions, one partition exactly full (len = partSize) and one just over.
    std::vector<Decode16Case> dec;
    std::vector<Prefill16Case> pre;
    if (g_small) {
        dec = {{4, 1, 64, 16, 32, {1, 33, 100}},
               {8, 1, 80, 3, 64, {64, 65}},
               {2, 2, 128, 1, 48, {47, 97}}};
        pre = {{4, 1, 64, 16, {40, 9}, {{0, 21}, {1, 9}}},
               {8, 1, 80, 3, {20}, {{0, 5}}},
               {2, 2, 128, 1, {18, 17}, {{0, 17}, {1, 2}}}};
    } else {
        dec = {{4, 4, 64, 16, 512, {1, 17, 512, 513, 3000}},
               {32, 8, 128, 16, 512, {3000, 1000, 2}},
               {8, 1, 128, 1, 512, {1500, 7}},
               {8, 1, 80, 3, 128, {1000, 129, 128}},
               {4, 1, 256, 16, 64, {700}},
               {2, 2, 64, 1, 16, {1, 16, 17, 300}},
               {8, 4, 8, 4, 16, {1, 2, 40}}};
        pre = {{4, 4, 64, 16, {100, 37, 18}, {{0, 100}, {1, 37}, {2, 2}}},
               {16, 4, 128, 16, {600, 40}, {{0, 70}, {1, 40}}},
               {8, 1, 128, 1, {300, 50}, {{0, 35}, {1, 50}}},
               {8, 1, 80, 3, {1000, 3}, {{0, 17}, {1, 3}}},
               {4, 1, 256, 4, {64}, {{0, 64}}},
               {8, 4, 8, 16, {30, 20}, {{0, 30}, {1, 4}}}};
    }
    // headDim 64/128/80 (and 256, 8); GQA 1/4/8; blockSize 1/16 (and 3); both RoPE paths; a block smaller than
    // headDim/2 so each thread handles several pairs.
    std::vector<RopeKvCase> rkv = {{4, 4, 64, 16, true, 10000.0, 0},   {4, 4, 64, 1, false, 10000.0, 0},
                                   {32, 8, 128, 16, false, 500000.0, 0}, {32, 8, 128, 1, true, 500000.0, 0},
                                   {8, 1, 80, 3, true, 10000.0, 0},      {8, 1, 80, 16, false, 10000.0, 0},
                                   {8, 1, 128, 16, false, 10000.0, 32},  {4, 1, 256, 1, true, 1000000.0, 0},
                                   {2, 2, 8, 16, false, 10000.0, 0}};
    for (const RopeKvCase& c : rkv) run_case(c.name(), [&c] { return rope_kv_store_run(c); });
    for (const Decode16Case& c : dec) run_case(c.name(), [&c] { return decode16_run(c); });
    for (const Prefill16Case& c : pre) run_case(c.name(), [&c] { return prefill16_run(c); });
}

}  // namespace kt
