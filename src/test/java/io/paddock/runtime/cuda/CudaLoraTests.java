package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.lora.LoraAdapter;
import io.paddock.lora.LoraModule;
import io.paddock.lora.LoraPair;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.DeviceMemoryReport;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.runtime.cpu.Parallel;
import io.paddock.runtime.cuda.sim.SimulatedDevice;
import io.paddock.testing.SharedModels;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmerged LoRA on the CUDA runtime (simulated device here, the real one under scripts/gpu-check), against the CPU
 * runtime on merged weights {@code W + scale·B·A}: two adapters in two slots and a base-model chunk in one step,
 * prefill then decode, logits per chunk within the parity tolerance of CudaRuntimeParityTests
 * ({@link CudaTesting#logitRel}·(1 + max|logit|): 1e-3, or 4e-3 with tiled layers' fp16 activations). Adapter 1 adapts all seven modules of every layer but layer 2 (rank 8); adapter 2 only
 * q_proj and v_proj (rank 4, below the reserved 8), so slots mix ranks and modules one slot lacks.
 */
class CudaLoraTests {
    private static final int BLOCK = 16;
    private static final int[][] PROMPTS = {CudaTesting.PROMPT, {1, 403, 407, 261, 378, 432, 383, 286, 261, 376},
            {1, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419}};
    private static final int[] SLOTS = {1, 0, 2};
    private static final int[] NEXT = {300, 301, 302};

    static LoraAdapter all(LlamaConfig c) {
        return LoraTesting.random("all-but-layer-2", c, 11, 8, 16, EnumSet.allOf(LoraModule.class), l -> l != 2, 0.5f);
    }

    static LoraAdapter qv(LlamaConfig c) {
        return LoraTesting.random("qv", c, 12, 4, 8, EnumSet.of(LoraModule.Q, LoraModule.V), l -> true, 0.8f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-padded", "stories260K-gptq-4bit-32g-actorder"})
    void twoAdaptersAndTheBaseModelInOneStepMatchMergedWeightsOnTheCpu(String model) {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require(model), CudaTesting.overrides(model));
             Arena arena = Arena.ofShared();
             Parallel p = new Parallel(2)) {
            LlamaWeights base = ckpt.weights();
            float rel = CudaTesting.logitRel(base);
            LlamaConfig c = base.config();
            LoraAdapter a1 = all(c), a2 = qv(c);
            List<LlamaWeights> refWeights = List.of(LoraTesting.merged(base, a1, arena), base, LoraTesting.merged(base, a2, arena));

            // The reference: each chunk alone on the CPU with its merged weights; prefill, then one decode step.
            float[][][] want = new float[3][2][];
            for (int k = 0; k < 3; k++) want[k] = cpu(refWeights.get(k), p, PROMPTS[k], NEXT[k]);
            float[][] bare = cpu(base, p, PROMPTS[0], NEXT[0]);

            GpuDevice device = CudaTesting.device();
            try (CudaRuntime gpu = new CudaRuntime(base, device)) {
                gpu.reserveStep(64, 4, BLOCK);
                gpu.reserveAdapters(2, 8);
                gpu.loadAdapter(1, a1);
                gpu.loadAdapter(2, a2);
                try (CudaKvStore kv = gpu.newKvStore(12, BLOCK)) {
                    int[][] tables = {{3, 0}, {5}, {1, 7}};
                    List<StepChunk> prefill = new ArrayList<>(), decode = new ArrayList<>();
                    for (int k = 0; k < 3; k++) {
                        prefill.add(new StepChunk(tables[k], PROMPTS[k], 0, true, SLOTS[k]));
                        decode.add(new StepChunk(tables[k], new int[] {NEXT[k]}, PROMPTS[k].length, true, SLOTS[k]));
                    }
                    long shrinks = launches(device, "lora_shrink");
                    float[][] got0 = gpu.forward(kv, prefill);
                    // One launch per adapted module, whatever slots it serves: adapter 1's seven modules in every
                    // layer but layer 2 (adapter 2's q and v ride along), in layer 2 adapter 2's q and v alone.
                    if (device instanceof SimulatedDevice) {
                        assertThat(launches(device, "lora_shrink") - shrinks).isEqualTo((c.numLayers() - 1) * 7L + 2);
                    }
                    float[][] got1 = gpu.forward(kv, decode);
                    for (int k = 0; k < 3; k++) {
                        assertClose(model + " prefill chunk " + k + " (slot " + SLOTS[k] + ")", got0[k], want[k][0], rel);
                        assertClose(model + " decode chunk " + k + " (slot " + SLOTS[k] + ")", got1[k], want[k][1], rel);
                    }
                    // The adapter matters: far beyond the tolerance from the bare model.
                    float tol = 1e-3f * (1 + CudaTesting.maxAbs(bare[0]));
                    assertThat(maxDiff(want[0][0], bare[0])).as("adapter 1 moves the logits").isGreaterThan(50 * tol);

                    // A base-only step launches no LoRA kernel, even with adapters loaded.
                    long before = launches(device, "lora_shrink") + launches(device, "lora_expand");
                    float[] baseAgain = gpu.forward(kv, List.of(new StepChunk(tables[1], PROMPTS[1], 0, true)))[0];
                    assertThat(launches(device, "lora_shrink") + launches(device, "lora_expand")).isEqualTo(before);
                    assertClose(model + " base-only step", baseAgain, want[1][0], rel);
                }
            }
        }
    }

    /** Empty, unload and reload: a step naming an empty slot is refused; after a reload the slot serves again. */
    @Test
    void unloadedSlotsAreRefusedAndReloadsServe() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K-padded"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights())) {
            LlamaConfig c = ckpt.weights().config();
            gpu.reserveStep(32, 2, BLOCK);
            gpu.reserveAdapters(2, 8);
            gpu.loadAdapter(2, qv(c));
            try (CudaKvStore kv = gpu.newKvStore(4, BLOCK)) {
                StepChunk one = new StepChunk(new int[] {0}, PROMPTS[1], 0, true, 2);
                float[] first = gpu.forward(kv, List.of(one))[0];
                assertThatThrownBy(() -> gpu.forward(kv, List.of(new StepChunk(new int[] {1}, PROMPTS[1], 0, true, 1))))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage("LoRA slot 1 is empty");
                assertThatThrownBy(() -> gpu.forward(kv, List.of(new StepChunk(new int[] {1}, PROMPTS[1], 0, true, 3))))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("LoRA slot 3 is not reserved (slots 1..2)");
                gpu.unloadAdapter(2);
                assertThatThrownBy(() -> gpu.forward(kv, List.of(one))).hasMessage("LoRA slot 2 is empty");
                gpu.loadAdapter(2, all(c));
                gpu.loadAdapter(2, qv(c));   // replaces: every module of the first one must be gone
                assertThat(gpu.forward(kv, List.of(one))[0]).containsExactly(first);
            }
        }
    }

    @Test
    void adaptersThatDoNotFitTheModelAreRefusedNamingLayerModuleAndShapes() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K-padded"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights())) {
            LlamaConfig c = ckpt.weights().config();   // hidden 64, q 64, kv 32, ff 192
            LoraAdapter noSlots = qv(c);
            assertThatThrownBy(() -> gpu.loadAdapter(1, noSlots)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("LoRA slot 1 is not reserved (no slots)");
            gpu.reserveAdapters(2, 8);
            assertThatThrownBy(() -> gpu.loadAdapter(3, noSlots)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("LoRA slot 3 is not reserved (slots 1..2)");
            assertThatThrownBy(() -> gpu.loadAdapter(0, noSlots)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("LoRA slot 0 is not reserved (slots 1..2)");
            assertThatThrownBy(() -> gpu.unloadAdapter(5)).isInstanceOf(IllegalArgumentException.class);

            LoraPair wide = new LoraPair(4, 72, 64, new float[4 * 72], new float[64 * 4], 2f);
            assertThatThrownBy(() -> gpu.loadAdapter(1, LoraTesting.single("bad", c, 0, LoraModule.Q, wide)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("LoRA adapter 'bad', layer 0 q_proj: lora_A [4, 72] and lora_B [64, 4] do not fit the "
                            + "model's q_proj of 64 inputs and 64 outputs (expected lora_A [r, 64], lora_B [64, r])");
            LoraPair kTall = new LoraPair(4, 64, 64, new float[4 * 64], new float[64 * 4], 2f);
            assertThatThrownBy(() -> gpu.loadAdapter(1, LoraTesting.single("k", c, 4, LoraModule.K, kTall)))
                    .hasMessageStartingWith("LoRA adapter 'k', layer 4 k_proj: lora_A [4, 64] and lora_B [64, 4]")
                    .hasMessageContaining("k_proj of 64 inputs and 32 outputs");
            LoraPair deep = new LoraPair(16, 192, 64, new float[16 * 192], new float[64 * 16], 1f);
            assertThatThrownBy(() -> gpu.loadAdapter(2, LoraTesting.single("deep", c, 3, LoraModule.DOWN, deep)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("LoRA adapter 'deep', layer 3 down_proj: rank 16 (lora_A [16, 192], lora_B [64, 16]) "
                            + "exceeds the reserved maximum rank 8");
            LoraPair[][] shortPairs = new LoraPair[3][7];
            shortPairs[0][0] = new LoraPair(2, 64, 64, new float[128], new float[128], 1f);
            LoraAdapter threeLayers = new LoraAdapter("short", null,
                    new io.paddock.lora.AdapterConfig(2, 2, Set.of(LoraModule.Q), false, null), shortPairs);
            assertThatThrownBy(() -> gpu.loadAdapter(1, threeLayers))
                    .hasMessage("LoRA adapter 'short' has 3 layers, the model 5");
        }
    }

    /** The slots' device memory is what the plan says, is taken from the KV pool, and shows in the metrics. */
    @Test
    void reservedSlotsAreInThePlanTheAllocationAndTheMetrics() {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require("stories260K-padded"));
             CudaRuntime gpu = CudaTesting.runtime(ckpt.weights())) {
            LlamaConfig c = ckpt.weights().config();
            gpu.reserveStep(64, 4, BLOCK);
            GpuMemoryPlan without = gpu.memoryPlan();
            long held = gpu.deviceBytes();
            DeviceMemoryReport r0 = gpu.deviceMemory().orElseThrow();
            gpu.reserveAdapters(3, 16);
            GpuMemoryPlan with = gpu.memoryPlan();
            // Per slot at rank 16: 4 · 16 · 5 layers · Σ(in + out) = (64+64) + 2·(64+32) + (64+64) + 2·(64+192)
            // + (192+64) = 1,216 → 389,120, plus rank and scale 2 · 4 · 7 · 5 = 280: 389,400. Three slots 1,168,200;
            // per step 64 rows · (1 + 16) · 4 = 4,352. 1,172,552 in all.
            assertThat(GpuFootprint.adapterSlotBytes(c, 16)).isEqualTo(389_400L);
            assertThat(with.adapterBytes()).isEqualTo(1_172_552L);
            assertThat(with.adapters()).isEqualTo(new GpuMemoryPlan.Adapters(3, 16));
            assertThat(gpu.deviceBytes() - held).isEqualTo(with.adapterBytes());
            // What the slots take comes out of the KV pool or the headroom, nothing else moves.
            assertThat(with.kvBytes() + with.adapterBytes() + with.headroomBytes())
                    .isEqualTo(without.kvBytes() + without.headroomBytes());
            assertThat(with.scratchBytes()).isEqualTo(without.scratchBytes());
            assertThat(with.headroomBytes()).isNotNegative();
            assertThat(with.summary()).contains("+ LoRA adapters 1.1 MiB (3 slots, rank ≤ 16) + KV");
            DeviceMemoryReport r1 = gpu.deviceMemory().orElseThrow();
            assertThat(r1.weightsBytes() - r0.weightsBytes()).isEqualTo(3 * 389_400L);
            assertThat(r1.scratchBytes() - r0.scratchBytes()).isEqualTo(4_352L);
            assertThat(r1.kvCacheBytes()).isZero();

            // A later reserveStep re-plans with the slots and re-sizes their step buffers.
            gpu.reserveStep(32, 4, BLOCK);
            assertThat(gpu.memoryPlan().adapterBytes()).isEqualTo(3 * 389_400L + 32 * 17 * 4);
            assertThat(gpu.deviceMemory().orElseThrow().kvCacheBytes()).isZero();
            // A throw-away KV store before the reservation (LoadedModel.warmUp makes one) does not stop it.
            try (CudaKvStore kv = gpu.newKvStore(2, BLOCK)) {
                gpu.reserveAdapters(1, 8);
                assertThat(gpu.memoryPlan().adapters()).isEqualTo(new GpuMemoryPlan.Adapters(1, 8));
            }
        }
    }

    private static float[][] cpu(LlamaWeights w, Parallel p, int[] prompt, int next) {
        try (CpuLlama cpu = CudaTesting.cpuReference(w, p)) {
            var kv = cpu.newKvStore(2, BLOCK);
            float[] a = cpu.forward(kv, List.of(new StepChunk(new int[] {0, 1}, prompt, 0, true)))[0];
            float[] b = cpu.forward(kv, List.of(new StepChunk(new int[] {0, 1}, new int[] {next}, prompt.length, true)))[0];
            return new float[][] {a, b};
        }
    }

    private static long launches(GpuDevice d, String kernel) {
        return d instanceof SimulatedDevice s ? s.launches(kernel) : 0;
    }

    private static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static void assertClose(String what, float[] got, float[] ref, float rel) {
        float tol = rel * (1 + CudaTesting.maxAbs(ref));
        float worst = maxDiff(got, ref);
        System.out.printf("%s: max |Δlogit| = %.3g (tolerance %.3g)%n", what, worst, tol);
        assertThat(worst).as("%s: %s vs %s", what, Arrays.toString(Arrays.copyOf(got, 4)), Arrays.toString(Arrays.copyOf(ref, 4)))
                .isLessThanOrEqualTo(tol);
    }
}
