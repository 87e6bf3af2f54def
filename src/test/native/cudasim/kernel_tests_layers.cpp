// Kernel tests, part of kernel_tests.cpp's harness: layer_ops.cu and dense_matmul.cu.
#include "kernel_tests.h"

#include "layer_ops.cu"
PADDOCK_SIM_EXPORT(rmsnorm_f32)
PADDOCK_SIM_EXPORT(add_rmsnorm_f32)
PADDOCK_SIM_EXPORT(rope_rotate_half_f32)
PADDOCK_SIM_EXPORT(swiglu_f32)
PADDOCK_SIM_EXPORT(add_inplace_f32)
PADDOCK_SIM_EXPORT(embedding_rows)
PADDOCK_SIM_EXPORT(argmax_rows)
#include "dense_matmul.cu"
PADDOCK_SIM_EXPORT(dense_matmul)

namespace kt {
namespace {

// in % 8 != 0 (or fp32) takes the scalar path, 16-bit weights with in % 8 == 0 the 16-byte-load path.
Outcome dense_run(int dtype, int batch, int in, int out) {
    Rng rng(fmt("dense %d %d %d", dtype, batch, in));
    std::vector<float> x(static_cast<std::size_t>(batch) * in), wf(static_cast<std::size_t>(out) * in);
    std::vector<u16> wh(wf.size());
    for (auto& v : x) v = rng.uniform(-1, 1);
    std::vector<double> wv(wf.size());
    for (std::size_t i = 0; i < wf.size(); i++) {
        float f = rng.uniform(-0.5f, 0.5f);
        if (dtype == 0) wv[i] = wf[i] = f;
        if (dtype == 1) wv[i] = half_value(wh[i] = to_half(f));
        if (dtype == 2) wv[i] = bf16_value(wh[i] = to_bf16(f));
    }
    const void* w = dtype == 0 ? static_cast<const void*>(wf.data()) : static_cast<const void*>(wh.data());
    std::vector<float> y(static_cast<std::size_t>(batch) * out, kNaN);
    if (launch(paddock_sim_launch_dense_matmul, dim3(ceil_div(out, 8), ceil_div(batch, 4)), dim3(32, 8),
               (const float*)x.data(), w, y.data(), batch, in, out, dtype)) {
        return launch_failed("dense_matmul");
    }
    // Each lane chains ceil(in/32) fmaf (the vector path: 8 per 8-input chunk, ceil(in/8/32) chunks), then 5
    // butterfly additions; fp16/bf16 widening is exact.
    const bool vec = dtype != 0 && in % 8 == 0;
    const double k = (vec ? 8 * ((in / 8 + 31) / 32) : (in + 31) / 32) + 6;
    Compare cmp;
    for (int b = 0; b < batch; b++) {
        for (int o = 0; o < out; o++) {
            double acc = 0, m = 0;
            for (int i = 0; i < in; i++) {
                double t = x[static_cast<std::size_t>(b) * in + i] * wv[static_cast<std::size_t>(o) * in + i];
                acc += t;
                m += std::fabs(t);
            }
            cmp.add(static_cast<std::size_t>(b) * out + o, y[static_cast<std::size_t>(b) * out + o], acc, k * kU * m);
        }
    }
    return cmp.outcome();
}

// The CPU RopeTable's arithmetic (io.paddock.runtime.RopeTable.create): fp32 exponent and inv_freq from a double
// pow, fp32 angle, double cos/sin rounded to fp32.
void rope_tables(int head_dim, int max_pos, double theta, std::vector<float>& cos_t, std::vector<float>& sin_t) {
    int half = head_dim / 2;
    cos_t.assign(static_cast<std::size_t>(max_pos) * half, 0);
    sin_t.assign(cos_t.size(), 0);
    for (int i = 0; i < half; i++) {
        float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
        float inv_freq = 1.0f / static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
        for (int p = 0; p < max_pos; p++) {
            float angle = static_cast<float>(p) * inv_freq;
            cos_t[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
            sin_t[static_cast<std::size_t>(p) * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
        }
    }
}

Outcome rope_run(bool tables, int rows, int heads, int head_dim, int extra_stride, double theta) {
    Rng rng(fmt("rope %d %d %d %d %d", tables, rows, heads, head_dim, extra_stride));
    const int half = head_dim / 2, stride = heads * head_dim + extra_stride, max_pos = 4096;
    std::vector<float> v(static_cast<std::size_t>(rows) * stride), cos_t, sin_t;
    for (auto& e : v) e = rng.uniform(-3, 3);
    std::vector<int> pos(rows);
    for (auto& p : pos) p = rng.below(max_pos);
    pos[0] = 0;
    if (rows > 1) pos[1] = max_pos - 1;
    rope_tables(head_dim, max_pos, theta, cos_t, sin_t);
    std::vector<float> v0 = v;
    const float* ct = tables ? cos_t.data() : nullptr;
    const float* st = tables ? sin_t.data() : nullptr;
    unsigned block = static_cast<unsigned>(std::min(half, 128));
    if (launch(paddock_sim_launch_rope_rotate_half_f32, dim3(rows, heads), dim3(block), v.data(), (const int*)pos.data(),
               stride, head_dim, ct, st, theta)) {
        return launch_failed("rope_rotate_half_f32");
    }
    // lo*c - hi*s: two products and a difference, each rounded: |err| <= 2u(|lo c| + |hi s|) to first order (the
    // 2.0001 covers the u^2 term); hi' likewise.
    Compare cmp;
    if (!tables) {
        // The computed-angle path must be RopeTable's arithmetic step for step: with the same libm it gives the
        // table path's result bit for bit (a double angle, or a float pow, would differ in the last bits).
        std::vector<float> via_table = v0;
        if (launch(paddock_sim_launch_rope_rotate_half_f32, dim3(rows, heads), dim3(block), via_table.data(),
                   (const int*)pos.data(), stride, head_dim, (const float*)cos_t.data(), (const float*)sin_t.data(),
                   theta)) {
            return launch_failed("rope_rotate_half_f32 (tables)");
        }
        for (std::size_t j = 0; j < v.size(); j++) cmp.exact(v.size() + j, v[j], via_table[j]);
    }
    for (int r = 0; r < rows; r++) {
        for (int col = heads * head_dim; col < stride; col++) {   // padding between rows stays untouched
            std::size_t j = static_cast<std::size_t>(r) * stride + col;
            cmp.exact(j, v[j], v0[j]);
        }
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                std::size_t lo = static_cast<std::size_t>(r) * stride + static_cast<std::size_t>(h) * head_dim + i;
                std::size_t hi = lo + half;
                double c = cos_t[static_cast<std::size_t>(pos[r]) * half + i];
                double s = sin_t[static_cast<std::size_t>(pos[r]) * half + i];
                double a = v0[lo], b = v0[hi];
                cmp.add(lo, v[lo], a * c - b * s, 2.0001 * kU * (std::fabs(a * c) + std::fabs(b * s)) + 1e-37);
                cmp.add(hi, v[hi], b * c + a * s, 2.0001 * kU * (std::fabs(b * c) + std::fabs(a * s)) + 1e-37);
            }
        }
    }
    return cmp.outcome();
}

Outcome swiglu_run(long long n) {
    Rng rng(fmt("swiglu %lld", n));
    std::vector<float> gate(n), up(n);
    for (auto& v : gate) v = rng.uniform(-12, 12);
    for (auto& v : up) v = rng.uniform(-3, 3);
    gate[0] = 0;
    if (n > 4) {
        gate[1] = -100;   // exp overflows to inf: silu -> -0
        gate[2] = 100;
        gate[3] = -0.0f;
    }
    std::vector<float> g0 = gate;
    if (launch(paddock_sim_launch_swiglu_f32, dim3(ceil_div(n, 256)), dim3(256), gate.data(), (const float*)up.data(), n)) {
        return launch_failed("swiglu_f32");
    }
    // expf <= 2 ulp (CUDA's bound; glibc is tighter), 1+e (no cancellation), g/(...), *up: <= 6u relative.
    Compare cmp;
    for (long long i = 0; i < n; i++) {
        double g = g0[i], want = g / (1 + std::exp(-g)) * up[i];
        cmp.add(static_cast<std::size_t>(i), gate[i], want, 6 * kU * std::fabs(want) + 1e-30);
    }
    return cmp.outcome();
}

Outcome add_run(long long n) {
    Rng rng(fmt("add %lld", n));
    std::vector<float> a(n), b(n);
    for (auto& v : a) v = rng.uniform(-1e3f, 1e3f);
    for (auto& v : b) v = rng.uniform(-1e-3f, 1e3f);
    std::vector<float> a0 = a;
    if (launch(paddock_sim_launch_add_inplace_f32, dim3(ceil_div(n, 256)), dim3(256), a.data(), (const float*)b.data(), n)) {
        return launch_failed("add_inplace_f32");
    }
    // The fp32 sum, correctly rounded: summing in double and rounding once gives exactly that (no double rounding
    // issue for a sum of two floats).
    Compare cmp;
    for (long long i = 0; i < n; i++) {
        cmp.exact(static_cast<std::size_t>(i), a[i], static_cast<float>(static_cast<double>(a0[i]) + b[i]));
    }
    return cmp.outcome();
}

Outcome embedding_run(int dtype) {
    Rng rng(fmt("embedding %d", dtype));
    const int vocab = 50, hidden = g_small ? 260 : 300, rows = 7;   // hidden not a multiple of 256
    std::vector<float> tf(static_cast<std::size_t>(vocab) * hidden);
    std::vector<u16> th(tf.size());
    for (std::size_t i = 0; i < tf.size(); i++) {
        float f = rng.uniform(-2, 2);
        if (i == 3) f = 1e-6f;   // an fp16 subnormal
        tf[i] = f;
        th[i] = dtype == 1 ? to_half(f) : to_bf16(f);
    }
    std::vector<int> tokens = {0, 49, 7, 7, 13, 48, 1};
    std::vector<float> out(static_cast<std::size_t>(rows) * hidden, kNaN);
    const void* table = dtype == 0 ? static_cast<const void*>(tf.data()) : static_cast<const void*>(th.data());
    if (launch(paddock_sim_launch_embedding_rows, dim3(rows, ceil_div(hidden, 256)), dim3(256), out.data(), table,
               (const int*)tokens.data(), hidden, dtype)) {
        return launch_failed("embedding_rows");
    }
    Compare cmp;   // widening is exact
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < hidden; i++) {
            std::size_t s = static_cast<std::size_t>(tokens[r]) * hidden + i;
            double want = dtype == 0 ? tf[s] : dtype == 1 ? half_value(th[s]) : bf16_value(th[s]);
            cmp.exact(static_cast<std::size_t>(r) * hidden + i, out[static_cast<std::size_t>(r) * hidden + i], want);
        }
    }
    return cmp.outcome();
}

// Lowest index of the largest non-NaN value; 0 when every value is NaN.
int argmax_ref(const float* x, int n) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (std::isnan(x[i])) continue;
        if (best < 0 || x[i] > x[best]) best = i;
    }
    return best < 0 ? 0 : best;
}

Outcome argmax_run(int n, unsigned block) {
    Rng rng(fmt("argmax %d %u", n, block));
    std::vector<std::vector<float>> rows;
    auto row = [&] { return std::vector<float>(n); };
    {   // random, distinct-ish
        auto r = row();
        for (auto& v : r) v = rng.uniform(-5, 5);
        rows.push_back(r);
    }
    {   // ties: the max at several positions (spread over threads); lowest index must win
        auto r = row();
        for (auto& v : r) v = static_cast<float>(rng.below(4));
        for (int k = 0; k < 3; k++) r[rng.below(n)] = 7;
        rows.push_back(r);
    }
    {   // all equal: index 0
        rows.push_back(std::vector<float>(n, 2.5f));
    }
    {   // all -inf: index 0
        rows.push_back(std::vector<float>(n, -kInf));
    }
    {   // NaNs mixed in, max at the end
        auto r = row();
        for (auto& v : r) v = rng.below(3) == 0 ? kNaN : rng.uniform(-1, 1);
        r[n - 1] = 3;
        rows.push_back(r);
    }
    {   // all NaN: index 0
        rows.push_back(std::vector<float>(n, kNaN));
    }
    {   // NaN first, then -inf, then a single finite value
        auto r = std::vector<float>(n, -kInf);
        r[0] = kNaN;
        r[n / 2] = -1e30f;
        rows.push_back(r);
    }
    {   // +inf twice, +0/-0 elsewhere
        auto r = row();
        for (int i = 0; i < n; i++) r[i] = (i & 1) ? 0.0f : -0.0f;
        r[n - 1] = kInf;
        r[n / 3] = kInf;
        rows.push_back(r);
    }
    std::vector<float> x;
    for (auto& r : rows) x.insert(x.end(), r.begin(), r.end());
    std::vector<int> got(rows.size(), -7);
    if (launch(paddock_sim_launch_argmax_rows, dim3(static_cast<unsigned>(rows.size())), dim3(block),
               (const float*)x.data(), got.data(), n)) {
        return launch_failed("argmax_rows");
    }
    Compare cmp;
    for (std::size_t r = 0; r < rows.size(); r++) cmp.exact(r, got[r], argmax_ref(rows[r].data(), n));
    return cmp.outcome();
}

// alias 0: out is its own buffer; 1: out = delta (the runtime's use); 2: out = x. x must end as the fp32 sum
// exactly, and out bit for bit as add_inplace_f32 then rmsnorm_f32 make it (and within rmsnorm's bound of the
// double reference, through rmsnorm_run's formula).
Outcome add_rmsnorm_run(int rows, int n, unsigned block, int alias) {
    Rng rng(fmt("add-rms %d %d %u %d", rows, n, block, alias));
    std::size_t size = static_cast<std::size_t>(rows) * n;
    std::vector<float> x(size), d(size), w(n), out(size, kNaN);
    for (auto& v : x) v = rng.uniform(-2, 2);
    for (auto& v : d) v = rng.uniform(-1, 1);
    for (auto& v : w) v = rng.uniform(0.5f, 1.5f);
    const float eps = 1e-5f;
    // The unfused pair on copies.
    std::vector<float> xs = x, ref(size, kNaN);
    if (launch(paddock_sim_launch_add_inplace_f32, dim3(ceil_div(static_cast<long long>(size), 256)), dim3(256),
               xs.data(), (const float*)d.data(), static_cast<long long>(size))) {
        return launch_failed("add_inplace_f32");
    }
    if (launch(paddock_sim_launch_rmsnorm_f32, dim3(rows), dim3(block), ref.data(), (const float*)xs.data(),
               (const float*)w.data(), n, eps)) {
        return launch_failed("rmsnorm_f32");
    }
    std::vector<float> x0 = x, d0 = d;
    float* dst = alias == 1 ? d.data() : alias == 2 ? x.data() : out.data();
    if (launch(paddock_sim_launch_add_rmsnorm_f32, dim3(rows), dim3(block), x.data(), (const float*)d.data(), dst,
               (const float*)w.data(), n, eps)) {
        return launch_failed("add_rmsnorm_f32");
    }
    Compare cmp;
    const double k = ((n + block - 1) / block + 12) / 2.0 + 5;
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            std::size_t j = static_cast<std::size_t>(r) * n + i;
            ss += static_cast<double>(xs[j]) * xs[j];
        }
        double scale = 1 / std::sqrt(ss / n + static_cast<double>(eps));
        for (int i = 0; i < n; i++) {
            std::size_t j = static_cast<std::size_t>(r) * n + i;
            if (alias != 2) cmp.exact(j, x[j], static_cast<float>(static_cast<double>(x0[j]) + d0[j]));
            cmp.exact(size + j, dst[j], ref[j]);
            double want = xs[j] * scale * w[i];
            cmp.add(2 * size + j, dst[j], want, k * kU * std::fabs(want));
        }
    }
    return cmp.outcome();
}

}  // namespace

Outcome rmsnorm_run(int rows, int n, unsigned block, bool in_place) {
    Rng rng(fmt("rms %d %d %u %d", rows, n, block, in_place));
    std::vector<float> x(static_cast<std::size_t>(rows) * n), w(n), out(x.size(), kNaN);
    for (auto& v : x) v = rng.uniform(-2, 2);
    for (auto& v : w) v = rng.uniform(0.5f, 1.5f);
    const float eps = 1e-5f;
    std::vector<float> x0 = x;
    float* dst = in_place ? x.data() : out.data();
    if (launch(paddock_sim_launch_rmsnorm_f32, dim3(rows), dim3(block), dst, (const float*)x.data(),
               (const float*)w.data(), n, eps)) {
        return launch_failed("rmsnorm_f32");
    }
    // Sum of squares (no cancellation): ceil(n/block) fmaf per thread + 5 warp + 5 block additions; /n, +eps;
    // sqrtf halves the relative error and adds one rounding; 1/x, *scale, *weight one each.
    const double k = ((n + block - 1) / block + 12) / 2.0 + 5;
    Compare cmp;
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += static_cast<double>(x0[static_cast<std::size_t>(r) * n + i]) * x0[static_cast<std::size_t>(r) * n + i];
        double scale = 1 / std::sqrt(ss / n + static_cast<double>(eps));
        for (int i = 0; i < n; i++) {
            std::size_t j = static_cast<std::size_t>(r) * n + i;
            double want = x0[j] * scale * w[i];
            cmp.add(j, dst[j], want, k * kU * std::fabs(want));
        }
    }
    return cmp.outcome();
}

void layer_tests() {
    for (int dtype : {0, 1, 2}) {
        for (int batch = 1; batch <= 9; batch++) {
            if (g_small && batch != 1 && batch != 5 && batch != 9) continue;
            const char* name = dtype == 0 ? "fp32" : dtype == 1 ? "fp16" : "bf16";
            // neither a multiple of 32 nor of 8: the scalar path
            const int in = g_small ? 100 : 300, out = g_small ? 19 : 37;
            run_case(fmt("dense_matmul dtype=%s batch=%d", name, batch),
                     [dtype, batch, in, out] { return dense_run(dtype, batch, in, out); });
            if (dtype == 0) continue;
            // multiples of 8: 16-byte loads; 264 = 33 chunks (one lane's second load past the end), 520 = 65
            for (int vin : {264, 520}) {
                if (g_small && vin == 520) continue;
                run_case(fmt("dense_matmul dtype=%s batch=%d in=%d (16-byte loads)", name, batch, vin),
                         [dtype, batch, vin, out] { return dense_run(dtype, batch, vin, out); });
            }
        }
    }
    for (auto [rows, n, block, in_place] : {std::tuple{5, 1000, 256u, false}, std::tuple{3, 4096, 1024u, false},
                                            std::tuple{2, 33, 32u, false}, std::tuple{4, 777, 256u, true},
                                            std::tuple{3, 1, 64u, false}}) {
        if (g_small && block == 1024) {   // 1024 TSan fibers per worker would take ~15 s to create
            n = 2048;
            block = 256;
        }
        run_case(fmt("rmsnorm rows=%d n=%d block=%u%s", rows, n, block, in_place ? " in-place" : ""),
                 [=] { return rmsnorm_run(rows, n, block, in_place); });
    }
    for (auto [rows, n, block, alias] : {std::tuple{5, 1000, 256u, 0}, std::tuple{3, 4096, 256u, 1},
                                         std::tuple{2, 33, 32u, 2}, std::tuple{4, 777, 256u, 1},
                                         std::tuple{3, 1, 64u, 0}}) {
        run_case(fmt("add_rmsnorm rows=%d n=%d block=%u out=%s", rows, n, block,
                     alias == 0 ? "own" : alias == 1 ? "delta" : "x"),
                 [=] { return add_rmsnorm_run(rows, n, block, alias); });
    }
    for (bool tables : {true, false}) {
        for (auto [rows, heads, hd, pad, theta] : {std::tuple{5, 4, 64, 0, 10000.0}, std::tuple{3, 2, 80, 16, 500000.0},
                                                   std::tuple{2, 3, 256, 0, 10000.0}, std::tuple{4, 1, 8, 4, 10000.0}}) {
            run_case(fmt("rope %s rows=%d heads=%d hd=%d stride+%d theta=%g", tables ? "table" : "computed-angle", rows,
                         heads, hd, pad, theta),
                     [=] { return rope_run(tables, rows, heads, hd, pad, theta); });
        }
    }
    for (long long n : {1LL, 1003LL, 70000LL}) {
        if (g_small && n > 5000) continue;
        run_case(fmt("swiglu n=%lld", n), [n] { return swiglu_run(n); });
        run_case(fmt("add_inplace n=%lld", n), [n] { return add_run(n); });
    }
    for (int dtype : {0, 1, 2}) {
        run_case(fmt("embedding_rows dtype=%s", dtype == 0 ? "fp32" : dtype == 1 ? "fp16" : "bf16"),
                 [dtype] { return embedding_run(dtype); });
    }
    for (auto [n, block] : {std::pair{1000, 256u}, std::pair{5, 256u}, std::pair{1, 32u}, std::pair{50000, 1024u},
                            std::pair{4097, 64u}}) {
        if (g_small && block == 1024) {
            n = 5000;
            block = 256;
        }
        run_case(fmt("argmax_rows n=%d block=%u (ties, -inf, NaN rows)", n, block), [=] { return argmax_run(n, block); });
    }
}

}  // namespace kt
