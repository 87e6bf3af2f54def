package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KvSizingTests {

    @Test
    void floorOfTheFractionOfFreeBytes() {
        // 7B-shaped: 32 layers × 4096 kvDim × 2 × 4 bytes = 1 MiB per token; 16-token blocks = 16 MiB.
        long perToken = 2L * 32 * 4096 * 4;
        long free = 40L << 30;
        assertThat(KvSizing.blocks(free, 0.9, 16, perToken, 4096)).isEqualTo((int) Math.floor(0.9 * free / (16.0 * perToken)));
        assertThat(KvSizing.blocks(free, 1.0, 16, perToken, 4096)).isEqualTo(2560);
    }

    @Test
    void roundsDown() {
        assertThat(KvSizing.blocks(1000, 1.0, 10, 9, 1)).isEqualTo(11); // 1000 / 90 = 11.1
    }

    @Test
    void atLeastOneFullContext() {
        assertThat(KvSizing.blocks(0, 0.9, 16, 1024, 4096)).isEqualTo(256);
        assertThat(KvSizing.blocks(-5, 0.9, 16, 1024, 4097)).isEqualTo(257);
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> KvSizing.blocks(1, 0, 16, 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KvSizing.blocks(1, 1.5, 16, 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KvSizing.blocks(1, 0.5, 0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
