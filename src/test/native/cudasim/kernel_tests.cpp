// Runs every kernel of src/main/resources/cuda/*.cu on the CPU under the host emulation (cuda_sim.h) and checks it
// against scalar references written here from the contracts in docs/gpu-kernels.md (double precision, or exact
// where the kernel's result is exact). Also checks the emulator itself: index mapping, warp collectives, atomics
// and the launch errors it must report. This file holds main and the emulator's cases; each .cu file has its own
// translation unit (kernel_tests_gptq.cpp, kernel_tests_layers.cpp, kernel_tests_attention.cpp).
//
// Build (CudaKernelEmulationTests does this through NativeToolchain): g++ -std=c++20 -O2 -pthread
//   -I src/main/resources/cuda -I src/test/native/cudasim kernel_tests*.cpp sim_core.cpp
//   [+ -fsanitize=address,undefined -fno-omit-frame-pointer | -fsanitize=thread]
// Run: kernel_tests [--small] [--filter TEXT] [--workers N]; prints one line per case, exits 1 on any failure.
//   --small: sizes for ThreadSanitizer (every fiber is a TSan thread, ~7 ms to create, and switches cost ~1 us):
//   blocks of at most 256 threads and shorter contexts, still every kernel and code path.
//
// Tolerances: fp32 results are compared with |got - want| <= tol, tol a first-order bound on the rounding error
// of the kernel's own evaluation order (u = 2^-24 per rounding; a sum of k terms accumulated one at a time errs by
// at most k*u*sum|terms|), derived per kernel below. They are worst-case bounds, so a wrong index, scale or
// layout (errors of order 1e-2 and more) cannot hide under them. Exact kernels are compared bit for bit.
#include "kernel_tests.h"

// The emulator's own test kernels need launchable symbols from this TU; the project's kernels live in
// kernel_tests_{gptq,layers,attention}.cpp, one .cu file each.
#include "test_kernels.h"

// add_inplace_f32 and rmsnorm_f32 are exported by kernel_tests_layers.cpp; the error cases launch them too.
extern "C" int paddock_sim_launch_add_inplace_f32(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void**,
        const int*, int);

namespace kt {

bool g_small = false;
int g_workers = 0;

namespace {

std::string g_filter;
int g_failures = 0, g_cases = 0;

}  // namespace

void run_case(const std::string& name, const std::function<Outcome()>& body) {
    if (!g_filter.empty() && name.find(g_filter) == std::string::npos) return;
    auto t0 = std::chrono::steady_clock::now();
    Outcome r = body();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    g_cases++;
    if (!r.ok) g_failures++;
    std::printf("%s %-72s %s (%.0f ms)\n", r.ok ? "ok  " : "FAIL", name.c_str(), r.detail.c_str(), ms);
    std::fflush(stdout);
}

namespace {

// ---- the emulator itself ----------------------------------------------------------------------------------------
Outcome fp16_exhaustive() {
    Compare cmp;   // paddock_host_h2f must be exact (PTX cvt.f32.f16 is) for all 65536 encodings
    for (unsigned h = 0; h < 65536; h++) cmp.exact(h, paddock_host_h2f(static_cast<u16>(h)), half_value(static_cast<u16>(h)));
    return cmp.outcome();
}

Outcome expect_error(int rc, const char* needle) {
    std::string msg = paddock_sim_last_error();
    if (rc == 0) return {false, std::string("launch succeeded; expected an error containing '") + needle + "'"};
    if (msg.find(needle) == std::string::npos) return {false, "unexpected error: " + msg};
    return {true, msg};
}

void emulator_cases() {
    run_case("sim: fp16 -> fp32 conversion, all 65536 encodings", fp16_exhaustive);
    run_case("sim: thread/block indices and dimensions, 3-D grid and block", [] {
        const dim3 g(3, 2, 2), b(4, 3, 2);
        const unsigned total = g.x * g.y * g.z * b.x * b.y * b.z;
        std::vector<unsigned> rec(static_cast<std::size_t>(total) * 12, 0xdeadu);
        if (launch(paddock_sim_launch_sim_indices, g, b, rec.data())) return launch_failed("sim_indices");
        Compare cmp;
        std::size_t i = 0;
        for (unsigned bz = 0; bz < g.z; bz++) for (unsigned by = 0; by < g.y; by++) for (unsigned bx = 0; bx < g.x; bx++)
        for (unsigned tz = 0; tz < b.z; tz++) for (unsigned ty = 0; ty < b.y; ty++) for (unsigned tx = 0; tx < b.x; tx++) {
            unsigned want[12] = {tx, ty, tz, bx, by, bz, b.x, b.y, b.z, g.x, g.y, g.z};
            for (int k = 0; k < 12; k++, i++) cmp.exact(i, rec[i], want[k]);
        }
        return cmp.outcome();
    });
    run_case("sim: warp shuffles (idx/up/down/xor, widths 4..32, int/float/double/long long)", [] {
        const unsigned n = 96;   // three warps
        std::vector<long long> got(static_cast<std::size_t>(n) * kShuffleChecks, -1);
        if (launch(paddock_sim_launch_sim_shuffles, dim3(1), dim3(n), got.data())) return launch_failed("sim_shuffles");
        Compare cmp;
        for (unsigned t = 0; t < n; t++) {
            long long want[kShuffleChecks];
            shuffle_expectations(static_cast<int>(t), want);
            for (int k = 0; k < kShuffleChecks; k++) cmp.exact(t * kShuffleChecks + k, got[t * kShuffleChecks + k], want[k]);
        }
        return cmp.outcome();
    });
    run_case("sim: ballot/any/all, __syncwarp orders shared memory, partial masks", [] {
        const unsigned n = 64;
        std::vector<unsigned> got(static_cast<std::size_t>(n) * 2 * 5, 7);
        if (launch(paddock_sim_launch_sim_votes, dim3(2), dim3(n), got.data())) return launch_failed("sim_votes");
        Compare cmp;
        for (unsigned b = 0; b < 2; b++) {
            for (unsigned t = 0; t < n; t++) {
                unsigned lane = t % 32, w = t / 32;
                unsigned ballot = 0;
                for (unsigned l = 0; l < 32; l++) if ((l + w + b) % 3 == 0) ballot |= 1u << l;
                unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
                unsigned want[5] = {ballot, ballot != 0, 1u, (t + 1) % 32 + w * 32, ballot & half};
                for (int k = 0; k < 5; k++) {
                    std::size_t i = (static_cast<std::size_t>(b) * n + t) * 5 + k;
                    cmp.exact(i, got[i], want[k]);
                }
            }
        }
        return cmp.outcome();
    });
    run_case("sim: atomics from many blocks in parallel", [] {
        std::vector<int> ints(4, 0);
        std::vector<float> f(1, 0.f);
        const unsigned blocks = g_small ? 16 : 64, threads = 256;
        std::vector<unsigned> u = {0, 2 * blocks * threads};
        if (launch(paddock_sim_launch_sim_atomics, dim3(blocks), dim3(threads), ints.data(), f.data(), u.data())) {
            return launch_failed("sim_atomics");
        }
        const long long n = static_cast<long long>(blocks) * threads;
        Compare cmp;
        cmp.exact(0, ints[0], static_cast<double>(n));            // atomicAdd(int, 1)
        cmp.exact(1, ints[1], static_cast<double>(n - 1));        // atomicMax(global id)
        cmp.exact(2, ints[2], -static_cast<double>(n - 1));       // atomicMin(-id)
        cmp.exact(3, ints[3], static_cast<double>(n));            // atomicCAS counting loop
        cmp.exact(4, f[0], static_cast<double>(n) * 0.5);         // float adds of 0.5: exact below 2^24
        cmp.exact(5, u[0], static_cast<double>(n) * 3);           // atomicAdd(unsigned, 3)
        cmp.exact(6, u[1], static_cast<double>(n));               // atomicSub from 2n
        return cmp.outcome();
    });
    for (int workers : {1, 3, 0}) {
        run_case(fmt("sim: paddock_sim_set_workers(%d) then a multi-block reduction", workers), [workers] {
            paddock_sim_set_workers(workers);
            Outcome r = rmsnorm_run(9, 700, 128, false);
            paddock_sim_set_workers(g_workers);
            return r;
        });
    }
    // Errors the emulation must report instead of silently computing something.
    run_case("sim error: divergent __syncthreads", [] {
        return expect_error(launch(paddock_sim_launch_sim_divergent_barrier, dim3(2), dim3(64)), "divergent __syncthreads");
    });
    run_case("sim error: a thread exits while the others wait at __syncthreads", [] {
        return expect_error(launch(paddock_sim_launch_sim_exit_before_barrier, dim3(1), dim3(64)), "exited without reaching");
    });
    run_case("sim error: deadlock (half a warp at a shuffle, the other half at __syncthreads)", [] {
        return expect_error(launch(paddock_sim_launch_sim_deadlock, dim3(1), dim3(32)), "deadlock");
    });
    run_case("sim error: full-warp mask in a 48-thread block", [] {
        return expect_error(launch(paddock_sim_launch_sim_shuffle_full_mask, dim3(1), dim3(48)), "do not exist");
    });
    run_case("sim error: mask that omits the calling lane", [] {
        return expect_error(launch(paddock_sim_launch_sim_shuffle_mask, dim3(1), dim3(32), 0x1u, 0), "does not name the calling lane");
    });
    run_case("sim error: shuffle reads a lane outside the mask", [] {
        return expect_error(launch(paddock_sim_launch_sim_shuffle_mask, dim3(1), dim3(2), 0x3u, 5), "not in the mask");
    });
    run_case("sim error: lanes of a warp at different collectives", [] {
        return expect_error(launch(paddock_sim_launch_sim_mixed_collectives, dim3(1), dim3(32)), "while lane 0 of the warp waits");
    });
    run_case("sim error: a lane exits while its warp waits for it at a shuffle", [] {
        return expect_error(launch(paddock_sim_launch_sim_lane_exits, dim3(1), dim3(32)), "exited while lanes");
    });
    run_case("sim error: shuffle width not a power of two", [] {
        return expect_error(launch(paddock_sim_launch_sim_bad_width, dim3(1), dim3(32)), "not a power of two");
    });
    run_case("sim error: argument count, size and null pointer checks", [] {
        float* p = nullptr;
        long long n = 5;
        int ni = 5;
        Outcome a = expect_error(launch(paddock_sim_launch_add_inplace_f32, dim3(1), dim3(32), p, (const float*)p),
                                 "the kernel takes 3 arguments, the host packed 2");
        if (!a.ok) return a;
        a = expect_error(launch(paddock_sim_launch_add_inplace_f32, dim3(1), dim3(32), p, (const float*)p, ni),
                         "argument 2 (long long) is 8 bytes, the host packed 4");
        if (!a.ok) return a;
        void* params[3] = {&p, nullptr, &n};
        int sizes[3] = {8, 8, 8};
        return expect_error(paddock_sim_launch_add_inplace_f32(1, 1, 1, 32, 1, 1, params, sizes, 3),
                            "argument 1 (float const*) has a null kernelParams pointer");
    });
    run_case("sim error: launch dimensions checked as the driver does", [] {
        float* p = nullptr;
        long long n = 0;
        const char* no = "";
        for (auto [g, b, needle] : {std::tuple{dim3(1), dim3(32, 33), "more than 1024"},
                                    std::tuple{dim3(1), dim3(1, 1, 65), "exceeds the limits (1024, 1024, 64)"},
                                    std::tuple{dim3(1), dim3(2048), "exceeds the limits"},
                                    std::tuple{dim3(1, 65536), dim3(32), "exceeds the limits (2^31-1, 65535, 65535)"},
                                    std::tuple{dim3(0), dim3(32), "at least 1"}, std::tuple{dim3(1), dim3(1), no}}) {
            int rc = launch(paddock_sim_launch_add_inplace_f32, g, b, p, (const float*)p, n);
            if (*needle == 0) {
                if (rc) return launch_failed("valid 1x1 launch");
                continue;
            }
            Outcome o = expect_error(rc, needle);
            if (!o.ok) return o;
        }
        return Outcome{true, "all rejected"};
    });
    run_case("sim: launches after failed ones still compute correctly", [] { return rmsnorm_run(4, 513, 256, false); });
}

}  // namespace
}  // namespace kt

int main(int argc, char** argv) {
    using namespace kt;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--small") {
            g_small = true;
        } else if (a == "--filter" && i + 1 < argc) {
            g_filter = argv[++i];
        } else if (a == "--workers" && i + 1 < argc) {
            g_workers = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--small] [--filter TEXT] [--workers N]\n", argv[0]);
            return 2;
        }
    }
    paddock_sim_set_workers(g_workers);
    auto t0 = std::chrono::steady_clock::now();
    emulator_cases();
    fp16_tests();
    mma_tests();
    gptq_tests();
    gptq_mma_tests();
    gemv_tests();
    layer_tests();
    attention_tests();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%d cases, %d failed, %.1f s\n", g_cases, g_failures, s);
    return g_failures == 0 && g_cases > 0 ? 0 : 1;
}
