package io.paddock.runtime.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.model.GptqOverrides;
import io.paddock.model.LlamaCheckpoint;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.runtime.StepChunk;
import io.paddock.testing.SharedModels;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole-model parity of the KV-cache element type: greedy decoding with the f16 (and bf16) cache against the f32
 * cache, {@value #TOKENS} tokens after a 24-token prompt, on an fp32, an fp16 and a GPTQ fixture. Logits are compared
 * step by step on the same token sequence (the f32 run's): f16 keeps 11 significant bits of each cached key and
 * value (relative rounding error up to 2^-11 ≈ 4.9e-4), which moves a logit by at most 2e-3 · (1 + max|logit|) here
 * (measured: 0.022–0.025 with max|logit| ≈ 22; bf16, 8 bits: 1.5e-2 · (1 + max|logit|), measured 0.15); the largest
 * difference is printed. On the 4-bit GPTQ fixture the f16 run parts from the f32 one at token 65, where the f32
 * run's top two logits are 1.2e-4 apart. Greedy tokens are equal for at least
 * the stated number of tokens (all 200 on the fp32 and fp16 fixtures), and where they part it must be at a near tie:
 * the f32 run's top two logits closer than the logit bound.
 */
class KvCacheDtypeModelTests {
    static final int TOKENS = 200;
    private static final int[] PROMPT = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
            338, 401, 396, 267, 337, 410, 408, 419};

    @ParameterizedTest
    @CsvSource({"stories260K,F16,2e-3,200", "stories260K-f16,F16,2e-3,200",
            "stories260K-gptq-4bit-32g-actorder,F16,2e-3,64", "stories260K,BF16,1.5e-2,64"})
    void greedyTokensEqualThoseOfTheF32Cache(String name, KvCacheDtype dtype, float tolerance, int equalAtLeast) {
        try (LlamaCheckpoint ckpt = LlamaCheckpoint.open(SharedModels.require(name), GptqOverrides.NONE);
             Parallel p = new Parallel(2);
             CpuLlama llama = new CpuLlama(ckpt.weights(), p)) {
            assertThat(llama.kvCacheDtype()).as("default").isEqualTo(KvCacheDtype.F16);
            Run f32 = greedy(llama, KvCacheDtype.F32, null);
            Run half = greedy(llama, dtype, f32.tokens);
            float bound = tolerance * (1 + f32.maxAbs), diff = half.maxDiffTo(f32);
            int parted = -1;
            for (int t = 0; t < TOKENS && parted < 0; t++) if (half.tokens[t] != f32.tokens[t]) parted = t;
            System.out.printf("%s, %s KV vs f32 KV: greedy tokens equal for %s, max |Δlogit| %.3g (bound %.3g)%s%n",
                    name, dtype.label(), parted < 0 ? "all " + TOKENS : "the first " + parted, diff, bound,
                    parted < 0 ? "" : String.format(", f32 top-2 margin there %.3g", f32.margin(parted)));
            assertThat(diff).isLessThanOrEqualTo(bound);
            if (parted >= 0) {
                assertThat(parted).as("greedy tokens equal at least").isGreaterThanOrEqualTo(equalAtLeast);
                assertThat(f32.margin(parted)).as("a near tie where they part").isLessThanOrEqualTo(2 * diff);
            }
        }
    }

    private record Run(int[] tokens, float[][] logits, float maxAbs) {
        /** Top logit minus the runner-up at step {@code t}. */
        float margin(int t) {
            float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
            for (float v : logits[t]) {
                if (v > a) { b = a; a = v; } else if (v > b) b = v;
            }
            return a - b;
        }

        float maxDiffTo(Run o) {
            float m = 0;
            for (int s = 0; s < logits.length; s++) {
                for (int i = 0; i < logits[s].length; i++) m = Math.max(m, Math.abs(logits[s][i] - o.logits[s][i]));
            }
            return m;
        }
    }

    /** Greedy decode of TOKENS tokens; with {@code forced}, feeds those tokens instead (same sequence, comparable logits). */
    private static Run greedy(CpuLlama llama, KvCacheDtype dtype, int[] forced) {
        llama.useKvCacheDtype(dtype);
        int total = PROMPT.length + TOKENS;
        int blocks = Math.ceilDiv(total, 16);
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) table[i] = blocks - 1 - i; // scattered, reversed blocks
        int[] out = new int[TOKENS];
        float[][] logits = new float[TOKENS][];
        float maxAbs = 0;
        try (PagedKvStore kv = llama.newKvStore(blocks, 16)) {
            assertThat(kv.dtype()).isEqualTo(dtype);
            float[] l = llama.forward(kv, List.of(new StepChunk(table, PROMPT, 0, true)))[0];
            for (int t = 0; t < TOKENS; t++) {
                logits[t] = l;
                for (float v : l) maxAbs = Math.max(maxAbs, Math.abs(v));
                out[t] = argmax(l);
                int next = forced != null ? forced[t] : out[t];
                if (t + 1 < TOKENS) {
                    l = llama.forward(kv, List.of(new StepChunk(table, new int[] {next}, PROMPT.length + t, true)))[0];
                }
            }
        } finally {
            llama.useKvCacheDtype(KvCacheDtype.AUTO);
        }
        return new Run(out, logits, maxAbs);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

}
