// Element-wise and per-row reduction kernels of a LLaMA layer, fp32 activations, row-major (rows, n).
// Self-contained (no includes) so NVRTC compiles it without an include path. Math follows the CPU Kernels:
// accurate expf/cosf paths, never the __fast intrinsics, so parity tolerances stay at fp32 rounding level.

static __device__ __forceinline__ float ops_h2f(unsigned short h) {
#ifdef __CUDA_ARCH__
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
#else
    return paddock_host_h2f(h);   // the host emulation (src/test/native/cudasim): exact, as cvt.f32.f16 is
#endif
}

static __device__ __forceinline__ float ops_warp_sum(float v) {
    for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
    return v;
}

// Block-wide sum; blockDim.x a multiple of 32, at most 1024. Every thread gets the total.
static __device__ float ops_block_sum(float v) {
    __shared__ float part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = ops_warp_sum(v);
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    int nw = (blockDim.x + 31) >> 5;
    float t = lane < nw ? part[lane] : 0.f;
    return ops_warp_sum(t);
}

// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight. Grid rows, block 256 (multiple of 32). out may equal x.
extern "C" __global__ void rmsnorm_f32(float* out, const float* x, const float* weight, int n, float eps) {
    const float* xr = x + (long long)blockIdx.x * n;
    float* orow = out + (long long)blockIdx.x * n;
    float ss = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss = fmaf(xr[i], xr[i], ss);
    ss = ops_block_sum(ss);
    float scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) orow[i] = xr[i] * scale * weight[i];
}

// The residual add and the next norm in one pass: x[r] += delta[r], then out[r] = rmsnorm(x[r]) * weight, each
// row read once. The sum of squares is taken over the new x in exactly rmsnorm_f32's order (same thread strides,
// same fmaf chain, same block reduction), so the result is bit-identical to add_inplace_f32 then rmsnorm_f32.
// Every element is read and written by one thread only, so out may equal x or delta. Grid rows, block 256
// (multiple of 32).
extern "C" __global__ void add_rmsnorm_f32(float* x, const float* delta, float* out, const float* weight, int n,
        float eps) {
    float* xr = x + (long long)blockIdx.x * n;
    const float* dr = delta + (long long)blockIdx.x * n;
    float* orow = out + (long long)blockIdx.x * n;
    float ss = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i] + dr[i];
        xr[i] = v;
        ss = fmaf(v, v, ss);
    }
    ss = ops_block_sum(ss);
    float scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) orow[i] = xr[i] * scale * weight[i];
}

// HF rotate_half RoPE in place: element i of a head pairs with i + headDim/2. Row r (of stride rowStride floats)
// is at position pos[r]. With cosTable/sinTable (maxPositions, headDim/2) non-null they are used (the CPU
// RopeTable); otherwise the angle is computed like HF in fp32: invFreq = 1 / (float)theta^(2i/headDim),
// angle = (float)pos * invFreq, then cos/sin in double rounded to float (as RopeTable.create does).
// Grid (rows, numHeads), block min(headDim/2, 128).
extern "C" __global__ void rope_rotate_half_f32(float* v, const int* pos, int rowStride, int headDim,
        const float* cosTable, const float* sinTable, double theta) {
    int r = blockIdx.x, h = blockIdx.y;
    int half = headDim / 2;
    int p = pos[r];
    float* lo = v + (long long)r * rowStride + (long long)h * headDim;
    float* hi = lo + half;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float c, s;
        if (cosTable != 0) {
            c = cosTable[(long long)p * half + i];
            s = sinTable[(long long)p * half + i];
        } else {
            float exponent = (float)(2 * i) / (float)headDim;
            float invFreq = 1.0f / (float)pow(theta, (double)exponent);
            float angle = (float)p * invFreq;
            c = (float)cos((double)angle);
            s = (float)sin((double)angle);
        }
        float a = lo[i], b = hi[i];
        lo[i] = a * c - b * s;
        hi[i] = b * c + a * s;
    }
}

// gate[i] = silu(gate[i]) * up[i] over n elements. Grid ceil(n/256), block 256.
extern "C" __global__ void swiglu_f32(float* gate, const float* up, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// a[i] += b[i] over n elements. Grid ceil(n/256), block 256.
extern "C" __global__ void add_inplace_f32(float* a, const float* b, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] += b[i];
}

// out[r, :] = table[tokens[r], :] widened to fp32. dtype: 0 = fp32, 1 = fp16, 2 = bf16.
// Grid (rows, ceil(hidden/256)), block 256.
extern "C" __global__ void embedding_rows(float* out, const void* table, const int* tokens, int hidden, int dtype) {
    int r = blockIdx.x;
    int i = blockIdx.y * blockDim.x + threadIdx.x;
    if (i >= hidden) return;
    long long src = (long long)tokens[r] * hidden + i;
    float v;
    if (dtype == 1) {
        v = ops_h2f(((const unsigned short*)table)[src]);
    } else if (dtype == 2) {
        v = __uint_as_float(((unsigned)((const unsigned short*)table)[src]) << 16);
    } else {
        v = ((const float*)table)[src];
    }
    out[(long long)r * hidden + i] = v;
}

// out[r] = index of the largest of x[r, 0..n); ties go to the lowest index, NaNs are skipped.
// Grid rows, block 256 (power of two).
extern "C" __global__ void argmax_rows(const float* x, int* out, int n) {
    __shared__ float bestV[1024];
    __shared__ int bestI[1024];
    const float* xr = x + (long long)blockIdx.x * n;
    float bv = -__int_as_float(0x7f800000);
    int bi = n;   // n = "none yet"; loses every tie-break against a real index
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i];
        if (v > bv || (v == bv && i < bi)) { bv = v; bi = i; }
    }
    bestV[threadIdx.x] = bv;
    bestI[threadIdx.x] = bi;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float ov = bestV[threadIdx.x + s];
            int oi = bestI[threadIdx.x + s];
            if (ov > bestV[threadIdx.x] || (ov == bestV[threadIdx.x] && oi < bestI[threadIdx.x])) {
                bestV[threadIdx.x] = ov;
                bestI[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = bestI[0] < n ? bestI[0] : 0;
}
