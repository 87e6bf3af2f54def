package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model effect of int8 activations on the GPTQ fixtures: the same prompt prefilled and then decoded greedily
 * for {@value #STEPS} steps, once with the fp32 kernels and once with every GPTQ call on the int8 path (threshold 1,
 * so decode steps too; native kernel where it runs, else its bit-identical Java twin).
 *
 * <p>Requirements: the prefill logits of the last prompt position differ by at most {@value #LOGIT_TOL} · (1 +
 * max|logit|); the greedy tokens agree for all {@value #STEPS} steps on the 4-bit (32g act-order, no group, legacy)
 * and 8-bit fixtures; where they part (2-bit 32g at step 1, 4-bit 64g at step 20 when measured), fp32's own top-2
 * margin at that step must be within twice the logit tolerance, i.e. the int8 run only flips a near-tie.
 *
 * <p>Why that much: each GPTQ input is rounded to a grid of max|x|/127 per segment (at most 0.4 % of the segment's
 * largest value per input; the segments here are the 32- or 64-input groups, or 64-input rows), on each of seven
 * projections in each of five layers of a 64-wide model with no redundancy to average the errors out; measured
 * 1.3-3.0 % of (1 + max|logit|) on these fixtures (printed by the test), i.e. 0.25-0.44 in logits of 13-21.
 */
class GptqInt8ModelTests {
    private static final int STEPS = 40;
    private static final double LOGIT_TOL = 4e-2;
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338,
        401, 396, 267, 337, 410, 408, 419};

    @AfterEach
    void restore() {
        GptqInt8.reset();
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K-gptq-4bit-32g-actorder", "stories260K-gptq-4bit-nogroup",
            "stories260K-gptq-4bit-64g", "stories260K-gptq-3bit-32g-actorder", "stories260K-gptq-8bit-nogroup",
            "stories260K-gptq-2bit-32g", "stories260K-gptq-legacy-4bit-32g"})
    void greedyTokensMatchTheFp32Kernels(String name) {
        Path dir = SharedModels.require(name);
        GptqOverrides overrides = name.contains("legacy") ? new GptqOverrides(4, 32, null) : GptqOverrides.NONE;
        GptqInt8.Mode int8 = GptqInt8Native.available() && GptqInt8Native.supports(GptqInt8Native.LEVEL, GptqMatrix.LANES)
                ? GptqInt8.Mode.NATIVE : GptqInt8.Mode.JAVA;
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(dir, overrides); Parallel p = new Parallel(2);
             CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
            GptqInt8.configure(GptqInt8.Mode.OFF, 1);
            Run ref = greedy(llama);
            GptqInt8.configure(int8, 1);
            Run got = greedy(llama);
            float max = 0;
            double diff = 0;
            for (int i = 0; i < ref.prefill.length; i++) {
                max = Math.max(max, Math.abs(ref.prefill[i]));
                diff = Math.max(diff, Math.abs(ref.prefill[i] - got.prefill[i]));
            }
            System.out.printf("%s (%s): max |Δlogit| %.5f = %.2e·(1 + max|logit| %.2f); tokens %s%n", name, int8, diff,
                    diff / (1 + max), max, "agree for " + agree(ref.tokens, got.tokens) + " of " + STEPS + " steps");
            assertThat(diff).as("prefill logits").isLessThanOrEqualTo(LOGIT_TOL * (1 + max));
            int n = agree(ref.tokens, got.tokens);
            if (n < STEPS) {
                // The int8 run may only leave the fp32 path at a near-tie: where fp32's own top-2 margin is within
                // the logit noise int8 activations allow.
                System.out.printf("%s: first different token at step %d, fp32 top-2 margin there %.4f%n", name, n,
                        ref.margins[n]);
                assertThat((double) ref.margins[n]).as("fp32 margin at the divergence, step " + n)
                        .isLessThanOrEqualTo(2 * LOGIT_TOL * (1 + max));
            }
            if (!name.contains("2bit") && !name.contains("64g")) assertThat(n).as("steps in agreement").isEqualTo(STEPS);
            // 3-bit stays on fp32: run to run, fp32 logits move by ~1e-5 relative (the Vector API leaves the order of a
            // floating-point lane reduction unspecified, and interpreted and compiled code may sum differently), while
            // the int8 path moves them by ~1e-2 (printed above for the other layouts).
            if (name.contains("3bit")) assertThat(diff).as("3-bit stays on fp32").isLessThanOrEqualTo(1e-4 * (1 + max));
        }
    }

    private record Run(float[] prefill, int[] tokens, float[] margins) {}

    private static Run greedy(CpuLlama llama) {
        PagedKvStore kv = llama.newKvStore(4, 16);
        int[] table = {0, 1, 2, 3};
        float[] logits = llama.forward(kv, List.of(new StepChunk(table, PROMPT, 0, true)))[0];
        float[] prefill = logits.clone();
        int[] tokens = new int[STEPS];
        float[] margins = new float[STEPS];
        for (int s = 0; s < STEPS; s++) {
            tokens[s] = argmax(logits);
            float second = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < logits.length; i++) if (i != tokens[s]) second = Math.max(second, logits[i]);
            margins[s] = logits[tokens[s]] - second;
            logits = llama.forward(kv, List.of(new StepChunk(table, new int[] {tokens[s]}, PROMPT.length + s, true)))[0];
        }
        return new Run(prefill, tokens, margins);
    }

    private static int agree(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && a[n] == b[n]) n++;
        return n;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
