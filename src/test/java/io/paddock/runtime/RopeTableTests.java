package io.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The table against the closed form, within fp32 angle rounding (|angle| * 2^-23 plus a few ulps). */
class RopeTableTests {
    @Test
    void anglesFollowThetaPowerLaw() {
        int headDim = 64, half = headDim / 2;
        RopeTable t = RopeTable.create(headDim, 2048, 10000.0);
        assertThat(t.maxPositions()).isEqualTo(2048);
        assertThat(t.cos()).hasSize(2048 * half);
        for (int pos : new int[] {0, 1, 5, 100, 2047}) {
            for (int i = 0; i < half; i++) {
                double angle = pos * Math.pow(10000.0, -2.0 * i / headDim);
                double tol = Math.abs(angle) * 0x1p-22 + 1e-6;
                assertThat((double) t.cos()[pos * half + i]).isCloseTo(Math.cos(angle), within(tol));
                assertThat((double) t.sin()[pos * half + i]).isCloseTo(Math.sin(angle), within(tol));
            }
        }
        assertThat(t.cos()[0]).isEqualTo(1f);
        assertThat(t.sin()[0]).isEqualTo(0f);
    }

    @Test
    void rejectsOddHeadDim() {
        assertThatThrownBy(() -> RopeTable.create(7, 4, 10000.0)).isInstanceOf(IllegalArgumentException.class);
    }
}
