/*
 * Integer dot products for GPTQ tiles (io.paddock.runtime.cpu.GptqInt8): codes (unsigned, 2/4/8 bits, as laid out
 * by GptqMatrix) times int8 activations, summed exactly in int32, then one float step per 128-input segment.
 * Called from Java through the FFM linker; the Java scalar twin (GptqInt8.twin) does the same arithmetic in the
 * same order, so results are bit-identical.
 *
 * Tiles: per block of `lanes` outputs, per group: a meta record (lanes f16 scales, lanes int16 zeros), then the
 * group's units, each `lanes` int32 words. A word holds codes/4 codes per byte position: after
 * (word >> (k*bits)) & mask, byte b of the word is the code of input b*(8/bits)+k of the unit. The activation row
 * `xq` is laid out to match (GptqInt8.quantize): per unit and k, four int8 values, one per byte position, so one
 * 32-bit broadcast feeds a vpdpbusd (AVX-512 VNNI) or a maddubs+madd pair (AVX2).
 *
 * Per segment s of a group (at most 128 inputs), row r and output lane l:
 *   d = sum_i q[i,l] * xq[r,i]  -  zero[l] * sum_i xq[r,i]          (exact, int32)
 *   y[r,l] = fma((float) d, scale[l] * xs[r,s], y[r,l])
 * Compiled with gcc -O2 and no -march: each path carries its own target attribute, chosen at run time.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define AI __attribute__((always_inline)) static inline
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))
#define T256 __attribute__((target("avx2,fma,f16c")))

static inline int32_t ld32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---------------------------------------------------------------- AVX-512 VNNI, 16 lanes per block */

T512 AI void run512(const uint8_t *t, const int32_t *units, int groups, int segUnits, const int bits, const int R,
                    const int8_t *xq, int64_t xqStride, const float *xs, const int32_t *xsum, int nseg,
                    float *y, int64_t yStride, int valid) {
    const int codes = 32 / bits, m = 8 / bits;
    const __m512i mask = _mm512_set1_epi32(bits == 2 ? 0x03030303 : bits == 4 ? 0x0F0F0F0F : -1);
    __m512 acc[8];
    __m512i ia[8];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    int64_t pos = 0;
    int seg = 0;
    for (int g = 0; g < groups; g++) {
        __m512 scale = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) t));
        __m512i zero = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *) (t + 32)));
        t += 64;
        int n = units[g];
        for (int u0 = 0; u0 < n; u0 += segUnits, seg++) {
            int u1 = u0 + segUnits < n ? u0 + segUnits : n;
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) ia[r] = _mm512_setzero_si512();
            for (int u = u0; u < u1; u++) {
                __m512i w = _mm512_loadu_si512((const void *) t);
                t += 64;
#pragma GCC unroll 4
                for (int k = 0; k < m; k++) {
                    __m512i c = k == 0 ? w : _mm512_srli_epi32(w, k * bits);
                    if (bits < 8) c = _mm512_and_si512(c, mask);
#pragma GCC unroll 8
                    for (int r = 0; r < R; r++) {
                        ia[r] = _mm512_dpbusd_epi32(ia[r], c, _mm512_set1_epi32(ld32(xq + r * xqStride + pos + 4 * k)));
                    }
                }
                pos += codes;
            }
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                __m512i d = _mm512_sub_epi32(ia[r], _mm512_mullo_epi32(zero, _mm512_set1_epi32(xsum[r * nseg + seg])));
                __m512 f = _mm512_mul_ps(scale, _mm512_set1_ps(xs[r * nseg + seg]));
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), f, acc[r]);
            }
        }
    }
    __mmask16 km = (__mmask16) ((1u << valid) - 1u);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(y + r * yStride, km, acc[r]);
}

#define CASES512(B) \
    switch (R) { \
        case 8: run512(t, units, groups, segUnits, B, 8, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
        case 4: run512(t, units, groups, segUnits, B, 4, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
        case 2: run512(t, units, groups, segUnits, B, 2, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
        default: run512(t, units, groups, segUnits, B, 1, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
    }

T512 static void block512(const uint8_t *t, const int32_t *units, int groups, int segUnits, int bits, int R,
                          const int8_t *xq, int64_t xqStride, const float *xs, const int32_t *xsum, int nseg,
                          float *y, int64_t yStride, int valid) {
    if (bits == 2) { CASES512(2) } else if (bits == 4) { CASES512(4) } else { CASES512(8) }
}

/* ---------------------------------------------------------------- AVX2, 8 lanes at a time (maddubs + madd) */

T256 AI void run256(const uint8_t *t, int64_t row, int half, const int32_t *units, int groups, int segUnits,
                    const int bits, const int R, const int8_t *xq, int64_t xqStride, const float *xs,
                    const int32_t *xsum, int nseg, float *y, int64_t yStride, int valid) {
    const int codes = 32 / bits, m = 8 / bits;
    const __m256i mask = _mm256_set1_epi32(bits == 2 ? 0x03030303 : bits == 4 ? 0x0F0F0F0F : -1);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i lo8 = _mm256_set1_epi32(0x00FF00FF);
    const int lanes = (int) (row / 4);
    __m256 acc[4];
    __m256i ia[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    int64_t pos = 0;
    int seg = 0;
    for (int g = 0; g < groups; g++) {
        __m256 scale = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (t + 16 * half)));
        __m256i zero = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *) (t + 2 * lanes + 16 * half)));
        t += row;
        int n = units[g];
        for (int u0 = 0; u0 < n; u0 += segUnits, seg++) {
            int u1 = u0 + segUnits < n ? u0 + segUnits : n;
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) ia[r] = _mm256_setzero_si256();
            for (int u = u0; u < u1; u++) {
                __m256i w = _mm256_loadu_si256((const __m256i *) (t + 32 * half));
                t += row;
#pragma GCC unroll 4
                for (int k = 0; k < m; k++) {
                    __m256i c = k == 0 ? w : _mm256_srli_epi32(w, k * bits);
                    if (bits < 8) c = _mm256_and_si256(c, mask);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        __m256i b = _mm256_set1_epi32(ld32(xq + r * xqStride + pos + 4 * k));
                        __m256i p;
                        if (bits < 8) {
                            /* codes <= 15: a pair of products stays far inside int16 */
                            p = _mm256_madd_epi16(_mm256_maddubs_epi16(c, b), ones);
                        } else {
                            /* 8-bit codes would saturate maddubs: widen to int16 pairs instead */
                            __m256i clo = _mm256_and_si256(c, lo8), chi = _mm256_srli_epi16(c, 8);
                            __m256i blo = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8), bhi = _mm256_srai_epi16(b, 8);
                            p = _mm256_add_epi32(_mm256_madd_epi16(clo, blo), _mm256_madd_epi16(chi, bhi));
                        }
                        ia[r] = _mm256_add_epi32(ia[r], p);
                    }
                }
                pos += codes;
            }
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                __m256i d = _mm256_sub_epi32(ia[r], _mm256_mullo_epi32(zero, _mm256_set1_epi32(xsum[r * nseg + seg])));
                __m256 f = _mm256_mul_ps(scale, _mm256_set1_ps(xs[r * nseg + seg]));
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), f, acc[r]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float tmp[8];
        _mm256_storeu_ps(tmp, acc[r]);
        for (int l = 0; l < valid; l++) y[r * yStride + 8 * half + l] = tmp[l];
    }
}

#define CASES256(B) \
    switch (R) { \
        case 4: run256(t, row, half, units, groups, segUnits, B, 4, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
        case 2: run256(t, row, half, units, groups, segUnits, B, 2, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
        default: run256(t, row, half, units, groups, segUnits, B, 1, xq, xqStride, xs, xsum, nseg, y, yStride, valid); break; \
    }

T256 static void block256(const uint8_t *t, int64_t row, int half, const int32_t *units, int groups, int segUnits,
                          int bits, int R, const int8_t *xq, int64_t xqStride, const float *xs, const int32_t *xsum,
                          int nseg, float *y, int64_t yStride, int valid) {
    if (bits == 2) { CASES256(2) } else if (bits == 4) { CASES256(4) } else { CASES256(8) }
}

/* ---------------------------------------------------------------- exported */

/** 2: AVX-512 VNNI (and BW/VL/F16C/FMA), 1: AVX2 (and F16C/FMA), 0: neither. */
int paddock_gptq_i8_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        return 2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return 1;
    return 0;
}

/**
 * Output blocks [blk0, blk1) for `batch` rows. y is (batch, out) with row stride `out` (floats); lanes past `out`
 * are not written. level: 2 or 1 (see above); lanes: 16 (both levels) or 8 (level 1 only).
 * Returns 0, or -1 for arguments this build cannot run.
 */
int paddock_gptq_i8(int level, const uint8_t *tiles, int64_t blockBytes, int lanes, int blk0, int blk1, int bits,
                    int groups, const int32_t *units, int segUnits, const int8_t *xq, int64_t xqStride,
                    const float *xs, const int32_t *xsum, int nseg, int batch, float *y, int out) {
    if (bits != 2 && bits != 4 && bits != 8) return -1;
    if (!(level == 2 && lanes == 16) && !(level == 1 && (lanes == 8 || lanes == 16))) return -1;
    for (int blk = blk0; blk < blk1; blk++) {
        const uint8_t *t = tiles + (int64_t) blk * blockBytes;
        int o0 = blk * lanes;
        int valid = out - o0 < lanes ? out - o0 : lanes;
        int b = 0;
        while (b < batch) {
            int left = batch - b;
            int R = level == 2 ? (left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1) : (left >= 4 ? 4 : left >= 2 ? 2 : 1);
            const int8_t *xr = xq + (int64_t) b * xqStride;
            const float *sr = xs + (int64_t) b * nseg;
            const int32_t *zr = xsum + (int64_t) b * nseg;
            float *yr = y + (int64_t) b * out + o0;
            if (level == 2) {
                block512(t, units, groups, segUnits, bits, R, xr, xqStride, sr, zr, nseg, yr, out, valid);
            } else {
                for (int half = 0; half < lanes / 8; half++) {
                    int v = valid - 8 * half;
                    if (v <= 0) break;
                    block256(t, 4L * lanes, half, units, groups, segUnits, bits, R, xr, xqStride, sr, zr, nseg, yr, out,
                             v > 8 ? 8 : v);
                }
            }
            b += R;
        }
    }
    return 0;
}
