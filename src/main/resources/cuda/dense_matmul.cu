// Dense linear layers (fp32/fp16/bf16 weights in torch (out, in) layout): y[b,o] = sum_i x[b,i] * w[o,i], fp32
// accumulation; dtype 0 = fp32, 1 = fp16, 2 = bf16. Block (32, 8): one warp per output row (coalesced reads of w's
// row), each warp serving DM_ROWS = 4 batch rows so a weight element loaded once is used 4 times. 16-bit weights
// with in % 8 == 0 (every real model) are read with 16-byte loads, two per lane in flight.
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

// The 16-bit weights of one 16-byte load, widened (exact): fp16 through cvt, bf16 by a shift.
static __device__ __forceinline__ void dm_widen8(uint4 v, int dtype, float* f) {
    const unsigned words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        if (dtype == 1) {
            f[2 * j] = dm_h2f((unsigned short)(words[j] & 0xffffu));
            f[2 * j + 1] = dm_h2f((unsigned short)(words[j] >> 16));
        } else {
            f[2 * j] = __uint_as_float(words[j] << 16);
            f[2 * j + 1] = __uint_as_float(words[j] & 0xffff0000u);
        }
    }
}

extern "C" __global__ void dense_matmul(const float* x, const void* w, float* y, int batch, int in, int out,
        int dtype) {
    int o = blockIdx.x * blockDim.y + threadIdx.y;
    int b0 = blockIdx.y * DM_ROWS;
    if (o >= out) return;   // uniform per warp: o depends on threadIdx.y only
    float acc[DM_ROWS] = {0.f, 0.f, 0.f, 0.f};
    long long base = (long long)o * in;
    if (dtype != 0 && (in & 7) == 0) {
        // 16-bit weights, in a multiple of 8 (every row 16-byte aligned): each lane loads 8 weights at once, two
        // loads in flight per lane (a warp streams 1 KiB of its row per step instead of 64 bytes). x rows are read
        // as float4 (the runtime's activation rows are 16-byte aligned).
        const uint4* wr = (const uint4*)((const unsigned short*)w + base);
        const int chunks = in >> 3;
        for (int c = threadIdx.x; c < chunks; c += 64) {
            uint4 v0 = __ldg(wr + c);
            uint4 v1 = c + 32 < chunks ? __ldg(wr + c + 32) : make_uint4(0u, 0u, 0u, 0u);
            float wf[2][8];
            dm_widen8(v0, dtype, wf[0]);
            dm_widen8(v1, dtype, wf[1]);
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int cc = c + 32 * h;
                if (cc >= chunks) break;
#pragma unroll
                for (int r = 0; r < DM_ROWS; r++) {
                    if (b0 + r < batch) {
                        const float4* xr = (const float4*)(x + (long long)(b0 + r) * in) + 2 * cc;
                        float4 xa = xr[0], xb = xr[1];
                        float a = acc[r];
                        a = fmaf(xa.x, wf[h][0], a);
                        a = fmaf(xa.y, wf[h][1], a);
                        a = fmaf(xa.z, wf[h][2], a);
                        a = fmaf(xa.w, wf[h][3], a);
                        a = fmaf(xb.x, wf[h][4], a);
                        a = fmaf(xb.y, wf[h][5], a);
                        a = fmaf(xb.z, wf[h][6], a);
                        a = fmaf(xb.w, wf[h][7], a);
                        acc[r] = a;
                    }
                }
            }
        }
    } else {
        for (int i = threadIdx.x; i < in; i += 32) {
            float wv = dm_load(w, base + i, dtype);
#pragma unroll
            for (int r = 0; r < DM_ROWS; r++) {
                if (b0 + r < batch) acc[r] = fmaf(x[(long long)(b0 + r) * in + i], wv, acc[r]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < DM_ROWS; r++) {
        float v = acc[r];
        for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
        if (threadIdx.x == 0 && b0 + r < batch) y[(long long)(b0 + r) * out + o] = v;
    }
}
