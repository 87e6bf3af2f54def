// Small CUDA kernels that exercise the emulation itself (kernel_tests.cpp): index mapping, warp collectives,
// atomics, and misuses the emulation must report as launch errors. Written in plain CUDA C like the project's
// kernels; the expectations are computed on the host from the CUDA programming guide's rules.
#pragma once

// rec[12 per thread]: threadIdx, blockIdx, blockDim, gridDim; threads numbered block by block (x fastest).
extern "C" __global__ void sim_indices(unsigned* rec) {
    unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    unsigned inBlock = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    unsigned* r = rec + 12 * (block * blockDim.x * blockDim.y * blockDim.z + inBlock);
    unsigned v[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                      blockDim.x, blockDim.y, blockDim.z, gridDim.x, gridDim.y, gridDim.z};
    for (int k = 0; k < 12; k++) r[k] = v[k];
}
PADDOCK_SIM_EXPORT(sim_indices)

constexpr int kShuffleChecks = 12;

// Each thread t (1-D block) contributes v = 10t + 1 to every shuffle.
extern "C" __global__ void sim_shuffles(long long* out) {
    const unsigned full = 0xffffffffu;
    int t = threadIdx.x;
    int v = 10 * t + 1;
    long long* o = out + (long long)t * kShuffleChecks;
    o[0] = __shfl_sync(full, v, 5);
    o[1] = __shfl_sync(full, v, 37);            // srcLane taken modulo width
    o[2] = __shfl_sync(full, v, 3, 8);
    o[3] = __shfl_up_sync(full, v, 3);
    o[4] = __shfl_up_sync(full, v, 2, 8);
    o[5] = __shfl_down_sync(full, v, 5);
    o[6] = __shfl_down_sync(full, v, 3, 16);
    o[7] = __shfl_xor_sync(full, v, 1);
    o[8] = __shfl_xor_sync(full, v, 12, 8);     // earlier segment readable, later one gives the own value
    o[9] = (long long)(2.0f * __shfl_xor_sync(full, 0.5f * (float)v, 16));
    o[10] = (long long)(__shfl_down_sync(full, (double)v + 0.25, 1) - 0.25);
    o[11] = __shfl_sync(full, (long long)v << 33, 31) >> 33;
}
PADDOCK_SIM_EXPORT(sim_shuffles)

// Host side: what thread t must see, by the CUDA rules (segments of `width` lanes inside a warp).
inline void shuffle_expectations(int t, long long* want) {
    int lane = t % 32, warp = t - lane;
    auto val = [&](int l) { return 10LL * (warp + l) + 1; };
    auto seg = [&](int w) { return lane - lane % w; };
    want[0] = val(5);
    want[1] = val(5);
    want[2] = val(seg(8) + 3);
    want[3] = lane >= 3 ? val(lane - 3) : val(lane);
    want[4] = lane % 8 >= 2 ? val(lane - 2) : val(lane);
    want[5] = lane + 5 < 32 ? val(lane + 5) : val(lane);
    want[6] = lane % 16 + 3 < 16 ? val(lane + 3) : val(lane);
    want[7] = val(lane ^ 1);
    want[8] = (lane ^ 12) < seg(8) + 8 ? val(lane ^ 12) : val(lane);
    want[9] = val(lane ^ 16);
    want[10] = val(lane + 1 < 32 ? lane + 1 : lane);
    want[11] = val(31);
}

// out[5 per thread]: ballot, any, all, a value passed through shared memory across __syncwarp, a half-warp ballot.
extern "C" __global__ void sim_votes(unsigned* out) {
    __shared__ unsigned s[64];
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    bool pred = (lane + warp + blockIdx.x) % 3 == 0;
    unsigned* o = out + 5 * (blockIdx.x * blockDim.x + threadIdx.x);
    o[0] = __ballot_sync(0xffffffffu, pred);
    o[1] = __any_sync(0xffffffffu, pred);
    o[2] = __all_sync(0xffffffffu, lane < 32);
    s[threadIdx.x] = threadIdx.x;
    __syncwarp();
    o[3] = s[warp * 32 + (lane + 1) % 32];
    unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
    o[4] = __ballot_sync(half, pred);
}
PADDOCK_SIM_EXPORT(sim_votes)

extern "C" __global__ void sim_atomics(int* ints, float* f, unsigned* u) {
    int id = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(&ints[0], 1);
    atomicMax(&ints[1], id);
    atomicMin(&ints[2], -id);
    int old = atomicAdd(&ints[3], 0);
    for (;;) {
        int prev = atomicCAS(&ints[3], old, old + 1);
        if (prev == old) break;
        old = prev;
    }
    atomicAdd(f, 0.5f);
    atomicAdd(&u[0], 3u);
    atomicSub(&u[1], 1u);
}
PADDOCK_SIM_EXPORT(sim_atomics)

// ---- misuses that must fail the launch ----
extern "C" __global__ void sim_divergent_barrier() {
    if (threadIdx.x < 16) {
        __syncthreads();
    } else {
        __syncthreads();
    }
}
PADDOCK_SIM_EXPORT(sim_divergent_barrier)

extern "C" __global__ void sim_exit_before_barrier() {
    if (threadIdx.x == 5) return;
    __syncthreads();
}
PADDOCK_SIM_EXPORT(sim_exit_before_barrier)

extern "C" __global__ void sim_deadlock() {
    float v = 1.f;
    if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
    __syncthreads();
}
PADDOCK_SIM_EXPORT(sim_deadlock)

extern "C" __global__ void sim_shuffle_full_mask() {
    float v = __shfl_xor_sync(0xffffffffu, 1.f, 1);
    (void)v;
}
PADDOCK_SIM_EXPORT(sim_shuffle_full_mask)

extern "C" __global__ void sim_shuffle_mask(unsigned mask, int src) {
    int v = __shfl_sync(mask, (int)threadIdx.x, src);
    (void)v;
}
PADDOCK_SIM_EXPORT(sim_shuffle_mask)

extern "C" __global__ void sim_mixed_collectives() {
    float v = 1.f;
    if (threadIdx.x % 2 == 0) {
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    } else {
        v = __shfl_down_sync(0xffffffffu, v, 1);
    }
}
PADDOCK_SIM_EXPORT(sim_mixed_collectives)

extern "C" __global__ void sim_lane_exits() {
    if (threadIdx.x == 3) return;
    float v = __shfl_xor_sync(0xffffffffu, 1.f, 1);
    (void)v;
}
PADDOCK_SIM_EXPORT(sim_lane_exits)

extern "C" __global__ void sim_bad_width() {
    float v = __shfl_xor_sync(0xffffffffu, 1.f, 1, 12);
    (void)v;
}
PADDOCK_SIM_EXPORT(sim_bad_width)
