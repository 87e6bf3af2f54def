package io.paddock.structured;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.tokenizer.Tokenizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The vocabulary trie holds every text and byte token once, under its bytes, and no control piece. */
class TokenIndexTests {
    @Test
    void everyTokenSitsUnderItsBytesExactlyOnce() {
        for (Tokenizer t : new Tokenizer[] {TestTokenizers.stories(), TestTokenizers.llama()}) {
            TokenIndex ix = TokenIndex.of(t);
            assertThat(ix.vocabSize()).isEqualTo(t.vocabSize());
            int[] seen = new int[t.vocabSize()];
            walk(ix, 0, new byte[0], t, seen);
            for (int id = 0; id < t.vocabSize(); id++) {
                boolean expected = !t.isControl(id) && t.pieceBytes(id).length > 0;
                assertThat(seen[id]).as("token %d %s", id, t.piece(id)).isEqualTo(expected ? 1 : 0);
            }
            assertThat(ix.bytes(t.bosId())).isNull();
            assertThat(ix.bytes(t.vocabSize())).isNull();
            assertThat(ix.nodeCount()).isGreaterThan(t.vocabSize() / 2);
        }
    }

    private static void walk(TokenIndex ix, int node, byte[] path, Tokenizer t, int[] seen) {
        for (int i = ix.tokenStart[node]; i < ix.tokenStart[node + 1]; i++) {
            int id = ix.tokenIds[i];
            assertThat(t.pieceBytes(id)).isEqualTo(path);
            seen[id]++;
        }
        for (int e = ix.childStart[node]; e < ix.childStart[node + 1]; e++) {
            byte[] next = Arrays.copyOf(path, path.length + 1);
            next[path.length] = ix.childByte[e];
            walk(ix, ix.childNode[e], next, t, seen);
        }
    }
}
