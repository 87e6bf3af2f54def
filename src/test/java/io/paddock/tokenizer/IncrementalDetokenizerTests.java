package io.paddock.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Streaming decode: the pushes plus the flush always equal decode(), and no push splits a character. */
class IncrementalDetokenizerTests {

    @Test
    void streamEqualsDecodeForRandomIdSequences() {
        for (String model : new String[] {"llama-tokenizer", "stories260K"}) {
            Tokenizer t = Tokenizers.loadSentencePiece(SharedModels.require(model).resolve("tokenizer.model"));
            Random rnd = new Random(11);
            for (int i = 0; i < 3000; i++) {
                int[] ids = new int[rnd.nextInt(30)];
                for (int k = 0; k < ids.length; k++) {
                    // Byte pieces (3..258) often, so characters split and break across pushes.
                    ids[k] = rnd.nextInt(3) == 0 ? 3 + rnd.nextInt(256) : rnd.nextInt(t.vocabSize());
                }
                if (rnd.nextBoolean() && ids.length > 0) ids[0] = t.bosId();
                assertStreamsLikeDecode(t, ids);
            }
        }
    }

    @Test
    void emojiAndCjkSplitOverBytePiecesStreamWhole() {
        Tokenizer t = Tokenizers.loadSentencePiece(SharedModels.require("stories260K").resolve("tokenizer.model"));
        String text = "Lily saw 🙂🚀 and 中文 日本語, then 👨‍👩‍👧 went home.\n";
        for (boolean bos : new boolean[] {false, true}) {
            int[] ids = t.encode(text, bos, false);
            var d = new IncrementalDetokenizer(t);
            var sb = new StringBuilder();
            int held = 0;
            for (int id : ids) {
                String part = d.push(id);
                if (part.isEmpty() && t.isByte(id)) held++;
                sb.append(part);
            }
            assertThat(d.flush()).isEmpty();
            assertThat(sb.toString()).isEqualTo(text).isEqualTo(t.decode(ids));
            assertThat(held).as("pushes that held back an incomplete character").isGreaterThan(10);
        }
    }

    @Test
    void firstTextPieceLosesTheDummyPrefixSpaceEvenAfterBos() {
        Tokenizer t = Tokenizers.loadSentencePiece(SharedModels.require("llama-tokenizer").resolve("tokenizer.model"));
        int hello = t.encode("Hello", false, false)[0];
        var d = new IncrementalDetokenizer(t);
        assertThat(d.push(t.bosId())).isEmpty();
        assertThat(d.push(hello)).isEqualTo("Hello");
        assertThat(d.push(hello)).isEqualTo(" Hello");
        assertThat(d.push(t.eosId())).isEmpty();
        assertThat(d.push(hello)).isEqualTo(" Hello");
    }

    @Test
    void unfinishedCharacterFlushesAsReplacementCharacters() {
        Tokenizer t = Tokenizers.loadSentencePiece(SharedModels.require("llama-tokenizer").resolve("tokenizer.model"));
        int[] ids = {byteId(t, 0xF0), byteId(t, 0x9F), byteId(t, 0x98)}; // 3 of the 4 bytes of 😀
        var d = new IncrementalDetokenizer(t);
        for (int id : ids) assertThat(d.push(id)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD\uFFFD\uFFFD").isEqualTo(t.decode(ids));
        // A byte that cannot continue the character releases it at once.
        var d2 = new IncrementalDetokenizer(t);
        assertThat(d2.push(byteId(t, 0xE4))).isEmpty();
        assertThat(d2.push(byteId(t, 0x41))).isEqualTo("\uFFFDA");
    }

    private static int byteId(Tokenizer t, int b) {
        for (int id = 0; id < t.vocabSize(); id++) if (t.isByte(id) && (t.pieceBytes(id)[0] & 0xFF) == b) return id;
        throw new AssertionError("no byte piece for " + b);
    }

    private static void assertStreamsLikeDecode(Tokenizer t, int[] ids) {
        var d = new IncrementalDetokenizer(t);
        var sb = new StringBuilder();
        for (int id : ids) {
            String part = d.push(id);
            assertWholeCharacters(part);
            sb.append(part);
        }
        String tail = d.flush();
        assertWholeCharacters(tail);
        assertThat(sb.append(tail).toString()).as(Arrays.toString(ids)).isEqualTo(t.decode(ids));
    }

    private static void assertWholeCharacters(String s) {
        // A broken character would show up as a lone surrogate, which does not survive a UTF-8 round trip.
        assertThat(new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(s);
    }
}
