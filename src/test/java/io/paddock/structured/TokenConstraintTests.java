package io.paddock.structured;

import static io.paddock.structured.GrammarTesting.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.bench.ConstraintBench;
import io.paddock.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Token masks on the real vocabularies: agreement with the grammar, EOS, leading spaces, caching. */
class TokenConstraintTests {
    private static final String DOC = ConstraintBench.DOCUMENT;

    private static Grammar benchSchema() {
        return Grammars.compileSchema(json(ConstraintBench.SCHEMA));
    }

    @Test
    void aDocumentReplaysTokenByTokenAndEndsWithOnlyEos() {
        for (Tokenizer t : new Tokenizer[] {TestTokenizers.llama(), TestTokenizers.stories()}) {
            TokenConstraint c = new TokenConstraint(benchSchema(), TokenIndex.of(t), Set.of(t.eosId()));
            int[] ids = t.encode(DOC, false, false);
            for (int id : ids) {
                float[] logits = new float[t.vocabSize()];
                c.mask(logits);
                assertThat(logits[id]).as("token %d %s", id, t.piece(id)).isZero();
                assertThat(logits[t.eosId()]).isEqualTo(Float.NEGATIVE_INFINITY);
                c.accept(id);
            }
            assertThat(c.isAccepting()).isTrue();
            assertThat(c.isTerminal()).isTrue();
            float[] logits = new float[t.vocabSize()];
            c.mask(logits);
            assertThat(allowed(logits)).containsExactly(t.eosId());
            assertThat(new String(c.output(), StandardCharsets.UTF_8)).isEqualTo(DOC).isEqualTo(t.decode(ids));
            c.accept(t.eosId());
            assertThat(c.allows(t.eosId())).isFalse();
        }
    }

    @Test
    void maskAgreesWithTheGrammarForEveryToken() {
        Tokenizer t = TestTokenizers.llama();
        TokenIndex index = TokenIndex.of(t);
        int[] ids = t.encode(DOC, false, false);
        for (int prefix : new int[] {0, 1, 2, 5, 9, 14, 22, ids.length - 3}) {
            // A fresh grammar has an empty cache: allows() then walks the grammar itself.
            TokenConstraint c = new TokenConstraint(benchSchema(), index, Set.of(t.eosId()));
            for (int i = 0; i < prefix; i++) c.accept(ids[i]);
            boolean[] expected = new boolean[t.vocabSize()];
            for (int id = 0; id < t.vocabSize(); id++) expected[id] = naiveAllows(t, c, id, prefix == 0);
            for (int id = 0; id < t.vocabSize(); id++) assertThat(c.allows(id)).isEqualTo(expected[id]);
            float[] logits = new float[t.vocabSize() + 100];
            c.mask(logits);
            for (int id = 0; id < logits.length; id++) {
                boolean open = logits[id] != Float.NEGATIVE_INFINITY;
                assertThat(open).as("prefix %d token %d %s", prefix, id, id < t.vocabSize() ? t.piece(id) : "-")
                        .isEqualTo(id < t.vocabSize() && expected[id]);
                if (id < t.vocabSize()) assertThat(c.allows(id)).isEqualTo(expected[id]); // now from the cache
            }
            assertThat(allowed(logits)).isNotEmpty();
        }
    }

    /** The rule written out plainly: the token's text, the leading space dropped at the start, fed byte by byte. */
    private static boolean naiveAllows(Tokenizer t, TokenConstraint c, int id, boolean atStart) {
        if (id == t.eosId()) return c.isAccepting();
        if (t.isControl(id)) return false;
        byte[] b = t.pieceBytes(id);
        if (atStart && !t.isByte(id) && t.piece(id).startsWith("\u2581")) b = Arrays.copyOfRange(b, 1, b.length);
        if (b.length == 0) return atStart; // a lone "▁", stripped: allowed once under STRIP_FIRST
        GrammarState s = c.state();
        for (byte x : b) {
            s = s.advance(x & 0xFF);
            if (s == null) return false;
        }
        return true;
    }

    @Test
    void theFirstPieceLosesItsLeadingSpaceAsTheDetokenizerDoes() {
        Tokenizer t = TestTokenizers.llama();
        int brace = single(t, "\u2581{");
        int space = single(t, "\u2581");
        Grammar g = Grammars.anyJsonObject();
        assertThat(t.leadingSpace()).isEqualTo(Tokenizer.LeadingSpace.STRIP_FIRST);
        TokenConstraint c = new TokenConstraint(g, TokenIndex.of(t), Set.of(t.eosId()));
        // A lone "▁" first adds nothing (as "▁" then "{" spells "{" where there is no "▁{"); only once.
        TokenConstraint lone = c.copy();
        assertThat(lone.allows(space)).isTrue();
        lone.accept(space);
        assertThat(lone.output()).isEmpty();
        assertThat(lone.allows(space)).isTrue(); // now a real space: leading whitespace
        lone.accept(brace);
        assertThat(new String(lone.output(), StandardCharsets.UTF_8)).isEqualTo(" {")
                .isEqualTo(t.decode(new int[] {space, brace}));
        c.accept(brace);
        assertThat(new String(c.output(), StandardCharsets.UTF_8)).isEqualTo("{");
        int quote = single(t, "\u2581\"");
        c.accept(quote); // now the space stays: whitespace inside the object
        assertThat(new String(c.output(), StandardCharsets.UTF_8)).isEqualTo("{ \"");
        assertThat(t.decode(new int[] {brace, quote})).isEqualTo("{ \"");
        // A tokenizer that keeps every space: the first "▁{" is leading whitespace then the brace.
        Tokenizer keep = TestTokenizers.withLeadingSpace(t, Tokenizer.LeadingSpace.KEEP);
        TokenConstraint k = new TokenConstraint(g, TokenIndex.of(keep), Set.of(t.eosId()));
        assertThat(k.allows(space)).isTrue();
        k.accept(brace);
        assertThat(new String(k.output(), StandardCharsets.UTF_8)).isEqualTo(" {").isEqualTo(keep.decode(new int[] {brace}));
        // A trimming tokenizer strips every "▁" while the text is empty: a lone "▁" could repeat forever, so it is refused.
        Tokenizer trim = TestTokenizers.withLeadingSpace(t, Tokenizer.LeadingSpace.STRIP_WHILE_EMPTY);
        TokenConstraint w = new TokenConstraint(g, TokenIndex.of(trim), Set.of(t.eosId()));
        assertThat(w.allows(space)).isFalse();
        float[] logits = new float[t.vocabSize()];
        w.mask(logits);
        assertThat(logits[space]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(logits[brace]).isZero();
        w.accept(brace);
        assertThat(new String(w.output(), StandardCharsets.UTF_8)).isEqualTo("{").isEqualTo(trim.decode(new int[] {brace}));
        // The byte piece <0x20> is never stripped.
        int byteSpace = single(t, "<0x20>");
        TokenConstraint b = new TokenConstraint(g, TokenIndex.of(t), Set.of(t.eosId()));
        b.accept(byteSpace);
        assertThat(b.allows(brace)).as("a second space in one gap").isFalse();
        int plainBrace = single(t, "{");
        b.accept(plainBrace);
        assertThat(new String(b.output(), StandardCharsets.UTF_8)).isEqualTo(" {").isEqualTo(t.decode(new int[] {byteSpace, plainBrace}));
    }

    @Test
    void controlPiecesOutOfRangeIdsAndRefusedTokensAreNotAllowed() {
        Tokenizer t = TestTokenizers.llama();
        TokenConstraint c = new TokenConstraint(Grammars.anyJsonObject(), TokenIndex.of(t), Set.of(t.eosId()));
        assertThat(c.allows(t.bosId())).isFalse();
        assertThat(c.allows(t.eosId())).isFalse();
        assertThat(c.allows(-1)).isFalse();
        assertThat(c.allows(t.vocabSize())).isFalse();
        int letter = single(t, "a");
        assertThatThrownBy(() -> c.accept(letter)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("json_object");
        float[] logits = new float[t.vocabSize() + 7];
        c.mask(logits);
        for (int i = t.vocabSize(); i < logits.length; i++) assertThat(logits[i]).isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void copiesMoveOnIndependently() {
        Tokenizer t = TestTokenizers.stories();
        TokenConstraint a = new TokenConstraint(Grammars.anyJson(), TokenIndex.of(t), Set.of(t.eosId()));
        for (int id : t.encode("[1", false, false)) a.accept(id);
        TokenConstraint b = a.copy();
        int[] close = t.encode("]", false, false); // "▁]": the space stays, it is not the first piece
        for (int id : close) b.accept(id);
        assertThat(b.isTerminal()).isTrue();
        assertThat(a.isTerminal()).isFalse();
        assertThat(a.isAccepting()).isFalse();
        assertThat(new String(a.output(), StandardCharsets.UTF_8)).isEqualTo("[1");
        assertThat(new String(b.output(), StandardCharsets.UTF_8)).isEqualTo("[1 ]");
    }

    @Test
    void masksAreCachedPerStateAndSharedByConstraintsOfOneGrammar() {
        Tokenizer t = TestTokenizers.llama();
        TokenIndex index = TokenIndex.of(t);
        assertThat(TokenIndex.of(t)).isSameAs(index);
        Grammar g = Grammars.compileSchema(json("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"}},"
                + "\"required\":[\"s\"],\"additionalProperties\":false}"));
        MaskCache cache = index.cacheFor(g);
        TokenConstraint a = new TokenConstraint(g, index, Set.of(t.eosId()));
        float[] logits = new float[t.vocabSize()];
        a.mask(logits);
        assertThat(cache.size()).isEqualTo(1);
        new TokenConstraint(g, index, Set.of(t.eosId())).mask(new float[t.vocabSize()]);
        assertThat(cache.size()).isEqualTo(1);
        for (int id : t.encode("{\"s\": \"once upon a time there was", false, false)) {
            a.accept(id);
            a.mask(new float[t.vocabSize()]);
        }
        int inString = cache.size();
        for (int id : t.encode(" a little girl who liked", false, false)) {
            a.accept(id);
            a.mask(new float[t.vocabSize()]);
        }
        assertThat(cache.size()).isEqualTo(inString); // every step inside the string is the same state
    }

    @Test
    void constraintsOfOneGrammarOnSeveralThreadsShareTheCacheSafely() throws Exception {
        Tokenizer t = TestTokenizers.llama();
        TokenIndex index = TokenIndex.of(t);
        int[] ids = t.encode(DOC, false, false);
        // The masks of one constraint alone, on a grammar of its own.
        java.util.List<float[]> expected = replayMasks(Grammars.compileSchema(json(ConstraintBench.SCHEMA)), index, t, ids);
        Grammar shared = Grammars.compileSchema(json(ConstraintBench.SCHEMA));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<java.util.List<float[]>>>();
            for (int i = 0; i < 8; i++) futures.add(pool.submit(() -> replayMasks(shared, index, t, ids)));
            for (var f : futures) {
                java.util.List<float[]> got = f.get();
                for (int step = 0; step < expected.size(); step++) {
                    assertThat(got.get(step)).as("step %d", step).isEqualTo(expected.get(step));
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    private static java.util.List<float[]> replayMasks(Grammar g, TokenIndex index, Tokenizer t, int[] ids) {
        TokenConstraint c = new TokenConstraint(g, index, Set.of(t.eosId()));
        java.util.List<float[]> masks = new java.util.ArrayList<>();
        for (int id : ids) {
            float[] logits = new float[t.vocabSize()];
            c.mask(logits);
            masks.add(logits);
            c.accept(id);
        }
        return masks;
    }

    private static int single(Tokenizer t, String piece) {
        for (int id = 0; id < t.vocabSize(); id++) if (t.piece(id).equals(piece)) return id;
        throw new AssertionError("no piece " + piece);
    }

    static int[] allowed(float[] logits) {
        return java.util.stream.IntStream.range(0, logits.length)
                .filter(i -> logits[i] != Float.NEGATIVE_INFINITY).toArray();
    }
}
