// Deliberate out-of-bounds device reads, built only by the test that proves AddressSanitizer sees device reads
// through the emulation: `asan_probe global` gives rmsnorm_f32 a weight buffer one float short (a heap read past
// the end); `asan_probe shared` reads one element past a __shared__ array (ASan builds make __shared__ a plain
// static, so it has redzones). Either must end in an ASan report, never in the "no report" line below. Built with
// -fsanitize=address alone: UBSan's bounds and object-size checks would report these reads before ASan.
#include <cstdio>
#include <string>
#include <vector>

#include "cuda_sim.h"

#include "layer_ops.cu"
PADDOCK_SIM_EXPORT(rmsnorm_f32)

// Thread 63 reads one element past a 64-element shared array.
extern "C" __global__ void probe_shared_oob(float* out) {
    __shared__ float s[64];
    s[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = s[threadIdx.x + 1];
}
PADDOCK_SIM_EXPORT(probe_shared_oob)

int main(int argc, char** argv) {
    std::string kind = argc > 1 ? argv[1] : "";
    int rc;
    if (kind == "global") {
        const int n = 300;
        std::vector<float> x(n, 1.f), out(n);
        std::vector<float> w(n - 1, 1.f);   // one short: the kernel reads weight[n - 1]
        rc = paddock_sim::launch(paddock_sim_launch_rmsnorm_f32, dim3(1), dim3(256), out.data(),
                                 (const float*)x.data(), (const float*)w.data(), n, 1e-5f);
    } else if (kind == "shared") {
        std::vector<float> out(64);
        rc = paddock_sim::launch(paddock_sim_launch_probe_shared_oob, dim3(1), dim3(64), out.data());
    } else {
        std::fprintf(stderr, "usage: %s global|shared\n", argv[0]);
        return 2;
    }
    std::printf("asan_probe %s: launch returned %d and no sanitizer report\n", kind.c_str(), rc);
    return 0;
}
