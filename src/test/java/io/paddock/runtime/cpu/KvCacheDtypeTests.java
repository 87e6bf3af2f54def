package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.runtime.KvCacheDtype;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The off-heap store's conversions, sizes, close, and the host-memory reading behind the default budget. */
class KvCacheDtypeTests {

    @Test
    void f16StoreRoundsToNearestEvenAsTheJdkDoes() {
        SplittableRandom r = new SplittableRandom(7);
        int kvDim = 37;
        try (PagedKvStore s = new PagedKvStore(1, 2, 4, kvDim, KvCacheDtype.F16)) {
            int[] table = {1, 0};
            for (int pos = 0; pos < 8; pos++) {
                float[] k = new float[kvDim], v = new float[kvDim];
                for (int i = 0; i < kvDim; i++) {
                    // Mix of scales: normal halves, subnormal halves (|x| < 6e-5), overflow to infinity (> 65504).
                    double scale = switch (i % 4) { case 0 -> 1; case 1 -> 1e-6; case 2 -> 1e5; default -> 300; };
                    k[i] = (float) (r.nextGaussian() * scale);
                    v[i] = Float.intBitsToFloat(r.nextInt());
                }
                s.store(0, table, pos, k, 0, v, 0);
                for (int i = 0; i < kvDim; i++) {
                    assertThat(Float.floatToRawIntBits(s.read(true, 0, table, pos, i)))
                            .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(k[i]))));
                    float back = s.read(false, 0, table, pos, i);
                    float expected = Float.float16ToFloat(Float.floatToFloat16(v[i]));
                    if (Float.isNaN(expected)) assertThat(back).isNaN();
                    else assertThat(Float.floatToRawIntBits(back)).isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertThat(PagedKvStore.toBf16(1f)).isEqualTo((short) 0x3f80);
        // 1 + 2^-8 is half-way between 1 and 1 + 2^-7: ties to the even mantissa (1).
        assertThat(PagedKvStore.toBf16(Float.intBitsToFloat(0x3f80_8000))).isEqualTo((short) 0x3f80);
        // 1 + 3·2^-8 is half-way between 1 + 2^-7 (odd) and 1 + 2^-6: ties to even, up.
        assertThat(PagedKvStore.toBf16(Float.intBitsToFloat(0x3f81_8000))).isEqualTo((short) 0x3f82);
        assertThat(PagedKvStore.toBf16(Float.intBitsToFloat(0x3f80_8001))).isEqualTo((short) 0x3f81);
        assertThat(PagedKvStore.toBf16(Float.NaN) & 0x7fff).isGreaterThan(0x7f80);
        assertThat(PagedKvStore.toBf16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7f80);
        assertThat(PagedKvStore.toBf16(-Float.MAX_VALUE)).isEqualTo((short) 0xff80); // rounds up to -infinity
    }

    @Test
    void bytesFollowTheDtype() {
        assertThat(PagedKvStore.bytesPerToken(32, 4096, KvCacheDtype.F32)).isEqualTo(1L << 20);
        assertThat(PagedKvStore.bytesPerToken(32, 4096, KvCacheDtype.F16)).isEqualTo(1L << 19);
        assertThat(PagedKvStore.bytesPerToken(32, 4096, KvCacheDtype.BF16)).isEqualTo(1L << 19);
        try (PagedKvStore s = new PagedKvStore(3, 5, 16, 24, KvCacheDtype.F16)) {
            assertThat(s.bytes()).isEqualTo(5L * 16 * PagedKvStore.bytesPerToken(3, 24, KvCacheDtype.F16));
        }
    }

    @Test
    void aClosedStoreRefusesUseInsteadOfCrashing() {
        PagedKvStore s = new PagedKvStore(1, 1, 4, 8, KvCacheDtype.F16);
        s.close();
        s.close(); // idempotent
        float[] k = new float[8];
        assertThatThrownBy(() -> s.store(0, new int[] {0}, 0, k, 0, k, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void parsesTheSetting() {
        assertThat(KvCacheDtype.parse("auto")).isEqualTo(KvCacheDtype.AUTO);
        assertThat(KvCacheDtype.parse("F16")).isEqualTo(KvCacheDtype.F16);
        assertThat(KvCacheDtype.parse("bf16")).isEqualTo(KvCacheDtype.BF16);
        assertThat(KvCacheDtype.parse("fp32")).isEqualTo(KvCacheDtype.F32);
        assertThatThrownBy(() -> KvCacheDtype.parse("int8")).hasMessageContaining("auto, f16, bf16 or f32");
    }

    @Test
    void readsMemAvailable() {
        long[] m = HostMemory.parseMeminfo(List.of("MemTotal:       24576000 kB", "MemFree:         1000 kB",
                "MemAvailable:   12288000 kB"));
        assertThat(m).containsExactly(24576000L * 1024, 12288000L * 1024);
        assertThat(HostMemory.parseMeminfo(List.of("MemTotal: 1 kB"))).isNull();
        assertThat(HostMemory.availableBytes()).isPositive();
    }
}
