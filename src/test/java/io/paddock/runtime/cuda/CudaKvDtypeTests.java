package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaConfig;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.SharedModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CUDA runtime's KV element type: f16 by default, f32 on request, bf16 refused; bytes follow the type. */
class CudaKvDtypeTests {
    @Test
    void f16ByDefaultF32OnRequestAndTheMemoryFollows() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K"), CudaTesting.overrides("stories260K"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights())) {
            LlamaConfig c = gpu.config();
            long f16Token = 2L * c.numLayers() * c.kvDim() * 2;
            assertThat(gpu.kvCacheDtype()).isEqualTo(KvCacheDtype.F16);
            assertThat(gpu.kvBytesPerToken()).isEqualTo(f16Token);
            assertThat(gpu.memoryPlan().kv().dtype()).isEqualTo(KvCacheDtype.F16);
            long f16Scratch = gpu.memoryPlan().scratchBytes(), f16Held = gpu.deviceBytes();
            try (CudaKvStore kv = gpu.newKvStore(4, 16)) {
                assertThat(kv.dtype()).isEqualTo(KvCacheDtype.F16);
                assertThat(kv.bytes()).isEqualTo(4 * 16 * f16Token);
                assertThat(gpu.deviceBytes()).isEqualTo(f16Held + kv.bytes());
            }
            gpu.useKvCacheDtype(KvCacheDtype.F32);
            assertThat(gpu.kvCacheDtype()).isEqualTo(KvCacheDtype.F32);
            assertThat(gpu.kvBytesPerToken()).isEqualTo(2 * f16Token);
            // The fp32 kernels need no attention buffers: the plan and the allocation drop them together.
            long attention = GpuFootprint.attentionScratchBytes(c, gpu.memoryPlan().step().maxRows(),
                    gpu.memoryPlan().scratchWanted(), KvCacheDtype.F16);
            assertThat(attention).isPositive();
            assertThat(gpu.memoryPlan().scratchBytes()).isEqualTo(f16Scratch - attention);
            assertThat(gpu.deviceBytes()).isEqualTo(f16Held - attention);
            try (CudaKvStore kv = gpu.newKvStore(4, 16)) {
                assertThat(kv.dtype()).isEqualTo(KvCacheDtype.F32);
                assertThat(kv.bytes()).isEqualTo(4 * 16 * 2 * f16Token);
            }
            gpu.useKvCacheDtype(KvCacheDtype.AUTO);
            assertThat(gpu.kvCacheDtype()).isEqualTo(KvCacheDtype.F16);
            assertThat(gpu.deviceBytes()).isEqualTo(f16Held);
        }
    }

    @Test
    void bf16IsRefusedNamingTheSettingAndNothingChanges() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K"), CudaTesting.overrides("stories260K"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights())) {
            assertThatThrownBy(() -> gpu.useKvCacheDtype(KvCacheDtype.BF16)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("paddock.engine.kv-cache-dtype=bf16 is not supported here (use auto, f16 or f32)");
            assertThat(gpu.kvCacheDtype()).isEqualTo(KvCacheDtype.F16);
        }
    }

    @Test
    void anF16StoreNeedsTheF16Scratch() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K"), CudaTesting.overrides("stories260K"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights());
             CudaKvStore kv = gpu.newKvStore(2, 16)) {
            gpu.useKvCacheDtype(KvCacheDtype.F32);
            assertThatThrownBy(() -> gpu.forward(kv, List.of(new StepChunk(new int[] {0}, new int[] {1, 2}, 0, true))))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("make the store after useKvCacheDtype");
        }
    }
}
