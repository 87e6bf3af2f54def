package io.paddock.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GptqPackingTests {

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void packThenExtractRoundTrips(int bits) {
        SplittableRandom r = new SplittableRandom(bits);
        int count = 96, stride = 5;
        int[] values = new int[count];
        for (int i = 0; i < count; i++) values[i] = r.nextInt(1 << bits);
        int[] words = new int[GptqPacking.wordsFor(count, bits) * stride + 2];
        GptqPacking.pack(values, 0, count, bits, words, 2, stride);
        for (int j = 0; j < count; j++) assertThat(GptqPacking.extract(words, 2, stride, bits, j)).isEqualTo(values[j]);
    }

    @Test
    void threeBitLayoutStraddlesWordsAsAutoGptqDoes() {
        int[] values = new int[32];
        values[10] = 0b111;  // bits 30-31 of word 0 and bit 0 of word 1
        values[21] = 0b101;  // bit 31 of word 1 and bits 0-1 of word 2
        values[0] = 0b011;
        values[31] = 0b110;  // bits 29-31 of word 2
        int[] w = new int[3];
        GptqPacking.pack(values, 0, 32, 3, w, 0, 1);
        assertThat(w[0]).isEqualTo(0b11 << 30 | 0b011);
        assertThat(w[1]).isEqualTo(1 << 31 | 0b1);
        assertThat(w[2]).isEqualTo(0b110 << 29 | 0b10);
    }

    @Test
    void fourBitValuesSitLowestFirst() {
        int[] w = {0x76543210};
        for (int j = 0; j < 8; j++) assertThat(GptqPacking.extract(w, 0, 1, 4, j)).isEqualTo(j);
    }

    @Test
    void rejectsBadInput() {
        assertThatThrownBy(() -> GptqPacking.checkBits(5)).hasMessageContaining("2, 3, 4 or 8");
        assertThatThrownBy(() -> GptqPacking.wordsFor(10, 3)).hasMessageContaining("whole int32 words");
        assertThatThrownBy(() -> GptqPacking.pack(new int[] {16}, 0, 8, 4, new int[1], 0, 1))
                .hasMessageContaining("does not fit");
    }
}
