// Shared helpers of the kernel test harness (kernel_tests*.cpp): case reporting, comparisons with stated
// tolerances, seeded data, fp16/bf16 encoders and independent decoders.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cuda_sim.h"

namespace kt {

using paddock_sim::launch;
using u16 = unsigned short;

constexpr double kU = 1.0 / (1 << 24);   // unit roundoff of fp32
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();
inline const float kInf = std::numeric_limits<float>::infinity();

extern bool g_small;   // --small: sizes for ThreadSanitizer
extern int g_workers;  // --workers

struct Outcome {
    bool ok = true;
    std::string detail;
};

// Runs one case unless --filter excludes it; prints "ok"/"FAIL", its name, details and time.
void run_case(const std::string& name, const std::function<Outcome()>& body);

inline Outcome launch_failed(const char* what) {
    return {false, std::string(what) + " launch failed: " + paddock_sim_last_error()};
}

// Collects |got - want| <= tol over a result; NaN in got fails unless want is NaN too (then it must be NaN).
struct Compare {
    std::size_t n = 0, bad = 0, first = 0;
    double worst = 0, first_got = 0, first_want = 0, first_tol = 0;
    void add(std::size_t i, double got, double want, double tol) {
        n++;
        bool ok = std::isnan(want) ? std::isnan(got) : std::fabs(got - want) <= tol;
        if (!std::isnan(want) && tol > 0 && !std::isnan(got)) worst = std::max(worst, std::fabs(got - want) / tol);
        if (!ok) {
            if (bad == 0) {
                first = i;
                first_got = got;
                first_want = want;
                first_tol = tol;
            }
            bad++;
        }
    }
    void exact(std::size_t i, double got, double want) {
        n++;
        bool same = (std::isnan(got) && std::isnan(want)) || (got == want && std::signbit(got) == std::signbit(want));
        if (!same) {
            if (bad == 0) {
                first = i;
                first_got = got;
                first_want = want;
                first_tol = 0;
            }
            bad++;
        }
    }
    Outcome outcome() const {
        char b[256];
        if (bad == 0) {
            std::snprintf(b, sizeof b, "n=%zu worst=%.3g of tol", n, worst);
            return {true, b};
        }
        std::snprintf(b, sizeof b, "%zu of %zu wrong; first [%zu]: got %.9g want %.9g tol %.3g", bad, n, first,
                      first_got, first_want, first_tol);
        return {false, b};
    }
};

// ---- data -----------------------------------------------------------------------------------------------------
struct Rng {
    std::mt19937_64 g;
    explicit Rng(const std::string& seed) : g(std::hash<std::string>{}(seed)) {}
    float uniform(float a, float b) { return std::uniform_real_distribution<float>(a, b)(g); }
    int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(g); }
    template <class T>
    void shuffle(std::vector<T>& v) { std::shuffle(v.begin(), v.end(), g); }
};

inline u16 to_half(float f) {
    _Float16 h = static_cast<_Float16>(f);
    u16 u;
    std::memcpy(&u, &h, 2);
    return u;
}
inline u16 to_bf16(float f) {   // round to nearest even (finite inputs)
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    return static_cast<u16>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
// Independent decoders (IEEE formulas, not the emulation's _Float16 path).
inline double half_value(u16 h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}
inline double bf16_value(u16 b) {
    int e = (b >> 7) & 255, m = b & 127;
    double v = e == 0 ? std::ldexp(m, -133) : e == 255 ? (m ? NAN : INFINITY) : std::ldexp(128 + m, e - 134);
    return (b & 0x8000) ? -v : v;
}

inline std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
inline std::string fmt(const char* f, ...) {
    char b[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(b, sizeof b, f, ap);
    va_end(ap);
    return b;
}

inline unsigned ceil_div(long long a, long long b) { return static_cast<unsigned>((a + b - 1) / b); }


// The suites, one translation unit each (so they compile in parallel and rebuild alone).
void gptq_tests();
void gemv_tests();
void layer_tests();
void attention_tests();
void fp16_tests();
void mma_tests();
void gptq_mma_tests();
Outcome rmsnorm_run(int rows, int n, unsigned block, bool in_place);   // also used by the emulator's cases

}  // namespace kt
