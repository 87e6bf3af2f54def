package io.paddock.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTests {

    /** A fixed pseudo-model: logits that depend on the previous token, so sequences can diverge. */
    private static float[] logitsAfter(int previous, int vocab) {
        var rnd = new SplittableRandom(previous * 7919L + 17);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) (rnd.nextGaussian() * 2);
        return logits;
    }

    private static int[] generate(SamplingParams params, int vocab, int n) {
        var sampler = new Sampler(params, vocab);
        int[] out = new int[n];
        int prev = 0;
        for (int i = 0; i < n; i++) prev = out[i] = sampler.sample(logitsAfter(prev, vocab));
        return out;
    }

    @Test
    void greedyIsArgmaxWithTiesToTheLowestId() {
        var s = new Sampler(SamplingParams.greedy(), 5);
        assertThat(s.sample(new float[] {1f, 4f, 2f, 4f, 3f})).isEqualTo(1);
        assertThat(s.sample(new float[] {Float.NEGATIVE_INFINITY, -3f, Float.NaN, -3f, -5f})).isEqualTo(1);
        var topK1 = new Sampler(SamplingParams.builder().topK(1).temperature(1.3f).build(), 3);
        assertThat(topK1.sample(new float[] {0f, 9f, 9f})).isEqualTo(1);
    }

    @Test
    void greedySeesPenaltiesAndBias() {
        var s = new Sampler(SamplingParams.builder().temperature(0f).logitBias(Map.of(2, 5f)).build(), 3);
        assertThat(s.sample(new float[] {1f, 3f, -1f})).isEqualTo(2);
        var rep = new Sampler(SamplingParams.builder().temperature(0f).repetitionPenalty(2f).build(), 3);
        rep.acceptPrompt(new int[] {1});
        assertThat(rep.sample(new float[] {1.6f, 3f, -1f})).isEqualTo(0);
        var freq = new Sampler(SamplingParams.builder().temperature(0f).frequencyPenalty(1f).build(), 2);
        assertThat(freq.sample(new float[] {1f, 2.5f})).isEqualTo(1);
        assertThat(freq.sample(new float[] {1f, 2.5f})).isEqualTo(1); // 2.5 - 1 = 1.5 still wins
        assertThat(freq.sample(new float[] {1f, 2.5f})).isEqualTo(0); // 2.5 - 2 = 0.5 loses
    }

    @Test
    void acceptKeepsPenaltyCountsConsistent() {
        var s = new Sampler(SamplingParams.builder().temperature(0f).presencePenalty(2f).build(), 2);
        s.accept(1); // forced token
        assertThat(s.sample(new float[] {1f, 2.5f})).isEqualTo(0);
    }

    @Test
    void sameSeedGivesTheSame200Tokens() {
        var params = SamplingParams.builder().temperature(1f).topP(0.95f).topK(50).minP(0.01f).seed(42L).build();
        int[] a = generate(params, 1000, 200);
        int[] b = generate(params, 1000, 200);
        assertThat(a).isEqualTo(b);
        assertThat(Arrays.stream(a).distinct().count()).as("actually random").isGreaterThan(20);
    }

    @Test
    void differentSeedsDiffer() {
        var a = generate(SamplingParams.builder().seed(1L).build(), 1000, 200);
        var b = generate(SamplingParams.builder().seed(2L).build(), 1000, 200);
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void unseededSamplersPickTheirOwnSeed() {
        var a = new Sampler(SamplingParams.builder().build(), 10);
        var b = new Sampler(SamplingParams.builder().build(), 10);
        assertThat(a.seed()).isNotEqualTo(b.seed());
        assertThat(new Sampler(SamplingParams.builder().seed(7L).build(), 10).seed()).isEqualTo(7L);
        // Replaying an unseeded sampler's seed reproduces it.
        int[] first = new int[50];
        for (int i = 0; i < 50; i++) first[i] = a.sample(logitsAfter(i, 10));
        var replay = new Sampler(SamplingParams.builder().seed(a.seed()).build(), 10);
        for (int i = 0; i < 50; i++) assertThat(replay.sample(logitsAfter(i, 10))).isEqualTo(first[i]);
    }

    /**
     * Frequencies of 200,000 draws match softmax(logits / T). Seeded, so deterministic; the tolerance (0.005
     * absolute) is at least 4.5 standard deviations for every probability here.
     */
    @Test
    void sampledFrequenciesMatchSoftmaxOverTemperature() {
        float[] logits = {2f, 1f, 0.5f, 0f, -1f, -3f};
        for (float t : new float[] {0.5f, 1f, 1.7f}) {
            var s = new Sampler(SamplingParams.builder().temperature(t).seed(2024L).build(), logits.length);
            int n = 200_000;
            int[] counts = new int[logits.length];
            for (int i = 0; i < n; i++) counts[s.sample(logits.clone())]++;
            double z = 0;
            for (float l : logits) z += Math.exp(l / t);
            for (int id = 0; id < logits.length; id++) {
                double expected = Math.exp(logits[id] / t) / z;
                assertThat((double) counts[id] / n).as("T=%s id=%d", t, id).isCloseTo(expected, offset(0.005));
            }
        }
    }

    @Test
    void sampledFrequenciesAfterTopKMatchTheRenormalisedSoftmax() {
        float[] logits = {2f, 1f, 0.5f, 0f, -1f};
        var s = new Sampler(SamplingParams.builder().topK(3).seed(99L).build(), logits.length);
        int n = 100_000;
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) counts[s.sample(logits.clone())]++;
        double z = Math.exp(2) + Math.exp(1) + Math.exp(0.5);
        assertThat(counts[3] + counts[4]).isZero();
        assertThat((double) counts[0] / n).isCloseTo(Math.exp(2) / z, offset(0.006));
        assertThat((double) counts[2] / n).isCloseTo(Math.exp(0.5) / z, offset(0.006));
    }

    @Test
    void truncatedTokensAreNeverDrawn() {
        float[] logits = {3f, 2.9f, 0f, -1f, -1f};
        var s = new Sampler(SamplingParams.builder().topP(0.6f).seed(5L).build(), logits.length);
        for (int i = 0; i < 2000; i++) assertThat(s.sample(logits.clone())).isIn(0, 1);
        var m = new Sampler(SamplingParams.builder().minP(0.5f).temperature(2f).seed(5L).build(), logits.length);
        for (int i = 0; i < 2000; i++) assertThat(m.sample(logits.clone())).isIn(0, 1);
    }

    @Test
    void logprobsAreTheLogSoftmaxAfterPenaltiesBeforeTemperature() {
        float[] logits = {1f, 3f, 2f, 0f, 2f};
        var params = SamplingParams.builder().temperature(0.3f).topK(2).logitBias(Map.of(3, 1f)).logprobs(3).seed(1L).build();
        Sample sample = new Sampler(params, logits.length).sampleWithLogprobs(logits.clone());
        double lse = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(1) + Math.exp(2));
        assertThat(sample.logprob()).isCloseTo((float) (new float[] {1f, 3f, 2f, 1f, 2f}[sample.token()] - lse), offset(1e-5f));
        assertThat(sample.topIds()).containsExactly(1, 2, 4); // tie between 2 and 4: lower id first
        assertThat(sample.topLogprobs()[0]).isCloseTo((float) (3 - lse), offset(1e-5f));
        assertThat(sample.topLogprobs()[1]).isEqualTo(sample.topLogprobs()[2]);
        // The same logits at another temperature report the same logprobs.
        var hot = params.toBuilder().temperature(1.9f).topK(0).build();
        Sample other = new Sampler(hot, logits.length).sampleWithLogprobs(logits.clone());
        assertThat(other.topLogprobs()).containsExactly(sample.topLogprobs());
    }

    @Test
    void logprobsOverTheWholeVocabularyNormalise() {
        int vocab = 32000;
        float[] logits = logitsAfter(3, vocab);
        var s = new Sampler(SamplingParams.builder().logprobs(20).seed(3L).build(), vocab);
        Sample sample = s.sampleWithLogprobs(logits.clone());
        double lse = new Logprobs(20, new ExpKernel.Scalar()).logSumExp(logits);
        double total = 0;
        for (float l : logits) total += Math.exp(l - lse);
        assertThat(total).isCloseTo(1.0, offset(1e-9));
        assertThat(sample.topIds()).hasSize(20);
        for (int i = 1; i < 20; i++) assertThat(sample.topLogprobs()[i]).isLessThanOrEqualTo(sample.topLogprobs()[i - 1]);
        assertThat(sample.topLogprobs()[0]).isCloseTo((float) (logits[Sampler.argmax(logits)] - lse), offset(1e-5f));
        assertThat(sample.logprob()).isLessThanOrEqualTo(0f).isCloseTo((float) (logits[sample.token()] - lse), offset(1e-5f));
        // Top-20 are really the 20 largest.
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        assertThat(logits[sample.topIds()[19]]).isEqualTo(sorted[vocab - 20]);
    }

    @Test
    void logprobsZeroMeansChosenTokenOnlyAndMinusOneMeansNone() {
        float[] logits = {0f, 1f};
        Sample zero = new Sampler(SamplingParams.builder().temperature(0f).logprobs(0).build(), 2).sampleWithLogprobs(logits.clone());
        assertThat(zero.hasLogprob()).isTrue();
        assertThat(zero.logprob()).isCloseTo((float) -Math.log1p(Math.exp(-1)), offset(1e-6f));
        assertThat(zero.topIds()).isEmpty();
        Sample none = new Sampler(SamplingParams.greedy(), 2).sampleWithLogprobs(logits.clone());
        assertThat(none.token()).isEqualTo(1);
        assertThat(none.hasLogprob()).isFalse();
        assertThat(none.topIds()).isEmpty();
    }

    @Test
    void sampleWithLogprobsRecordsTheTokenLikeSample() {
        var s = new Sampler(SamplingParams.builder().temperature(0f).presencePenalty(2f).logprobs(1).build(), 2);
        assertThat(s.sampleWithLogprobs(new float[] {1f, 2.5f}).token()).isEqualTo(1);
        assertThat(s.sampleWithLogprobs(new float[] {1f, 2.5f}).token()).isEqualTo(0);
    }

    @Test
    void wrongLogitsLengthOrAllMaskedIsRejected() {
        var s = new Sampler(SamplingParams.builder().build(), 3);
        assertThatThrownBy(() -> s.sample(new float[2])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3");
        float ninf = Float.NEGATIVE_INFINITY;
        assertThatThrownBy(() -> s.sample(new float[] {ninf, ninf, ninf})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Sampler(SamplingParams.greedy(), 3).sample(new float[] {ninf, ninf, ninf}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void maskedLogitsAreNeverSampled() {
        float ninf = Float.NEGATIVE_INFINITY;
        var s = new Sampler(SamplingParams.builder().temperature(2f).seed(11L).build(), 4);
        for (int i = 0; i < 1000; i++) assertThat(s.sample(new float[] {ninf, 0f, ninf, -5f})).isIn(1, 3);
    }

    @Test
    void steadyStateSamplingDoesNotAllocatePerToken() {
        var mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof ThreadMXBean);
        var threads = (ThreadMXBean) mx;
        int vocab = 32000;
        float[] logits = logitsAfter(1, vocab);
        float[] work = new float[vocab];
        // Top-k keeps the top-p sort small: Arrays.sort may allocate a run table above 4096 keys.
        var s = new Sampler(SamplingParams.builder().topK(50).topP(0.9f).minP(0.01f).repetitionPenalty(1.15f)
                .frequencyPenalty(0.3f).seed(1L).build(), vocab);
        s.acceptPrompt(new int[] {1, 2, 3});
        // Warm-up: buffers, and C2 for the Vector API loop (interpreted vector code allocates its vectors).
        for (int i = 0; i < 1000; i++) { System.arraycopy(logits, 0, work, 0, vocab); s.sample(work); }
        // Background JIT may lag on a busy machine, so the best of several rounds counts.
        long perToken = Long.MAX_VALUE;
        for (int round = 0; round < 20 && perToken >= 256; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 500; i++) { System.arraycopy(logits, 0, work, 0, vocab); s.sample(work); }
            perToken = Math.min(perToken, (threads.getCurrentThreadAllocatedBytes() - before) / 500);
        }
        assertThat(perToken).isLessThan(256);
    }
}
