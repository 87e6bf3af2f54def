// Host emulation of the CUDA C subset used by paddock's kernels (src/main/resources/cuda/*.cu), so g++ compiles
// those exact files for the CPU and tests can run them. Include this header before a .cu file; the runtime is
// sim_core.cpp (libpaddock_cudasim.so, or compiled into a test program).
//
// Design
// - A launch (PADDOCK_SIM_EXPORT's paddock_sim_launch_NAME, or paddock_sim::launch from C++) checks the packed
//   arguments against the kernel's C++ parameter list, validates the dimensions as the driver does, and hands the
//   grid to a persistent pool of worker threads (paddock_sim_set_workers; one launch at a time, like one stream).
//   Workers take blocks dynamically; a worker runs all threads of a block as fibers on its own OS thread with a
//   hand-written x86-64 context switch (measured: ~40 ns per thread per __syncthreads, ~60 ns per lane per
//   shuffle, switches and bookkeeping included); ucontext elsewhere or with -DPADDOCK_SIM_UCONTEXT=1 (~2.5 us, a
//   signal-mask syscall per switch). Fibers and their stacks (mmap'ed, 256 KiB with a guard page) are made once
//   per worker and reused.
// - A fiber runs until it exits or waits (__syncthreads, a warp collective); the worker then resumes the next
//   runnable fiber of the block, round robin. Threads of a block therefore interleave only at those points: the
//   emulation shows what a kernel computes under the CUDA rules, not how a GPU schedules it.
// - __shared__ is a static thread_local: one copy per worker, i.e. per block in flight, shared by that block's
//   fibers. Under AddressSanitizer it is a plain static instead (ASan then puts redzones around shared arrays and
//   reports out-of-bounds shared reads) and the launch runs its blocks one at a time on one worker.
// - threadIdx reads the running fiber's index; blockIdx/blockDim/gridDim the worker's block. All are read-only.
// - __syncthreads() records its call site. The barrier opens when every thread of the block waits at it. Reported
//   as launch errors (the launch returns nonzero and paddock_sim_last_error says which block, thread and source
//   line): threads at different __syncthreads sites, a thread that exits while (or before) the others meet at a
//   barrier, and deadlock (every live thread waiting, e.g. half a warp at a shuffle and the rest at a barrier).
// - Warp collectives (__shfl*_sync for int/unsigned/long/long long/float/double with CUDA's width rules,
//   __syncwarp, __ballot_sync, __any_sync, __all_sync) are a rendezvous of the lanes named in the mask; collectives
//   with disjoint masks may be pending at once. The last lane to arrive computes every lane's result into that
//   lane's own slot, so a lane racing ahead to its next collective cannot overwrite a value another lane has not
//   read yet. Errors: a mask that names a missing or exited lane or omits the calling lane, lanes of one mask at
//   different intrinsics, a lane exiting while others wait for it, a shuffle reading a lane outside the mask, a
//   width that is not a power of two <= 32. Lanes may meet at different call sites of the same intrinsic.
// - Tensor cores and async copies (sim_core.cpp): mma.sync m16n8k16 (f32 += f16 x f16) and ldmatrix m8n8 are
//   collectives of all 32 lanes of a warp (same errors as a full-mask shuffle), with the PTX ISA's fragment
//   layouts; the mma sums the exact products and c in double and rounds once to fp32 (a GPU's tensor cores round
//   differently in the last bits). cp.async copies are queued per thread and performed by that thread when a
//   wait_group/wait_all completes their group (or when it exits), so a missing wait reads stale shared memory.
// - A failing launch unwinds every fiber of the failed block out of the kernel with a C++ exception (FiberAbort in
//   sim_core.cpp), so nothing leaks and the fibers stay reusable; other blocks already running finish.
// - Atomics go through std::atomic_ref with relaxed order (CUDA atomics are relaxed): blocks run in parallel.
// - ThreadSanitizer: every fiber is a TSan fiber, switched with __tsan_switch_to_fiber_no_sync, so threads of a
//   block are unordered unless the kernel orders them. __syncthreads is a release on arrival and an acquire on
//   departure on one of two addresses chosen by the barrier's phase parity (a thread already past the next barrier
//   must not pass its later writes to a thread still leaving this one); __syncwarp hands the union of its lanes'
//   histories to each lane. Shuffle slots are relaxed atomics: they neither race nor order memory, as on the GPU.
//   A block's start is ordered after the worker's setup, and the worker's next block after every thread of this
//   one. Each TSan fiber is a TSan thread (~7 ms to create, ~1 us per switch): keep TSan runs to small blocks.
// - AddressSanitizer: switches are announced with __sanitizer_start/finish_switch_fiber.
// - Only what the kernels use and its obvious siblings is defined; anything else (__constant__, extern __shared__,
//   __threadfence_block, the __fast intrinsics, half types, ...) fails to compile rather than mean something else.
// - __threadfence is a read-modify-write (acq_rel) of one process-wide atomic word: TSan does not model standalone
//   fences, but it does order two threads through an atomic location, so the split-K pattern "write partials,
//   fence, count with an atomic; the block that counts last fences, then reads every partial" is race-free here
//   exactly when it is on the GPU.
//
// Limits (what this cannot show): ptxas/JIT resource limits (registers, spills, 48 KiB of static shared memory:
// compile with nvcc -cubin -Xptxas -v), the PTX/driver path, FMA contraction and the GPU's rounding of expf, sqrtf
// etc. (g++ computes with the host's libm, without FMA at the default -march), the GPU's weak memory model beyond
// TSan's happens-before (and TSan's own limits), intra-warp scheduling (lanes run one after another between
// collectives, so a kernel that spins on another thread's flag without a barrier hangs here), races between two
// blocks that run on the same worker (ordered here: TSan sees inter-block races only between blocks that happen to
// run on different workers), reads of uninitialised shared memory (it keeps the previous block's values; an
// initializer on a __shared__ variable, illegal in CUDA, compiles here), shared-memory bounds outside ASan builds,
// and speed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#if defined(__SANITIZE_ADDRESS__) && !defined(PADDOCK_SIM_SHARED_STATIC)
#define PADDOCK_SIM_SHARED_STATIC 1
#endif
#ifndef PADDOCK_SIM_SHARED_STATIC
#define PADDOCK_SIM_SHARED_STATIC 0
#endif

#define PADDOCK_SIM_API __attribute__((visibility("default")))

// ---- CUDA vocabulary -----------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#if PADDOCK_SIM_SHARED_STATIC
#define __shared__ static
#else
#define __shared__ static thread_local
#endif

struct uint3 {
    unsigned x, y, z;
};

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

constexpr int warpSize = 32;

namespace paddock_sim {

// What kernel code reads of the running CUDA thread and its block; the core extends these.
struct ThreadView {
    uint3 thread_idx{};
};
struct BlockView {
    uint3 block_idx{};
    dim3 block_dim;
    dim3 grid_dim;
};

// Set by the worker before it resumes a fiber / starts a block. __thread: no TLS wrapper call per access.
PADDOCK_SIM_API extern __thread const ThreadView* tl_thread;
PADDOCK_SIM_API extern __thread BlockView tl_block;

// Relaxed atomic: the worker writes tl_thread before resuming a fiber, which TSan must not see as a race.
inline const uint3& thread_idx() { return __atomic_load_n(&tl_thread, __ATOMIC_RELAXED)->thread_idx; }
inline const uint3& block_idx() { return tl_block.block_idx; }
inline const dim3& block_dim() { return tl_block.block_dim; }
inline const dim3& grid_dim() { return tl_block.grid_dim; }

// Warp collectives, implemented by the core.
enum class WarpOp : int { shfl_idx, shfl_up, shfl_down, shfl_xor, syncwarp, ballot, mma, ldmatrix };

PADDOCK_SIM_API void syncthreads(const char* file, int line);
// One lane's part of a collective: contributes `value`, receives lane `src`'s value (src < 0: its own), or for
// ballot the mask of lanes whose value is nonzero.
PADDOCK_SIM_API std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int src, int width,
        const char* file, int line);
PADDOCK_SIM_API unsigned lane_id();

// Tensor-core and async-copy instructions (the host side of the .cu files' inline PTX; semantics in sim_core.cpp).
// mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32: a collective of all 32 lanes of the warp. a[4], b[2]: the
// lane's .f16x2 fragment registers, c[4]/d[4] its fp32 accumulators (d may alias c), in the PTX ISA's layouts.
PADDOCK_SIM_API void mma_m16n8k16_f32_f16(float* d, const unsigned* a, const unsigned* b, const float* c,
        const char* file, int line);
// ldmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16: a collective of all 32 lanes; lanes 0..8*count-1 give
// the 16-byte-aligned address of one 8-element row each; r[count] receives the lane's fragment registers.
PADDOCK_SIM_API void ldmatrix_m8n8(unsigned* r, int count, bool trans, const void* row, const char* file, int line);
// cp.async.{ca,cg}.shared.global [dst], [src], bytes[, srcBytes]: queued for the calling thread, performed when a
// wait completes its group (bytes - srcBytes trailing bytes zero-filled).
PADDOCK_SIM_API void cp_async(void* dst, const void* src, int bytes, int src_bytes, bool cg, const char* file, int line);
PADDOCK_SIM_API void cp_async_commit_group();
PADDOCK_SIM_API void cp_async_wait_group(int n, const char* file, int line);
PADDOCK_SIM_API void cp_async_wait_all();

// Source lane of a shuffle under CUDA's width rules, or -1 for "the caller's own value".
inline int shfl_source(WarpOp op, int lane, int arg, int width) {
    int w = width;
    int base = lane & ~(w - 1);   // first lane of the caller's segment (width checked by the core)
    switch (op) {
        case WarpOp::shfl_idx: return base + (arg & (w - 1));
        case WarpOp::shfl_up: return (lane - base) >= arg ? lane - arg : -1;
        case WarpOp::shfl_down: return (lane - base) + arg < w ? lane + arg : -1;
        case WarpOp::shfl_xor: {
            int s = lane ^ arg;
            return s < base + w ? s : -1;   // an earlier segment may be read, a later one gives the own value
        }
        default: return -1;
    }
}

template <class T>
inline constexpr bool shuffle_type = std::is_same_v<T, int> || std::is_same_v<T, unsigned> ||
        std::is_same_v<T, long> || std::is_same_v<T, unsigned long> || std::is_same_v<T, long long> ||
        std::is_same_v<T, unsigned long long> || std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
inline T shuffle(WarpOp op, unsigned mask, T var, int arg, int width, const char* file, int line) {
    static_assert(shuffle_type<T>, "CUDA shuffles take int/unsigned/long/long long (and unsigned)/float/double");
    std::uint64_t bits = 0;
    std::memcpy(&bits, &var, sizeof(T));
    int src = (width > 0 && width <= 32 && (width & (width - 1)) == 0)
            ? shfl_source(op, (int)lane_id(), arg, width) : -1;
    std::uint64_t r = warp_collective(op, mask, bits, src, width, file, line);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
}

}  // namespace paddock_sim

#define threadIdx (::paddock_sim::thread_idx())
#define blockIdx (::paddock_sim::block_idx())
#define blockDim (::paddock_sim::block_dim())
#define gridDim (::paddock_sim::grid_dim())

#define __syncthreads() ::paddock_sim::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) ((void)::paddock_sim::warp_collective(::paddock_sim::WarpOp::syncwarp, \
        ::paddock_sim::syncwarp_mask(__VA_ARGS__), 0, -1, 32, __FILE__, __LINE__))
#define __shfl_sync(mask, var, src, ...) ::paddock_sim::shuffle(::paddock_sim::WarpOp::shfl_idx, mask, var, src, \
        ::paddock_sim::shfl_width(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_up_sync(mask, var, delta, ...) ::paddock_sim::shuffle(::paddock_sim::WarpOp::shfl_up, mask, var, \
        (int)(delta), ::paddock_sim::shfl_width(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_down_sync(mask, var, delta, ...) ::paddock_sim::shuffle(::paddock_sim::WarpOp::shfl_down, mask, \
        var, (int)(delta), ::paddock_sim::shfl_width(__VA_ARGS__), __FILE__, __LINE__)
#define __shfl_xor_sync(mask, var, laneMask, ...) ::paddock_sim::shuffle(::paddock_sim::WarpOp::shfl_xor, mask, \
        var, laneMask, ::paddock_sim::shfl_width(__VA_ARGS__), __FILE__, __LINE__)
#define __ballot_sync(mask, pred) ((unsigned)::paddock_sim::warp_collective(::paddock_sim::WarpOp::ballot, mask, \
        (pred) ? 1u : 0u, -1, 32, __FILE__, __LINE__))
#define __any_sync(mask, pred) (__ballot_sync(mask, pred) != 0u ? 1 : 0)
#define __all_sync(mask, pred) ::paddock_sim::all_of(mask, __ballot_sync(mask, pred))

namespace paddock_sim {
constexpr int shfl_width() { return 32; }
constexpr int shfl_width(int w) { return w; }
constexpr unsigned syncwarp_mask() { return 0xffffffffu; }
constexpr unsigned syncwarp_mask(unsigned m) { return m; }
constexpr int all_of(unsigned mask, unsigned ballot) { return (ballot & mask) == mask ? 1 : 0; }
}  // namespace paddock_sim

// ---- device functions -----------------------------------------------------------------------------------------
template <class T>
inline T __ldg(const T* p) { return *p; }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }

// CUDA's integer min/max overloads; mixed signedness is deliberately ambiguous (a compile error here).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// Exact fp16 -> fp32, as PTX cvt.f32.f16 (the .cu files' host branch calls it).
inline float paddock_host_h2f(unsigned short h) {
    _Float16 x;
    std::memcpy(&x, &h, 2);
    return (float)x;
}

// CUDA's vector types for 8- and 16-byte accesses (member names and alignment as in vector_types.h).
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
inline int2 make_int2(int x, int y) { return int2{x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

// ---- exact fp16 arithmetic (host side of the .cu files' inline PTX) ---------------------------------------------
// Every result is the exactly computed value rounded once to fp16 (round to nearest even, subnormals kept, overflow
// to inf), as PTX cvt.rn.f16.f32 and add/sub/mul/fma.rn.f16x2 define it. A NaN result is the canonical NaN 0x7fff.
namespace paddock_sim {
// Rounds s + e to fp16, where s + e is the exact value (s = its double rounding, e the remaining error, |e| at most
// half an ulp of s) and s is finite. The ulp of fp16 at |s| is q; halfway cases use the sign of e, then evenness.
inline unsigned short round_to_half(double s, double e) {
    unsigned short sign = std::signbit(s) ? 0x8000 : 0;
    double a = std::fabs(s);
    if (sign) e = -e;   // e relative to the direction of |s|
    if (a == 0) return sign;
    int ex = 0;
    (void)std::frexp(a, &ex);                  // a = m * 2^ex, m in [0.5, 1)
    int qe = ex - 1 < -14 ? -24 : ex - 1 - 10;  // exponent of fp16's ulp at a (subnormal spacing below 2^-14)
    double t = std::ldexp(a, -qe);             // exact: a scaled to units of the ulp
    double fl = std::floor(t), frac = t - fl;  // exact (t < 2^54)
    bool up = frac > 0.5 || (frac == 0.5 && (e > 0 || (e == 0 && std::fmod(fl, 2.0) != 0)));
    double r = std::ldexp(fl + (up ? 1 : 0), qe);
    if (r >= 65536.0) return sign | 0x7c00;    // beyond the largest finite fp16 after rounding: inf
    if (r < std::ldexp(1.0, -14)) return sign | static_cast<unsigned short>(std::ldexp(r, 24));   // subnormal or 0
    int re = 0;
    double m = std::frexp(r, &re);             // r = m * 2^re, normal: 2^-14 <= r < 65536
    unsigned mant = static_cast<unsigned>(std::ldexp(m, 11)) - 1024u;
    return sign | static_cast<unsigned short>((re - 1 + 15) << 10 | mant);
}
inline double half_to_double(unsigned short h) {
    _Float16 x;
    std::memcpy(&x, &h, 2);
    return static_cast<double>(x);
}
// One fp16 lane of fma.rn: a*b exact in double (11-bit significands), a*b + c by TwoSum (exact as s + e).
inline unsigned short fma_half(unsigned short ha, unsigned short hb, unsigned short hc) {
    double a = half_to_double(ha), b = half_to_double(hb), c = half_to_double(hc);
    double p = a * b;
    double s = p + c;
    if (std::isnan(s)) return 0x7fff;
    if (std::isinf(s)) return std::signbit(s) ? 0xfc00 : 0x7c00;
    double bb = s - p;
    double e = (p - (s - bb)) + (c - bb);
    return round_to_half(s, e);
}
inline unsigned pack_half2(unsigned short lo, unsigned short hi) { return static_cast<unsigned>(lo) | static_cast<unsigned>(hi) << 16; }
}  // namespace paddock_sim

// cvt.rn.f16.f32: exact fp32 value rounded once (a float is exact in double).
inline unsigned short paddock_host_f2h_rn(float f) {
    if (std::isnan(f)) return 0x7fff;
    if (std::isinf(f)) return std::signbit(f) ? 0xfc00 : 0x7c00;
    return ::paddock_sim::round_to_half(static_cast<double>(f), 0.0);
}
// half2 in a 32-bit word, low 16 bits = .x (PTX .f16x2). 1.0 is 0x3c00, -0.0 0x8000.
inline unsigned paddock_host_hfma2(unsigned a, unsigned b, unsigned c) {
    using namespace ::paddock_sim;
    return pack_half2(fma_half(a & 0xffff, b & 0xffff, c & 0xffff), fma_half(a >> 16, b >> 16, c >> 16));
}
inline unsigned paddock_host_hadd2(unsigned a, unsigned b) {   // a*1 + b: exact sum, one rounding; -0 + -0 = -0
    using namespace ::paddock_sim;
    return pack_half2(fma_half(a & 0xffff, 0x3c00, b & 0xffff), fma_half(a >> 16, 0x3c00, b >> 16));
}
inline unsigned paddock_host_hsub2(unsigned a, unsigned b) {
    return paddock_host_hadd2(a, b ^ 0x80008000u);
}
inline unsigned paddock_host_hmul2(unsigned a, unsigned b) {   // a*b + (-0): exact product, sign of 0 kept
    using namespace ::paddock_sim;
    return pack_half2(fma_half(a & 0xffff, b & 0xffff, 0x8000), fma_half(a >> 16, b >> 16, 0x8000));
}
// lop3.b32: bit i of the result is bit (a_i*4 + b_i*2 + c_i) of immLut (a = 0xf0, b = 0xcc, c = 0xaa convention).
inline unsigned paddock_host_lop3(unsigned a, unsigned b, unsigned c, unsigned immLut) {
    unsigned r = 0;
    for (int k = 0; k < 8; k++) {
        if (!(immLut >> k & 1)) continue;
        unsigned ma = (k & 4) ? a : ~a, mb = (k & 2) ? b : ~b, mc = (k & 1) ? c : ~c;
        r |= ma & mb & mc;
    }
    return r;
}
// prmt.b32 default mode: byte i of the result is byte (sel nibble i & 7) of {b, a} (a = bytes 0..3), and with the
// nibble's bit 3 set the sign bit of that byte replicated to all 8 bits.
inline unsigned paddock_host_prmt(unsigned a, unsigned b, unsigned sel) {
    unsigned long long src = static_cast<unsigned long long>(b) << 32 | a;
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        unsigned nib = sel >> (4 * i) & 15;
        unsigned byte = static_cast<unsigned>(src >> (8 * (nib & 7))) & 0xff;
        if (nib & 8) byte = (byte & 0x80) ? 0xff : 0;
        r |= byte << (8 * i);
    }
    return r;
}

// Atomics: relaxed read-modify-writes that return the old value, as CUDA's.
namespace paddock_sim {
template <class T>
inline std::atomic_ref<T> atom(T* p) { return std::atomic_ref<T>(*p); }
constexpr auto relaxed = std::memory_order_relaxed;
template <class T>
inline T atomic_update(T* p, T (*f)(T, T), T v) {
    auto a = atom(p);
    T old = a.load(relaxed);
    while (!a.compare_exchange_weak(old, f(old, v), relaxed, relaxed)) {}
    return old;
}
}  // namespace paddock_sim

inline int atomicAdd(int* p, int v) { return ::paddock_sim::atom(p).fetch_add(v, ::paddock_sim::relaxed); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return ::paddock_sim::atom(p).fetch_add(v, ::paddock_sim::relaxed); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return ::paddock_sim::atom(p).fetch_add(v, ::paddock_sim::relaxed);
}
inline float atomicAdd(float* p, float v) { return ::paddock_sim::atom(p).fetch_add(v, ::paddock_sim::relaxed); }
inline double atomicAdd(double* p, double v) { return ::paddock_sim::atom(p).fetch_add(v, ::paddock_sim::relaxed); }
inline int atomicSub(int* p, int v) { return ::paddock_sim::atom(p).fetch_sub(v, ::paddock_sim::relaxed); }
inline unsigned atomicSub(unsigned* p, unsigned v) { return ::paddock_sim::atom(p).fetch_sub(v, ::paddock_sim::relaxed); }
inline int atomicExch(int* p, int v) { return ::paddock_sim::atom(p).exchange(v, ::paddock_sim::relaxed); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return ::paddock_sim::atom(p).exchange(v, ::paddock_sim::relaxed); }
inline float atomicExch(float* p, float v) { return ::paddock_sim::atom(p).exchange(v, ::paddock_sim::relaxed); }
inline int atomicMin(int* p, int v) { return ::paddock_sim::atomic_update<int>(p, [](int a, int b) { return a < b ? a : b; }, v); }
inline int atomicMax(int* p, int v) { return ::paddock_sim::atomic_update<int>(p, [](int a, int b) { return a > b ? a : b; }, v); }
inline unsigned atomicMin(unsigned* p, unsigned v) {
    return ::paddock_sim::atomic_update<unsigned>(p, [](unsigned a, unsigned b) { return a < b ? a : b; }, v);
}
inline unsigned atomicMax(unsigned* p, unsigned v) {
    return ::paddock_sim::atomic_update<unsigned>(p, [](unsigned a, unsigned b) { return a > b ? a : b; }, v);
}
inline int atomicCAS(int* p, int compare, int v) {
    ::paddock_sim::atom(p).compare_exchange_strong(compare, v, ::paddock_sim::relaxed, ::paddock_sim::relaxed);
    return compare;
}
inline unsigned atomicCAS(unsigned* p, unsigned compare, unsigned v) {
    ::paddock_sim::atom(p).compare_exchange_strong(compare, v, ::paddock_sim::relaxed, ::paddock_sim::relaxed);
    return compare;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare, unsigned long long v) {
    ::paddock_sim::atom(p).compare_exchange_strong(compare, v, ::paddock_sim::relaxed, ::paddock_sim::relaxed);
    return compare;
}

// __threadfence: see the header comment (a gpu-scope fence on the device).
namespace paddock_sim {
inline std::atomic<unsigned> fence_word{0};
}  // namespace paddock_sim
inline void __threadfence() { ::paddock_sim::fence_word.fetch_add(1u, std::memory_order_acq_rel); }

// ---- launching ------------------------------------------------------------------------------------------------
namespace paddock_sim {

// One launch as the core runs it: run(args) executes the kernel for the calling (fiber) thread.
struct LaunchRequest {
    const char* kernel;
    unsigned grid[3];
    unsigned block[3];
    void (*run)(const void* args);
    const void* args;
    bool serial_blocks;   // blocks one at a time on one worker (required when __shared__ is a plain static)
};

// Runs the grid; 0 on success, else nonzero with the calling thread's last error set.
PADDOCK_SIM_API int run_grid(const LaunchRequest& request);
// Sets the calling thread's last error to `message` and returns 1 (the launch's failure code).
PADDOCK_SIM_API int fail_launch(const std::string& message);
PADDOCK_SIM_API std::string type_name(const std::type_info& type);

template <class T>
inline std::string param_type_name() { return type_name(typeid(T)); }

template <class... P>
struct Packed {
    void (*kernel)(P...);
    std::tuple<P...> args;
    static void run(const void* self) {
        auto* p = static_cast<const Packed*>(self);
        std::apply(p->kernel, p->args);
    }
};

template <std::size_t I, class... P>
inline bool unpack_one(const char* name, std::tuple<P...>& out, void** params, const int* sizes) {
    using T = std::tuple_element_t<I, std::tuple<P...>>;
    if (sizes[I] != (int)sizeof(T)) {
        fail_launch(std::string(name) + ": argument " + std::to_string(I) + " (" + param_type_name<T>() + ") is "
                + std::to_string(sizeof(T)) + " bytes, the host packed " + std::to_string(sizes[I]));
        return false;
    }
    if (params[I] == nullptr) {
        fail_launch(std::string(name) + ": argument " + std::to_string(I) + " (" + param_type_name<T>()
                + ") has a null kernelParams pointer");
        return false;
    }
    std::memcpy(static_cast<void*>(&std::get<I>(out)), params[I], sizeof(T));   // as the driver copies it
    return true;
}

template <class... P, std::size_t... I>
inline bool unpack_all(const char* name, std::tuple<P...>& out, void** params, const int* sizes,
        std::index_sequence<I...>) {
    return (unpack_one<I, P...>(name, out, params, sizes) && ...);
}

template <class... P>
inline int launch_packed(const char* name, void (*kernel)(P...), unsigned gx, unsigned gy, unsigned gz,
        unsigned bx, unsigned by, unsigned bz, void** params, const int* sizes, int nparams) {
    static_assert((std::is_trivially_copyable_v<P> && ...), "kernel parameters must be trivially copyable");
    static_assert(!(std::is_reference_v<P> || ...), "kernel parameters are passed by value");
    if (nparams != (int)sizeof...(P)) {
        return fail_launch(std::string(name) + ": the kernel takes " + std::to_string(sizeof...(P))
                + " arguments, the host packed " + std::to_string(nparams));
    }
    Packed<P...> packed{kernel, {}};
    if constexpr (sizeof...(P) > 0) {
        if (params == nullptr || sizes == nullptr) return fail_launch(std::string(name) + ": null params or sizes");
        if (!unpack_all(name, packed.args, params, sizes, std::index_sequence_for<P...>{})) return 1;
    }
    LaunchRequest r{name, {gx, gy, gz}, {bx, by, bz}, &Packed<P...>::run, &packed, PADDOCK_SIM_SHARED_STATIC != 0};
    return run_grid(r);
}

// The C ABI of an exported kernel, for C++ callers.
using LaunchFn = int (*)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void**, const int*, int);

// Packs `args` exactly as cuLaunchKernel's kernelParams (pass them with the kernel's exact types) and launches.
template <class... A>
inline int launch(LaunchFn fn, dim3 grid, dim3 block, A... args) {
    void* params[sizeof...(A) + 1] = {static_cast<void*>(&args)...};
    int sizes[sizeof...(A) + 1] = {static_cast<int>(sizeof(A))...};
    return fn(grid.x, grid.y, grid.z, block.x, block.y, block.z, params, sizes, (int)sizeof...(A));
}

}  // namespace paddock_sim

extern "C" {
PADDOCK_SIM_API int paddock_sim_set_workers(int n);
PADDOCK_SIM_API const char* paddock_sim_last_error(void);
}

// Exports kernel NAME (an extern "C" __global__ function above) as paddock_sim_launch_NAME.
#define PADDOCK_SIM_EXPORT(NAME)                                                                                 \
    extern "C" PADDOCK_SIM_API int paddock_sim_launch_##NAME(unsigned gx, unsigned gy, unsigned gz, unsigned bx, \
            unsigned by, unsigned bz, void** params, const int* sizes, int nparams) {                           \
        return ::paddock_sim::launch_packed(#NAME, &NAME, gx, gy, gz, bx, by, bz, params, sizes, nparams);      \
    }
