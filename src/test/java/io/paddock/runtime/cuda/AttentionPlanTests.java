package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.runtime.StepChunk;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a step's rows split between the fp16 decode and prefill attention kernels. */
class AttentionPlanTests {
    private static StepPlan plan(StepChunk... chunks) {
        return StepPlan.of(List.of(chunks), 64, 16, 100, 4096);
    }

    @Test
    void singleRowChunksDecodeLongerChunksAreCutIntoTilesPerChunk() {
        // rows: chunk A (1 row, decode), chunk B (20 rows), chunk C (1 row), chunk D (3 rows)
        StepPlan p = plan(new StepChunk(new int[] {0, 1}, new int[] {5}, 20, true),
                new StepChunk(new int[] {2, 3}, new int[20], 3, true),
                new StepChunk(new int[] {4}, new int[] {7}, 0, false),
                new StepChunk(new int[] {5, 6}, new int[3], 15, true));
        // group 2: 8 rows per tile (16 query vectors); tiles never cross a chunk boundary
        AttentionPlan a = AttentionPlan.of(p, 2);
        assertThat(a.decodeRows()).containsExactly(0, 21);
        assertThat(a.tiles()).containsExactly(1, 8, 9, 8, 17, 4, 22, 3);
        // group 8: 2 rows per tile; group 16: 1
        assertThat(AttentionPlan.of(p, 8).tileCount()).isEqualTo(10 + 2);
        assertThat(AttentionPlan.of(p, 16).tileCount()).isEqualTo(23);
        assertThat(AttentionPlan.of(p, 1).tiles()).containsExactly(1, 16, 17, 4, 22, 3);
    }

    @Test
    void twoChunksOfOneRowNeverMerge() {
        // Two sequences decoding at consecutive positions: different tables, so two decode rows, not a tile.
        AttentionPlan a = AttentionPlan.of(plan(new StepChunk(new int[] {0}, new int[] {1}, 4, true),
                new StepChunk(new int[] {1}, new int[] {1}, 5, true)), 4);
        assertThat(a.decodeRows()).containsExactly(0, 1);
        assertThat(a.tileCount()).isZero();
    }

    @Test
    void groupsBeyondSixteenQueryHeadsAreRefused() {
        assertThatThrownBy(() -> AttentionPlan.tileRows(17)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..16 query heads per kv head, got 17");
    }
}
