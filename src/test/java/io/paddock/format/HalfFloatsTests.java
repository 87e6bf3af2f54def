package io.paddock.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfFloatsTests {

    @Test
    void bf16IsTheUpperHalfRoundedToNearestEven() {
        assertThat(HalfFloats.floatToBf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.bf16ToFloat((short) 0x3F80)).isEqualTo(1.0f);
        assertThat(HalfFloats.bf16ToFloat((short) 0xC000)).isEqualTo(-2.0f);
        // 1 + 2^-8 is exactly half-way between two bf16 values: ties go to the even one (1.0)
        assertThat(HalfFloats.floatToBf16(1.0f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        // 1 + 3*2^-8 is half-way too: the even neighbour is 1 + 2^-6
        assertThat(HalfFloats.floatToBf16(1.0f + 3 * 0x1p-8f)).isEqualTo((short) 0x3F82);
        assertThat(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN)))).isTrue();
        assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY)))
                .isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void bf16RoundTripErrorIsWithinHalfAnUlp() {
        // tolerance: bf16 keeps 8 significant bits; half an ulp is at most 2^-8 * |x|
        Random r = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            float x = (float) r.nextGaussian() * 100;
            float y = HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(x));
            assertThat(Math.abs(x - y)).isLessThanOrEqualTo(Math.abs(x) * 0x1p-8f);
        }
    }

    @Test
    void f16MatchesTheJdk() {
        assertThat(HalfFloats.floatToF16(1.0f)).isEqualTo((short) 0x3C00);
        assertThat(HalfFloats.f16ToFloat((short) 0x3C00)).isEqualTo(1.0f);
        assertThat(HalfFloats.f16ToFloat((short) 0x7BFF)).isEqualTo(65504f);
    }
}
