package io.paddock.runtime.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.model.GptqLinear;
import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cuda.sim.SimSettings;
import io.paddock.runtime.cuda.sim.SimulatedDevice;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Shared helpers for the GPU tests: the device to run on, fixtures, prompts. The same tests run on a real GPU
 * (scripts/gpu-check) and, everywhere else (CI), on the simulated device that executes the same .cu sources on the
 * CPU; {@code -Dpaddock.gpu.device=sim|cuda} forces one.
 */
final class CudaTesting {
    private CudaTesting() {}

    static final List<String> MODELS = List.of("stories260K", "stories260K-f16", "stories260K-padded",
            "stories260K-gptq-4bit-32g-actorder",
            "stories260K-gptq-4bit-nogroup", "stories260K-gptq-4bit-64g", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-8bit-nogroup", "stories260K-gptq-2bit-32g", "stories260K-gptq-legacy-4bit-32g");

    static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
            396, 267, 337, 410, 408, 419};

    /** Skips the calling test, with the probe's reason, where no real CUDA device can be used. */
    static void requireDevice() {
        Optional<String> why = CudaDevices.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: needs the real CUDA driver: " + why.orElse(""));
    }

    /** Whether the tests run on the real device: one is present and the simulated one is not forced. */
    static boolean realDevice() {
        String forced = System.getProperty("paddock.gpu.device", "");
        if (forced.equals("sim")) return false;
        if (forced.equals("cuda")) return true;
        return CudaDevices.unavailableReason().isEmpty();
    }

    /**
     * Device 0 through the driver where there is one, else a simulated H100-like device (132 SMs, so the runtime
     * picks split-K as it would there); skips only where neither exists (no driver and no g++).
     */
    static GpuDevice device() {
        return device(SimSettings::h100_80gb);
    }

    /** The real device, or the simulated one {@code simulated} describes (built only where it is used). */
    static GpuDevice device(Supplier<SimSettings> simulated) {
        if (realDevice()) {
            requireDevice();
            return JCudaDevice.open(CudaOptions.fromSystemProperties());
        }
        Optional<String> why = SimulatedDevice.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: no CUDA driver and no simulated device: " + why.orElse(""));
        return new SimulatedDevice(simulated.get());
    }

    /** A runtime for {@code weights} on {@link #device()}. */
    static CudaRuntime runtime(LlamaWeights weights) {
        return new CudaRuntime(weights, device());
    }

    /** A runtime for {@code weights} on {@link #device()} with its KV cache in {@code dtype}. */
    static CudaRuntime runtime(LlamaWeights weights, io.paddock.runtime.KvCacheDtype dtype) {
        CudaRuntime rt = runtime(weights);
        try {
            rt.useKvCacheDtype(dtype);
        } catch (RuntimeException e) {
            rt.close();
            throw e;
        }
        return rt;
    }

    static GptqOverrides overrides(String model) {
        return model.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Whether some layer of {@code w} runs through gptq_gemv_tiled (fp16 activations). */
    static boolean tiled(LlamaWeights w) {
        return w.layers().stream().flatMap(l -> Stream.of(l.q(), l.k(), l.v(), l.o(), l.gate(), l.up(), l.down()))
                .anyMatch(lin -> lin instanceof GptqLinear g && GptqTileLayout.eligible(g));
    }

    /**
     * The relative logit tolerance against the CPU runtime, times (1 + max|logit|): 1e-3 with fp32 activations
     * (summation order only); 4e-3 where some layer runs on the tiled kernels (the gptq_gemv_tiled entries at 2, 3,
     * 4 and 8 bits, gptq_mma_gemm at 4),
     * which round their inputs and the dequantized weights to fp16 (2⁻¹¹ relative each instead of fp32's 2⁻²⁴).
     * Measured worst with tiled layers on the simulated device and an f32 KV cache, relative to (1 + max|logit|):
     * 1.2e-3 (CudaLoraTests, 4-bit act-order with two adapters: 0.0168 at 1 + max|logit| = 14.3), 0.74e-3 (the
     * fixture parity, 4bit-nogroup), 0.21e-3 (CudaRuntimeShapesTests); with the f16 KV cache on both sides, whose
     * one-fp16-ulp flips (an element whose two fp32 values straddle a rounding boundary) add up to ~0.6e-3 on their
     * own: 3.3e-3 (CudaLoraTests, same model). The tiled 8-, 2- and 3-bit fixtures (CudaRuntimeParityTests
     * prefill): 0.55e-3 / 1.35e-3 / 0.72e-3 with f32 KV, 0.95e-3 / 2.8e-3 / 1.4e-3 with f16 KV.
     */
    static float logitRel(LlamaWeights w) {
        return tiled(w) ? 4e-3f : 1e-3f;
    }

    static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** Prefill of {@code prompt} then {@code steps} greedy decode steps; returns the generated tokens. */
    static int[] greedy(ModelRuntime rt, int[] prompt, int steps, int blockSize) {
        int blocks = Math.ceilDiv(prompt.length + steps, blockSize);
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) table[i] = i;
        var kv = rt.newKvStore(blocks, blockSize);
        int[] out = new int[steps];
        float[] logits = rt.forward(kv, List.of(new StepChunk(table, prompt, 0, true)))[0];
        for (int s = 0; s < steps; s++) {
            out[s] = argmax(logits);
            if (s + 1 < steps) {
                logits = rt.forward(kv, List.of(new StepChunk(table, new int[] {out[s]}, prompt.length + s, true)))[0];
            }
        }
        if (kv instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /**
     * The CPU runtime the GPU is compared with: its KV cache in f16 like the CUDA runtime's default. Both round keys
     * and values to nearest even when they store them (Float.floatToFloat16, cvt.rn.f16.f32), so the two attend over
     * identical K/V and differ only in fp32 summation order, as with f32 KV on both sides.
     */
    static io.paddock.runtime.cpu.CpuLlama cpuReference(io.paddock.model.LlamaWeights w,
            io.paddock.runtime.cpu.Parallel p) {
        return cpuReference(w, p, io.paddock.runtime.KvCacheDtype.F16);
    }

    /** The CPU reference with its KV cache in {@code dtype} (f16 or f32, to match the GPU runtime's). */
    static io.paddock.runtime.cpu.CpuLlama cpuReference(io.paddock.model.LlamaWeights w,
            io.paddock.runtime.cpu.Parallel p, io.paddock.runtime.KvCacheDtype dtype) {
        var cpu = new io.paddock.runtime.cpu.CpuLlama(w, p);
        cpu.useKvCacheDtype(dtype);
        return cpu;
    }
}
