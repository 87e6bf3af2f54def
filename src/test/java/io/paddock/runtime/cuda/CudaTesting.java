package io.paddock.runtime.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paddock.model.GptqOverrides;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import java.util.List;
import java.util.Optional;

/** Shared helpers for the GPU tests: skip without a device, open fixtures, run prompts. */
final class CudaTesting {
    private CudaTesting() {}

    static final List<String> MODELS = List.of("stories260K", "stories260K-f16", "stories260K-gptq-4bit-32g-actorder",
            "stories260K-gptq-4bit-nogroup", "stories260K-gptq-4bit-64g", "stories260K-gptq-3bit-32g-actorder",
            "stories260K-gptq-8bit-nogroup", "stories260K-gptq-2bit-32g", "stories260K-gptq-legacy-4bit-32g");

    static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401,
            396, 267, 337, 410, 408, 419};

    /** Skips the calling test, with the probe's reason, where no CUDA device can be used. */
    static void requireDevice() {
        Optional<String> why = CudaDevices.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipped: " + why.orElse(""));
    }

    static GptqOverrides overrides(String model) {
        return model.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
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
}
