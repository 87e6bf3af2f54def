package io.paddock.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class CandidatesTests {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    // The scalar kernel makes weights bit-identical to ReferenceTruncation's, so kept sets compare exactly.
    private static final ExpKernel SCALAR = new ExpKernel.Scalar();

    private static TreeSet<Integer> kept(float[] logits, float temperature, int topK, float topP, float minP) {
        var c = new Candidates(logits.length, SCALAR);
        if (topK > 0) c.gatherTopK(logits, topK); else c.gatherAll(logits);
        c.softmax(temperature);
        c.topP(topP);
        c.minP(minP);
        var ids = new TreeSet<Integer>();
        for (int i = 0; i < c.size(); i++) ids.add(c.id(i));
        assertThat(ids).as("no duplicates").hasSize(c.size());
        return ids;
    }

    private static double ln(double x) { return Math.log(x); }

    @Test
    void topKKeepsTheKLargest() {
        float[] logits = {1f, 5f, 3f, 4f, 2f};
        assertThat(kept(logits, 1f, 2, 1f, 0f)).containsExactly(1, 3);
        assertThat(kept(logits, 1f, 1, 1f, 0f)).containsExactly(1);
        assertThat(kept(logits, 1f, 5, 1f, 0f)).containsExactly(0, 1, 2, 3, 4);
        assertThat(kept(logits, 1f, 50, 1f, 0f)).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void topKKeepsEveryTokenTiedWithTheKth() {
        float[] logits = {2f, 3f, 2f, 1f, 2f};
        assertThat(kept(logits, 1f, 2, 1f, 0f)).containsExactly(0, 1, 2, 4);
        assertThat(kept(logits, 1f, 1, 1f, 0f)).containsExactly(1);
    }

    @Test
    void topKIgnoresMaskedTokens() {
        float[] logits = {NEG_INF, 1f, NEG_INF, Float.NaN, 0f};
        assertThat(kept(logits, 1f, 3, 1f, 0f)).containsExactly(1, 4);
        assertThat(kept(logits, 1f, 1, 1f, 0f)).containsExactly(1);
    }

    @Test
    void topPKeepsTheTokenThatCrossesTheMass() {
        // probabilities 0.5, 0.3, 0.15, 0.05 (as logs, so softmax gives them back)
        float[] logits = {(float) ln(0.05), (float) ln(0.5), (float) ln(0.15), (float) ln(0.3)};
        assertThat(kept(logits, 1f, 0, 0.49f, 0f)).containsExactly(1);
        assertThat(kept(logits, 1f, 0, 0.51f, 0f)).containsExactly(1, 3);
        assertThat(kept(logits, 1f, 0, 0.79f, 0f)).containsExactly(1, 3);
        assertThat(kept(logits, 1f, 0, 0.81f, 0f)).containsExactly(1, 2, 3);
        assertThat(kept(logits, 1f, 0, 0.96f, 0f)).containsExactly(0, 1, 2, 3);
        assertThat(kept(logits, 1f, 0, 0.01f, 0f)).containsExactly(1);
    }

    @Test
    void topPKeepsTiesWithTheLastKeptToken() {
        float[] uniform = {0f, 0f, 0f, 0f};
        assertThat(kept(uniform, 1f, 0, 0.3f, 0f)).containsExactly(0, 1, 2, 3);
        float[] logits = {3f, 1f, 1f, 1f, -2f};
        // p(0) ≈ 0.77 < 0.8, so the nucleus needs one of the three tied 1s, and keeps all three.
        assertThat(kept(logits, 1f, 0, 0.8f, 0f)).containsExactly(0, 1, 2, 3);
        assertThat(kept(logits, 1f, 0, 0.7f, 0f)).containsExactly(0);
    }

    @Test
    void topPIsRelativeToTheTopKRenormalisedMass() {
        // Top-2 of {0.4, 0.4, 0.2} → {0.5, 0.5} after renormalising; top-p 0.5 then needs one of the tie, keeps both.
        float[] logits = {(float) ln(0.4), (float) ln(0.4), (float) ln(0.2)};
        assertThat(kept(logits, 1f, 2, 0.5f, 0f)).containsExactly(0, 1);
    }

    @Test
    void minPKeepsTokensAtLeastMinPTimesTheTop() {
        float[] logits = {(float) ln(0.5), (float) ln(0.3), (float) ln(0.1), (float) ln(0.05), (float) ln(0.05)};
        assertThat(kept(logits, 1f, 0, 1f, 0.19f)).containsExactly(0, 1, 2);
        assertThat(kept(logits, 1f, 0, 1f, 0.21f)).containsExactly(0, 1);
        assertThat(kept(logits, 1f, 0, 1f, 0.7f)).containsExactly(0);
        assertThat(kept(logits, 1f, 0, 1f, 1f)).containsExactly(0);
        assertThat(kept(logits, 1f, 0, 1f, 0.09f)).containsExactly(0, 1, 2, 3, 4);
        // The comparison is inclusive: min-p 1 keeps every token tied with the most likely one.
        assertThat(kept(new float[] {1f, 1f, 0f}, 1f, 0, 1f, 1f)).containsExactly(0, 1);
    }

    @Test
    void temperatureChangesWhatTopPAndMinPSee() {
        float[] logits = {2f, 1f, 0f};
        // T=1: p ≈ 0.665, 0.245, 0.090. T=0.25: p ≈ 0.982, 0.018, 0.0003.
        assertThat(kept(logits, 1f, 0, 0.9f, 0f)).containsExactly(0, 1);
        assertThat(kept(logits, 0.25f, 0, 0.9f, 0f)).containsExactly(0);
        assertThat(kept(logits, 1f, 0, 1f, 0.1f)).containsExactly(0, 1, 2);
        assertThat(kept(logits, 0.25f, 0, 1f, 0.1f)).containsExactly(0);
    }

    @Test
    void weightsAreSoftmaxOfLogitsOverTemperature() {
        float[] logits = {1f, 2f, 3f};
        var c = new Candidates(3, SCALAR);
        c.gatherAll(logits);
        c.softmax(0.5f);
        double z = Math.exp(-4) + Math.exp(-2) + 1;
        assertThat(c.weight(2) / c.mass()).isCloseTo(1 / z, offset(1e-7));
        assertThat(c.weight(0) / c.mass()).isCloseTo(Math.exp(-4) / z, offset(1e-7));
    }

    @Test
    void drawWalksTheCumulativeDistribution() {
        var c = new Candidates(3, SCALAR);
        c.gatherAll(new float[] {(float) ln(0.2), (float) ln(0.3), (float) ln(0.5)});
        c.softmax(1f);
        assertThat(c.draw(0.0)).isEqualTo(0);
        assertThat(c.draw(0.19)).isEqualTo(0);
        assertThat(c.draw(0.21)).isEqualTo(1);
        assertThat(c.draw(0.49)).isEqualTo(1);
        assertThat(c.draw(0.51)).isEqualTo(2);
        assertThat(c.draw(Math.nextDown(1.0))).isEqualTo(2);
    }

    @Test
    void allMaskedIsAnError() {
        var c = new Candidates(2, SCALAR);
        assertThatThrownBy(() -> c.gatherAll(new float[] {NEG_INF, Float.NaN})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.gatherTopK(new float[] {NEG_INF, NEG_INF}, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sortKeysOrderByWeightDescThenIdAsc() {
        long a = Candidates.sortKey(0.5f, 7);
        long b = Candidates.sortKey(0.5f, 3);
        long c = Candidates.sortKey(0.25f, 0);
        assertThat(b).isGreaterThan(a); // read from the top: lower id first among equal weights
        assertThat(a).isGreaterThan(c);
        assertThat(Candidates.keyId(a)).isEqualTo(7);
        assertThat(Candidates.keyWeight(a)).isEqualTo(0.5f);
        assertThat(Candidates.keyId(Candidates.sortKey(0f, 31999))).isEqualTo(31999);
    }

    /** Parity with the full-sort reference on random logits, with ties and masks sprinkled in. Exact match. */
    @Test
    void matchesTheFullSortReference() {
        var rnd = new SplittableRandom(1234);
        float[] temps = {0.3f, 0.7f, 1f, 1.5f, 2f};
        float[] topPs = {1f, 0.95f, 0.9f, 0.5f, 0.1f};
        float[] minPs = {0f, 0.01f, 0.05f, 0.3f};
        int[] topKs = {0, 1, 5, 40, 200};
        for (int trial = 0; trial < 300; trial++) {
            int vocab = trial % 6 == 0 ? 32000 : 1 + rnd.nextInt(600);
            float[] logits = new float[vocab];
            boolean coarse = rnd.nextBoolean(); // coarse values produce many exact ties
            for (int i = 0; i < vocab; i++) {
                double g = rnd.nextGaussian() * (1 + rnd.nextInt(6));
                logits[i] = coarse ? Math.round(g * 2) / 2f : (float) g;
                if (rnd.nextInt(50) == 0) logits[i] = NEG_INF;
            }
            logits[rnd.nextInt(vocab)] = 3f; // at least one finite logit
            float t = temps[rnd.nextInt(temps.length)];
            int k = topKs[rnd.nextInt(topKs.length)];
            float p = topPs[rnd.nextInt(topPs.length)];
            float m = minPs[rnd.nextInt(minPs.length)];
            assertThat(kept(logits, t, k, p, m))
                    .as("trial %d: vocab %d T %s k %d p %s minP %s", trial, vocab, t, k, p, m)
                    .isEqualTo(ReferenceTruncation.kept(logits, t, k, p, m));
        }
    }
}
