// Kernel tests, part of kernel_tests.cpp's harness: the emulation's exact fp16 helpers and bit operations
// (cuda_sim.h: paddock_host_f2h_rn, paddock_host_hadd2/hsub2/hmul2/hfma2, paddock_host_lop3/prmt) and CUDA's
// vector types. The fp16 reference here is independent of the emulation's: every fp16 value is an integer
// multiple of 2^-24, so a*b + c is an exact 128-bit integer multiple of 2^-48, rounded to fp16 with integer
// arithmetic (round to nearest even, subnormals, overflow to inf).
#include "kernel_tests.h"

static_assert(sizeof(int2) == 8 && alignof(int2) == 8 && sizeof(uint2) == 8 && alignof(uint2) == 8);
static_assert(sizeof(float2) == 8 && alignof(float2) == 8);
static_assert(sizeof(int4) == 16 && alignof(int4) == 16 && sizeof(uint4) == 16 && alignof(uint4) == 16);
static_assert(sizeof(float4) == 16 && alignof(float4) == 16);

namespace kt {
namespace {

using i128 = __int128;

bool is_nan16(u16 h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }
bool is_inf16(u16 h) { return (h & 0x7fff) == 0x7c00; }
bool neg16(u16 h) { return (h & 0x8000) != 0; }

// A finite fp16 value as an integer number of 2^-24.
long long units24(u16 h) {
    int e = (h >> 10) & 31, m = h & 1023;
    long long v = e == 0 ? m : static_cast<long long>(1024 + m) << (e - 1);
    return neg16(h) ? -v : v;
}

// n * 2^-48 rounded to fp16 (n != 0), with integer arithmetic only.
u16 round48(i128 n) {
    u16 sign = n < 0 ? 0x8000 : 0;
    unsigned __int128 mag = n < 0 ? static_cast<unsigned __int128>(-n) : static_cast<unsigned __int128>(n);
    int msb = 127;
    while (!(mag >> msb & 1)) msb--;
    // ulp of fp16 in units of 2^-48: 2^24 below 2^-14 (value exponent msb - 48 < -14), else 2^(msb - 10)
    int sh = msb - 48 < -14 ? 24 : msb - 10;
    unsigned __int128 q = mag >> sh, rem = mag & ((static_cast<unsigned __int128>(1) << sh) - 1);
    unsigned __int128 half = static_cast<unsigned __int128>(1) << (sh - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    if (q < 1024) return sign | static_cast<u16>(q);   // subnormal (or zero)
    while (q >= 2048) {
        q >>= 1;
        sh++;
    }
    int field = sh - 48 + 10 + 15;
    if (field >= 31) return sign | 0x7c00;
    return sign | static_cast<u16>(field << 10 | static_cast<int>(q - 1024));
}

// Exact reference of one fp16 lane of fma.rn (IEEE 754: NaN in, inf*0, inf-inf give NaN; exact zero is +0 unless
// both the product and c are -0).
u16 ref_fma(u16 a, u16 b, u16 c) {
    if (is_nan16(a) || is_nan16(b) || is_nan16(c)) return 0x7fff;
    bool pinf = is_inf16(a) || is_inf16(b);
    bool pneg = neg16(a) != neg16(b);
    if (pinf) {
        if ((a & 0x7fff) == 0 || (b & 0x7fff) == 0) return 0x7fff;
        if (is_inf16(c) && neg16(c) != pneg) return 0x7fff;
        return pneg ? 0xfc00 : 0x7c00;
    }
    if (is_inf16(c)) return c;
    i128 n = static_cast<i128>(units24(a)) * units24(b) + (static_cast<i128>(units24(c)) << 24);
    if (n == 0) {
        bool pzero = (a & 0x7fff) == 0 || (b & 0x7fff) == 0;
        return pzero && (c & 0x7fff) == 0 && pneg && neg16(c) ? 0x8000 : 0x0000;
    }
    return round48(n);
}

// fp32 -> fp16 reference: below 2^-25 (half the smallest subnormal, a tie that goes to the even 0) a float rounds
// to a signed zero, at or above 65536 to inf; in between its ulp is at least 2^-48, so it is an exact integer n
// of 2^-48 (n < 2^64), rounded by round48.
u16 ref_f2h(float f) {
    if (std::isnan(f)) return 0x7fff;
    const u16 sign = std::signbit(f) ? 0x8000 : 0;
    float a = std::fabs(f);
    if (a >= 65536.f) return sign | 0x7c00;
    if (a < 0x1p-25f) return sign;
    std::uint32_t u;
    std::memcpy(&u, &a, 4);
    int e = static_cast<int>(u >> 23);   // normal here (a >= 2^-25)
    i128 n = static_cast<i128>((u & 0x7fffff) | 0x800000) << (e - 150 + 48);
    return round48(sign ? -n : n);
}


std::vector<u16> edge_halves() {
    std::vector<u16> v = {0x0000, 0x0001, 0x0002, 0x0003, 0x01ff, 0x0200, 0x03ff, 0x0400, 0x0401, 0x07ff, 0x0800,
                          0x1000, 0x2e66, 0x3555, 0x3bff, 0x3c00, 0x3c01, 0x3c02, 0x3e00, 0x4000, 0x4001, 0x5bff,
                          0x6400, 0x640f, 0x6410, 0x7800, 0x7bfe, 0x7bff, 0x7c00, 0x7e00, 0x7c01, 0x7fff};
    std::size_t n = v.size();
    for (std::size_t i = 0; i < n; i++) v.push_back(v[i] | 0x8000);
    return v;
}

Outcome f2h_cases() {
    Compare cmp;
    std::size_t i = 0;
    auto check = [&](float f) {
        u16 got = paddock_host_f2h_rn(f);
        _Float16 h = static_cast<_Float16>(f);   // the compiler's own conversion (libgcc, round to nearest even)
        u16 lib;
        std::memcpy(&lib, &h, 2);
        u16 want = ref_f2h(f);
        if (std::isnan(f)) {
            cmp.exact(i++, got, 0x7fff);   // canonical NaN, as cvt.rn.f16.f32 gives
        } else {
            cmp.exact(i++, got, want);
            cmp.exact(i++, got, lib);
        }
    };
    // every fp16 value, the midpoints to its neighbours and one float ulp either side of them
    for (unsigned h = 0; h < 0x7c00; h++) {
        for (unsigned s : {0u, 0x8000u}) {
            double v = half_value(static_cast<u16>(h | s));
            double nxt = h + 1 < 0x7c00 ? half_value(static_cast<u16>((h + 1) | s)) : (s ? -65536.0 : 65536.0);
            float mid = static_cast<float>((v + nxt) / 2);   // exact: 12 significant bits
            check(static_cast<float>(v));
            check(mid);
            check(std::nextafter(mid, 0.f));
            check(std::nextafter(mid, s ? -kInf : kInf));
        }
    }
    for (float f : {0.f, -0.f, kInf, -kInf, kNaN, -kNaN, 65504.f, 65519.99f, 65520.f, -65520.f, 1e30f, -1e-30f,
                    5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, -2.9802322e-8f, 1e-45f, 6.1035156e-5f}) {
        check(f);
    }
    Rng rng("f2h random");
    for (int k = 0; k < 300000; k++) {
        std::uint32_t u = static_cast<std::uint32_t>(rng.g());
        if (k % 2) u = (u & 0x807fffffu) | static_cast<std::uint32_t>(rng.below(40) + 100) << 23;   // near fp16's range
        float f;
        std::memcpy(&f, &u, 4);
        check(f);
    }
    return cmp.outcome();
}

// Each half2 op on both lanes against the exact reference; NaN results must be the canonical NaN.
Outcome op_cases() {
    std::vector<u16> e = edge_halves();
    Rng rng("fp16 ops");
    std::size_t n = 0, bad = 0;
    std::string first;
    auto check = [&](const char* op, u16 a0, u16 a1, u16 b0, u16 b1, u16 c0, u16 c1) {
        unsigned a = a0 | static_cast<unsigned>(a1) << 16, b = b0 | static_cast<unsigned>(b1) << 16;
        unsigned c = c0 | static_cast<unsigned>(c1) << 16;
        unsigned got, want;
        if (op[0] == 'a') {
            got = paddock_host_hadd2(a, b);
            want = ref_fma(a0, 0x3c00, b0) | static_cast<unsigned>(ref_fma(a1, 0x3c00, b1)) << 16;
        } else if (op[0] == 's') {
            got = paddock_host_hsub2(a, b);
            want = ref_fma(a0, 0x3c00, b0 ^ 0x8000) | static_cast<unsigned>(ref_fma(a1, 0x3c00, b1 ^ 0x8000)) << 16;
        } else if (op[0] == 'm') {
            got = paddock_host_hmul2(a, b);
            want = ref_fma(a0, b0, 0x8000) | static_cast<unsigned>(ref_fma(a1, b1, 0x8000)) << 16;
        } else {
            got = paddock_host_hfma2(a, b, c);
            want = ref_fma(a0, b0, c0) | static_cast<unsigned>(ref_fma(a1, b1, c1)) << 16;
        }
        n++;
        if (got != want) {
            if (bad++ == 0) {
                first = fmt("%s(0x%08x, 0x%08x, 0x%08x) = 0x%08x, want 0x%08x", op, a, b, c, got, want);
            }
        }
    };
    for (u16 a : e) {
        for (u16 b : e) {
            u16 r = static_cast<u16>(rng.g());
            check("add", a, r, b, e[rng.below((int)e.size())], 0, 0);
            check("sub", a, r, b, e[rng.below((int)e.size())], 0, 0);
            check("mul", a, r, b, e[rng.below((int)e.size())], 0, 0);
            for (u16 c : e) check("fma", a, r, b, static_cast<u16>(rng.g()), c, e[rng.below((int)e.size())]);
        }
    }
    const int samples = g_small ? 50000 : 400000;
    for (int k = 0; k < samples; k++) {
        u16 v[6];
        for (u16& x : v) x = static_cast<u16>(rng.g());
        if (k % 3 == 0) {   // nearby exponents: many cancellations and ties
            for (u16& x : v) x = static_cast<u16>((x & 0x83ff) | (0x3800 + (rng.below(4) << 10)));
        }
        check("add", v[0], v[1], v[2], v[3], 0, 0);
        check("sub", v[0], v[1], v[2], v[3], 0, 0);
        check("mul", v[0], v[1], v[2], v[3], 0, 0);
        check("fma", v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    // hfma2 rounds once: (1+2^-10)^2 - (1+2^-9) = 2^-20 exactly, but hmul2 first rounds the product to 1+2^-9.
    unsigned a = 0x3c013c01u, c = 0xbc02bc02u;
    unsigned fused = paddock_host_hfma2(a, a, c), split = paddock_host_hadd2(paddock_host_hmul2(a, a), c);
    if (fused != 0x00100010u || split != 0u) {
        return {false, fmt("single rounding: hfma2 = 0x%08x (want 0x00100010 = 2^-20), mul then add = 0x%08x (want 0)",
                            fused, split)};
    }
    if (bad) return {false, fmt("%zu of %zu wrong; first: %s", bad, n, first.c_str())};
    return {true, fmt("n=%zu, fused 2^-20 vs mul-then-add 0", n)};
}

Outcome bit_op_cases() {
    Rng rng("lop3 prmt");
    std::size_t n = 0;
    for (unsigned lut = 0; lut < 256; lut++) {
        if ((paddock_host_lop3(0xf0u, 0xccu, 0xaau, lut) & 0xffu) != lut) return {false, fmt("lop3(0xf0, 0xcc, 0xaa, 0x%02x)", lut)};
        for (int k = 0; k < 64; k++) {
            unsigned a = static_cast<unsigned>(rng.g()), b = static_cast<unsigned>(rng.g()), c = static_cast<unsigned>(rng.g());
            unsigned want = 0;
            for (int i = 0; i < 32; i++) {
                unsigned idx = (a >> i & 1) << 2 | (b >> i & 1) << 1 | (c >> i & 1);
                want |= (lut >> idx & 1) << i;
            }
            n++;
            if (paddock_host_lop3(a, b, c, lut) != want) return {false, fmt("lop3(0x%08x, 0x%08x, 0x%08x, 0x%02x)", a, b, c, lut)};
        }
    }
    if (paddock_host_lop3(0x12345678u, 0x000f000fu, 0x64006400u, 0xea) != ((0x12345678u & 0x000f000fu) | 0x64006400u)) {
        return {false, "lop3 0xea is not (a & b) | c"};
    }
    const unsigned a = 0x33221100u, b = 0x77665544u;
    struct P { unsigned sel, want; };
    for (P p : {P{0x3210, a}, P{0x7654, b}, P{0x0123, 0x00112233u}, P{0x5140, 0x55114400u}, P{0x0000, 0x00000000u}}) {
        if (paddock_host_prmt(a, b, p.sel) != p.want) {
            return {false, fmt("prmt(0x%08x, 0x%08x, 0x%04x) = 0x%08x, want 0x%08x", a, b, p.sel,
                               paddock_host_prmt(a, b, p.sel), p.want)};
        }
    }
    // sign replication: selector 9 takes byte 1 (0x80) -> 0xff, selector 8 byte 0 (0x7f) -> 0x00
    if (paddock_host_prmt(0x0000807fu, 0, 0x8899) != 0x0000ffffu) return {false, "prmt sign replication"};
    for (int k = 0; k < 100000; k++) {
        unsigned x = static_cast<unsigned>(rng.g()), y = static_cast<unsigned>(rng.g()), sel = static_cast<unsigned>(rng.g());
        unsigned char bytes[8];
        for (int i = 0; i < 4; i++) {
            bytes[i] = static_cast<unsigned char>(x >> (8 * i));
            bytes[4 + i] = static_cast<unsigned char>(y >> (8 * i));
        }
        unsigned want = 0;
        for (int i = 0; i < 4; i++) {
            unsigned s = sel >> (4 * i) & 15;
            unsigned char v = bytes[s & 7];
            if (s & 8) v = (v & 0x80) ? 0xff : 0x00;
            want |= static_cast<unsigned>(v) << (8 * i);
        }
        n++;
        if (paddock_host_prmt(x, y, sel) != want) return {false, fmt("prmt(0x%08x, 0x%08x, 0x%08x)", x, y, sel)};
    }
    return {true, fmt("n=%zu", n)};
}

Outcome vector_type_cases() {
    // member names and layout as CUDA's vector_types.h: a uint4 is four consecutive words x, y, z, w
    unsigned words[4] = {1, 2, 3, 4};
    uint4 u;
    std::memcpy(&u, words, 16);
    uint4 m = make_uint4(1, 2, 3, 4);
    int4 i4 = make_int4(-1, 2, -3, 4);
    float4 f4 = make_float4(0.5f, 1.5f, 2.5f, 3.5f);
    uint2 u2 = make_uint2(7, 8);
    int2 i2 = make_int2(-7, 8);
    float2 f2 = make_float2(0.25f, -0.25f);
    bool ok = u.x == m.x && u.y == m.y && u.z == m.z && u.w == m.w && i4.x + i4.z == -4 && f4.w == 3.5f
            && u2.y == 8 && i2.x == -7 && f2.y == -0.25f && offsetof(uint4, w) == 12 && offsetof(float2, y) == 4;
    return {ok, ok ? "sizes 8/16, alignment 8/16, x..w in order" : "layout mismatch"};
}

}  // namespace

void fp16_tests() {
    run_case("sim fp16: cvt.rn.f16.f32 (paddock_host_f2h_rn) vs _Float16 and an integer reference", f2h_cases);
    run_case("sim fp16: hadd2/hsub2/hmul2/hfma2 vs an exact integer reference, hfma2 rounds once", op_cases);
    run_case("sim: lop3.b32 truth tables, prmt.b32 byte selection and sign replication", bit_op_cases);
    run_case("sim: CUDA vector types int2/int4/uint2/uint4/float2/float4", vector_type_cases);
}

}  // namespace kt
