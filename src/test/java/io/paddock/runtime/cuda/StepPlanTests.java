package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.runtime.StepChunk;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepPlanTests {

    @Test
    void rowsTablesAndWantedRows() {
        StepPlan p = StepPlan.of(List.of(
                new StepChunk(new int[] {3, 1}, new int[] {5, 6, 7}, 0, true),
                new StepChunk(new int[] {2}, new int[] {9}, 4, false),
                new StepChunk(new int[] {0, 4}, new int[] {8}, 17, true)), 5, 16, 10, 512);
        assertThat(p.tokens()).containsExactly(5, 6, 7, 9, 8);
        assertThat(p.pos()).containsExactly(0, 1, 2, 4, 17);
        assertThat(p.tables()).containsExactly(3, 1, 2, 0, 4);
        assertThat(p.tableOffset()).containsExactly(0, 0, 0, 2, 3);
        assertThat(p.lastRows()).containsExactly(2, 4);
    }

    @Test
    void validatesOnTheHost() {
        assertThatThrownBy(() -> StepPlan.of(List.of(new StepChunk(new int[] {0}, new int[] {10}, 0, true)), 1, 16, 10, 512))
                .hasMessageContaining("vocabulary");
        assertThatThrownBy(() -> StepPlan.of(List.of(new StepChunk(new int[] {0}, new int[] {1}, 16, true)), 1, 16, 10, 512))
                .hasMessageContaining("no KV block");
        assertThatThrownBy(() -> StepPlan.of(List.of(new StepChunk(new int[] {7}, new int[] {1}, 0, true)), 1, 16, 10, 512))
                .hasMessageContaining("block id 7");
    }

    @Test
    void splitKKeepsTwoUnitsPerWarp() {
        assertThat(CudaKernels.splitK(128, 128, 132)).isEqualTo(3);  // 4096 out, 4096 in: ceil(264/128) = 3
        assertThat(CudaKernels.splitK(2, 2, 132)).isEqualTo(1);      // tiny layer: no split
        assertThat(CudaKernels.splitK(1000, 1000, 132)).isEqualTo(1);
    }

    @Test
    void gemvSplitKGivesTwoBlocksPerSmWhileSlicesKeepEightTiles() {
        assertThat(CudaKernels.gemvSplitK(64, 256, 132)).isEqualTo(5);   // 4096 → 4096: ceil(264/64) = 5
        assertThat(CudaKernels.gemvSplitK(172, 256, 132)).isEqualTo(2);  // 4096 → 11008
        assertThat(CudaKernels.gemvSplitK(1, 24, 132)).isEqualTo(3);     // 384 inputs: at most 24/8 slices
        assertThat(CudaKernels.gemvSplitK(1, 4, 132)).isEqualTo(1);      // tiny layer: no split
        assertThat(CudaKernels.gemvSplitK(500, 256, 132)).isEqualTo(1);
    }
}
