package io.paddock.sampling;

import java.util.Arrays;
import java.util.Map;

/**
 * The logit edits that depend on token history: logit bias, the HF/CTRL repetition penalty (prompt + generated
 * ids) and the OpenAI presence/frequency penalties (generated ids only).
 *
 * <p>History is kept as per-id tables plus a list of the distinct ids seen, so applying a penalty costs
 * O(distinct ids), not O(vocab). Tables exist only for penalties that are switched on.
 */
final class Penalties {
    private final int vocabSize;
    private final int[] biasIds;       // (nBias) ascending
    private final float[] biasValues;  // (nBias) parallel to biasIds

    private final float repetition;    // 1 = off
    private final boolean[] seen;      // (vocab) in prompt or generated; null when repetition is off
    private int[] seenIds = new int[16]; // (seenCount) distinct ids, first-seen order
    private int seenCount;

    private final float presence;
    private final float frequency;
    private final int[] generatedCount;     // (vocab) occurrences among generated ids; null when both are off
    private int[] generatedIds = new int[16]; // (generatedDistinct) distinct generated ids, first-seen order
    private int generatedDistinct;

    Penalties(SamplingParams params, int vocabSize) {
        this.vocabSize = vocabSize;
        Map<Integer, Float> bias = params.logitBias();
        biasIds = bias.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        biasValues = new float[biasIds.length];
        for (int i = 0; i < biasIds.length; i++) biasValues[i] = bias.get(biasIds[i]);

        repetition = params.repetitionPenalty();
        seen = repetition != 1f ? new boolean[vocabSize] : null;
        presence = params.presencePenalty();
        frequency = params.frequencyPenalty();
        generatedCount = presence != 0f || frequency != 0f ? new int[vocabSize] : null;
    }

    /** Records a prompt token: the repetition penalty sees it, presence/frequency do not. */
    void acceptPrompt(int id) {
        checkId(id);
        markSeen(id);
    }

    /** Records a generated (sampled or forced) token. */
    void acceptGenerated(int id) {
        checkId(id);
        markSeen(id);
        if (generatedCount != null && generatedCount[id]++ == 0) {
            if (generatedDistinct == generatedIds.length) generatedIds = Arrays.copyOf(generatedIds, generatedDistinct * 2);
            generatedIds[generatedDistinct++] = id;
        }
    }

    /** Applies bias, then repetition, then presence/frequency, in place. */
    void apply(float[] logits) {
        for (int i = 0; i < biasIds.length; i++) logits[biasIds[i]] += biasValues[i];
        if (seen != null) {
            for (int i = 0; i < seenCount; i++) {
                int id = seenIds[i];
                float l = logits[id];
                // Dividing a positive and multiplying a non-positive logit both make the token less likely.
                logits[id] = l > 0f ? l / repetition : l * repetition;
            }
        }
        if (generatedCount != null) {
            for (int i = 0; i < generatedDistinct; i++) {
                int id = generatedIds[i];
                logits[id] -= presence + frequency * generatedCount[id];
            }
        }
    }

    /** How often {@code id} was generated; 0 when presence/frequency penalties are off (not tracked). */
    int generatedCount(int id) {
        return generatedCount == null ? 0 : generatedCount[id];
    }

    private void markSeen(int id) {
        if (seen == null || seen[id]) return;
        seen[id] = true;
        if (seenCount == seenIds.length) seenIds = Arrays.copyOf(seenIds, seenCount * 2);
        seenIds[seenCount++] = id;
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
    }
}
