package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The linked-list/priority-queue merge loop against {@link NaiveBpe}, the rescanning reference, on
 * random texts; exact equality (tolerance: none). Also times a long prompt.
 */
class BpeEncoderTests {
    private static final String[] PARTS = {"a", "e", "i", "o", "t", "n", "s", "h", "r", "the", "and", "ing", "tion", " ", " ", "  ",
        "\n", "\t", ".", ",", "1", "23", "é", "ü", "中", "文", "日本", "😀", "🚀", "ß", "Ω", "the quick", " brown", "Lily", "<s>"};

    @Test
    void scoreMergesMatchTheReferenceOnTheLlamaVocabulary() {
        var t = load(SharedModels.require("llama-tokenizer").resolve("tokenizer.model"));
        assertMatchesReference(t, 400, 1);
    }

    @Test
    void scoreMergesMatchTheReferenceOnTheStoriesVocabulary() {
        var t = load(SharedModels.require("stories260K").resolve("tokenizer.model"));
        assertMatchesReference(t, 400, 2);
    }

    @Test
    void rankMergesMatchTheReferenceOnTokenizerJson() {
        var t = (SentencePieceTokenizer) Tokenizers.loadTokenizerJson(SharedModels.require("stories260K").resolve("tokenizer.json"));
        assertMatchesReference(t, 400, 3);
    }

    @Test
    void longPromptsEncodeQuickly() {
        var t = load(SharedModels.require("llama-tokenizer").resolve("tokenizer.model"));
        String mixed = randomText(new Random(4), 6000);
        var english = new StringBuilder();
        while (english.length() < 18000) {
            english.append("Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ");
            english.append("One day, she saw a big, red ball in the park and asked her mom: \"Can I play with it?\"\n");
        }
        for (String text : new String[] {mixed, english.toString()}) {
            int[] ids = t.encode(text, true, false);
            assertThat(ids.length).isGreaterThan(4000);
            for (int i = 0; i < 30; i++) t.encode(text, true, false); // JIT warm-up
            int reps = 30;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) t.encode(text, true, false);
            double ms = (System.nanoTime() - t0) / 1e6 / reps;
            System.out.printf("[tokenizer] encode %d chars -> %d tokens: %.2f ms (%.0f tokens/ms)%n", text.length(), ids.length, ms, ids.length / ms);
            // Generous bound (a quadratic loop takes seconds here); the printed figure is the measurement.
            assertThat(ms).as("ms per prompt").isLessThan(500);
        }
        String slice = mixed.substring(0, 3000);
        assertThat(t.encode(slice, false, false)).containsExactly(NaiveBpe.encode(t, slice));
    }

    private static void assertMatchesReference(SentencePieceTokenizer t, int count, long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < count; i++) {
            String text = randomText(rnd, 1 + rnd.nextInt(120));
            assertThat(t.encode(text, false, false)).as("'%s'", Golden.show(text)).containsExactly(NaiveBpe.encode(t, text));
        }
    }

    private static String randomText(Random rnd, int parts) {
        var sb = new StringBuilder();
        for (int i = 0; i < parts; i++) sb.append(PARTS[rnd.nextInt(PARTS.length)]);
        return sb.toString();
    }

    private static SentencePieceTokenizer load(Path file) {
        return (SentencePieceTokenizer) Tokenizers.loadSentencePiece(file);
    }
}
