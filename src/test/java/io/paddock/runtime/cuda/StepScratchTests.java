package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.bench.SyntheticShape;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.cuda.sim.SimulatedDevice;
import org.junit.jupiter.api.Test;

/** The step scratch allocates exactly what the memory plan counts for it (no compiler needed: memory only). */
class StepScratchTests {
    @Test
    void allocatesWhatThePlanCounts() {
        for (SyntheticShape shape : new SyntheticShape[] {SyntheticShape.TINY, SyntheticShape.LLAMA_7B}) {
            var c = GpuMemoryPlanTests.config(shape);
            try (SimulatedDevice device = new SimulatedDevice(); DeviceMemory mem = new DeviceMemory(device)) {
                try (StepScratch s = new StepScratch(mem, c, 37, 5, 90)) {
                    assertThat(mem.bytes()).as(shape.name()).isEqualTo(GpuFootprint.scratchBytes(c, 37, 5, 90));
                }
                assertThat(mem.bytes()).isZero();
                try (StepScratch s = new StepScratch(mem, c, 37, 5, 90, KvCacheDtype.F16)) {
                    assertThat(mem.bytes()).as(shape.name() + " f16 KV").isEqualTo(GpuFootprint.scratchBytes(c, 37, 5, 90)
                            + GpuFootprint.attentionScratchBytes(c, 37, 5, KvCacheDtype.F16)).isGreaterThan(
                            GpuFootprint.scratchBytes(c, 37, 5, 90));
                }
                assertThat(mem.bytes()).isZero();
            }
        }
    }
}
