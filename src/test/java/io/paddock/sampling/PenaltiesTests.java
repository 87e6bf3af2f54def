package io.paddock.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PenaltiesTests {
    private static final float EPS = 1e-6f;

    private static float[] apply(Penalties p, float... logits) {
        float[] copy = logits.clone();
        p.apply(copy);
        return copy;
    }

    @Test
    void logitBiasIsAdditive() {
        var p = new Penalties(SamplingParams.builder().logitBias(Map.of(1, 2.5f, 3, -100f)).build(), 4);
        assertThat(apply(p, 1f, 1f, 1f, 1f)).containsExactly(new float[] {1f, 3.5f, 1f, -99f}, offset(EPS));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNonPositiveOverPromptAndGenerated() {
        var p = new Penalties(SamplingParams.builder().repetitionPenalty(2f).build(), 6);
        p.acceptPrompt(0);
        p.acceptPrompt(1);
        p.acceptPrompt(1); // repeats count once: the penalty is per distinct id
        p.acceptGenerated(2);
        p.acceptGenerated(3);
        float[] out = apply(p, 4f, -4f, 0f, 3f, 4f, -4f);
        assertThat(out).containsExactly(2f, -8f, 0f, 1.5f, 4f, -4f);
    }

    @Test
    void airoborosRepetitionPenalty() {
        var p = new Penalties(SamplingParams.builder().repetitionPenalty(1.15f).build(), 3);
        p.acceptPrompt(0);
        p.acceptPrompt(1);
        float[] out = apply(p, 2.3f, -1f, 5f);
        assertThat(out[0]).isCloseTo(2f, offset(EPS));
        assertThat(out[1]).isCloseTo(-1.15f, offset(EPS));
        assertThat(out[2]).isEqualTo(5f);
    }

    @Test
    void presenceAndFrequencySeeOnlyGeneratedTokens() {
        var p = new Penalties(SamplingParams.builder().presencePenalty(0.5f).frequencyPenalty(0.25f).build(), 5);
        p.acceptPrompt(0);
        p.acceptPrompt(0);
        p.acceptGenerated(1);
        p.acceptGenerated(2);
        p.acceptGenerated(2);
        p.acceptGenerated(2);
        float[] out = apply(p, 1f, 1f, 1f, 1f, 1f);
        // id 1: 1 - (0.5 + 0.25*1); id 2: 1 - (0.5 + 0.25*3); prompt-only id 0 untouched.
        assertThat(out).containsExactly(1f, 0.25f, -0.25f, 1f, 1f);
        assertThat(p.generatedCount(2)).isEqualTo(3);
        assertThat(p.generatedCount(0)).isZero();
    }

    @Test
    void negativePenaltiesEncourageRepeats() {
        var p = new Penalties(SamplingParams.builder().presencePenalty(-1f).frequencyPenalty(-0.5f).build(), 2);
        p.acceptGenerated(1);
        p.acceptGenerated(1);
        assertThat(apply(p, 0f, 0f)).containsExactly(0f, 2f);
    }

    @Test
    void biasComesBeforeRepetitionPenalty() {
        // Bias turns -1 into +3; the repetition penalty then divides (positive) rather than multiplies.
        var p = new Penalties(SamplingParams.builder().logitBias(Map.of(0, 4f)).repetitionPenalty(2f).build(), 1);
        p.acceptPrompt(0);
        assertThat(apply(p, -1f)).containsExactly(1.5f);
    }

    @Test
    void repetitionComesBeforePresenceAndFrequency() {
        var p = new Penalties(SamplingParams.builder().repetitionPenalty(2f).presencePenalty(1f).build(), 1);
        p.acceptGenerated(0);
        assertThat(apply(p, 4f)).containsExactly(1f); // 4 / 2 - 1, not (4 - 1) / 2
    }

    @Test
    void outOfVocabularyIdsAreRejected() {
        var p = new Penalties(SamplingParams.builder().build(), 3);
        assertThatThrownBy(() -> p.acceptPrompt(3)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> p.acceptGenerated(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
