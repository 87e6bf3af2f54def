// Dense linear layers (fp32/fp16/bf16 weights in torch (out, in) layout): y[b,o] = sum_i x[b,i] * w[o,i], fp32
// accumulation; dtype 0 = fp32, 1 = fp16, 2 = bf16. Block (32, 8): one warp per output row (coalesced reads of w's
// row), each warp serving DM_ROWS = 4 batch rows so a weight element loaded once is used 4 times.
// Grid (ceil(out/8), ceil(batch/4)). y is overwritten. Self-contained (no includes) for NVRTC.
#define DM_ROWS 4

static __device__ __forceinline__ float dm_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);   // the host emulation (src/test/native/cudasim): exact, as cvt.f32.f16 is
#endif
}

static __device__ __forceinline__ float dm_load(const void* w, long long idx, int dtype) {
    if (dtype == 1) return dm_h2f(((const unsigned short*)w)[idx]);
    if (dtype == 2) return __uint_as_float(((unsigned int)((const unsigned short*)w)[idx]) << 16);
    return ((const float*)w)[idx];
}

extern "C" __global__ void dense_matmul(const float* x, const void* w, float* y, int batch, int in, int out,
        int dtype) {
    int o = blockIdx.x * blockDim.y + threadIdx.y;
    int b0 = blockIdx.y * DM_ROWS;
    if (o >= out) return;   // uniform per warp: o depends on threadIdx.y only
    float acc[DM_ROWS] = {0.f, 0.f, 0.f, 0.f};
    long long base = (long long)o * in;
    for (int i = threadIdx.x; i < in; i += 32) {
        float wv = dm_load(w, base + i, dtype);
#pragma unroll
        for (int r = 0; r < DM_ROWS; r++) {
            if (b0 + r < batch) acc[r] = fmaf(x[(long long)(b0 + r) * in + i], wv, acc[r]);
        }
    }
#pragma unroll
    for (int r = 0; r < DM_ROWS; r++) {
        float v = acc[r];
        for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
        if (threadIdx.x == 0 && b0 + r < batch) y[(long long)(b0 + r) * out + o] = v;
    }
}
