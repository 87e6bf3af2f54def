package io.paddock.structured;

import io.paddock.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Set;

/**
 * Applies a {@link Grammar} to one generated sequence, token by token: {@link #mask} removes every token that
 * cannot continue a valid output, {@link #accept} moves on. Not thread-safe: one per sequence ({@link #copy} for
 * a fork).
 *
 * <p>The bytes fed to the grammar are those the detokenizer prints for the tokens: a text piece that starts with
 * "▁" loses that space where decoding strips it at the start of the text (the tokenizer's
 * {@link Tokenizer.LeadingSpace} rule), and a byte-fallback piece is its one raw byte (so a character may be
 * split across tokens; the grammar validates UTF-8 byte by byte). Tokens that would add no byte at all are not
 * allowed (control pieces; a lone "▁" that is stripped, except once under {@code STRIP_FIRST}), so a sequence
 * cannot stall without output. End-of-sequence
 * ids are allowed exactly when the output so far is complete, and are the only ones left once nothing may follow.
 *
 * <p>Masks are computed by walking the vocabulary trie from the current state, pruning a subtree as soon as the
 * state dies, and are cached per state in a cache that every constraint of the same grammar and vocabulary shares.
 */
public final class TokenConstraint {
    private final Grammar grammar;
    private final TokenIndex index;
    private final MaskCache cache;
    private final int[] eosIds;
    private final int maskBits;
    private final int[] spaceNotStrippable; // tokens starting with a space that decoding never strips
    private GrammarState state;
    private boolean finished;
    // The detokenizer's leading-space state (see IncrementalDetokenizer).
    private boolean expectLeadingSpace = true;
    private boolean leadingSpaceConsumed;
    private boolean emitted;
    private byte[] output = new byte[64];
    private int outputLength;

    /**
     * A constraint at the start of a sequence.
     *
     * @param grammar what the output must be
     * @param index   the vocabulary of the model's tokenizer ({@link TokenIndex#of})
     * @param eosIds  the ids that end the sequence (the tokenizer's EOS, a chat template's end-of-turn): allowed
     *                exactly when the output is complete
     */
    public TokenConstraint(Grammar grammar, TokenIndex index, Set<Integer> eosIds) {
        this.grammar = grammar;
        this.index = index;
        this.cache = index.cacheFor(grammar);
        this.eosIds = eosIds.stream().mapToInt(Integer::intValue).filter(i -> i >= 0).sorted().toArray();
        int bits = index.vocabSize();
        for (int e : this.eosIds) bits = Math.max(bits, e + 1);
        this.maskBits = bits;
        this.spaceNotStrippable = spaceNotStrippable(index);
        this.state = grammar.start();
    }

    private TokenConstraint(TokenConstraint o) {
        this.grammar = o.grammar;
        this.index = o.index;
        this.cache = o.cache;
        this.eosIds = o.eosIds;
        this.maskBits = o.maskBits;
        this.spaceNotStrippable = o.spaceNotStrippable;
        this.state = o.state;
        this.finished = o.finished;
        this.expectLeadingSpace = o.expectLeadingSpace;
        this.leadingSpaceConsumed = o.leadingSpaceConsumed;
        this.emitted = o.emitted;
        this.output = Arrays.copyOf(o.output, o.output.length);
        this.outputLength = o.outputLength;
    }

    private static int[] spaceNotStrippable(TokenIndex index) {
        int node = index.rootChild(' ');
        if (node < 0) return new int[0];
        return Arrays.stream(collect(index, node)).filter(id -> !index.strippable(id)).toArray();
    }

    private static int[] collect(TokenIndex ix, int node) {
        int[] out = new int[16];
        int n = 0;
        int[] todo = {node};
        int top = 1;
        while (top > 0) {
            int x = todo[--top];
            for (int t = ix.tokenStart[x]; t < ix.tokenStart[x + 1]; t++) {
                if (n == out.length) out = Arrays.copyOf(out, n * 2);
                out[n++] = ix.tokenIds[t];
            }
            for (int e = ix.childStart[x]; e < ix.childStart[x + 1]; e++) {
                if (top == todo.length) todo = Arrays.copyOf(todo, top * 2);
                todo[top++] = ix.childNode[e];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Sets {@link Float#NEGATIVE_INFINITY} on every logit whose token may not come next (ids past the vocabulary too). */
    public void mask(float[] logits) {
        long[] m = currentMask();
        int n = Math.min(logits.length, maskBits);
        for (int w = 0; w << 6 < n; w++) {
            long blocked = ~m[w];
            int base = w << 6;
            if (blocked == -1L) {
                Arrays.fill(logits, base, Math.min(base + 64, n), Float.NEGATIVE_INFINITY);
                continue;
            }
            while (blocked != 0) {
                int i = base + Long.numberOfTrailingZeros(blocked);
                if (i >= n) break;
                logits[i] = Float.NEGATIVE_INFINITY;
                blocked &= blocked - 1;
            }
        }
        for (int i = n; i < logits.length; i++) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        if (finished || token < 0) return false;
        if (isEos(token)) return state.isAccepting();
        byte[] b = index.bytes(token);
        if (b == null) return false;
        long[] m = cache.get(new MaskCache.Key(state, stripNext()));
        if (m != null) return (m[token >>> 6] & 1L << token) != 0;
        return feed(state, b, strips(token), emptyAllowed()) != null;
    }

    /**
     * Moves past {@code token}.
     *
     * @throws IllegalStateException when the token may not come next
     */
    public void accept(int token) {
        if (!allows(token)) {
            throw new IllegalStateException("token " + token + " may not come next under " + grammar.describe()
                    + (finished ? " (the sequence has ended)" : ""));
        }
        if (isEos(token)) {
            finished = true;
            return;
        }
        byte[] b = index.bytes(token);
        boolean strip = false;
        if (index.isByte(token)) {
            state = feed(state, b, false, false);
        } else {
            strip = strips(token);
            if (leadingSpaceConsumed || emitted) expectLeadingSpace = false;
            state = feed(state, b, strip, emptyAllowed());
            leadingSpaceConsumed = strip && index.leadingSpace() == Tokenizer.LeadingSpace.STRIP_FIRST;
        }
        int from = strip ? 1 : 0;
        int n = b.length - from;
        if (n > 0) emitted = true;
        if (outputLength + n > output.length) output = Arrays.copyOf(output, Math.max(output.length * 2, outputLength + n));
        System.arraycopy(b, from, output, outputLength, n);
        outputLength += n;
    }

    /** The UTF-8 bytes the grammar has read so far: the detokenized text of the accepted tokens. */
    public byte[] output() {
        return Arrays.copyOf(output, outputLength);
    }

    /** The output so far is complete: end-of-sequence is allowed. */
    public boolean isAccepting() {
        return !finished && state.isAccepting();
    }

    /** The output is complete and nothing may follow: only end-of-sequence is allowed (or it has come). */
    public boolean isTerminal() {
        return finished || state.isTerminal();
    }

    /** An independent constraint in the same position. */
    public TokenConstraint copy() {
        return new TokenConstraint(this);
    }

    /** The grammar state after the bytes so far. */
    public GrammarState state() {
        return state;
    }

    private boolean isEos(int token) {
        return Arrays.binarySearch(eosIds, token) >= 0;
    }

    /** Whether a text piece starting with "▁" would lose that space if it came next. */
    private boolean stripNext() {
        return index.leadingSpace() != Tokenizer.LeadingSpace.KEEP && expectLeadingSpace
                && !leadingSpaceConsumed && !emitted;
    }

    private boolean strips(int token) {
        return index.strippable(token) && stripNext();
    }

    /**
     * A lone "▁" that decoding strips adds nothing. With {@link Tokenizer.LeadingSpace#STRIP_FIRST} that happens at
     * most once (a tokenizer without "▁{" spells "{" as "▁" then "{"), so it is allowed; with
     * {@link Tokenizer.LeadingSpace#STRIP_WHILE_EMPTY} it could repeat forever, so it is not.
     */
    private boolean emptyAllowed() {
        return index.leadingSpace() == Tokenizer.LeadingSpace.STRIP_FIRST;
    }

    /**
     * The state after the token's bytes (without the first when stripped), or null; a token that adds nothing is
     * refused unless {@code emptyAllowed}.
     */
    private static GrammarState feed(GrammarState s, byte[] b, boolean strip, boolean emptyAllowed) {
        int from = strip ? 1 : 0;
        if (from == b.length) return emptyAllowed ? s : null;
        for (int i = from; i < b.length && s != null; i++) s = s.advance(b[i] & 0xFF);
        return s;
    }

    private long[] currentMask() {
        if (finished) return eosOnly();
        boolean strip = stripNext();
        MaskCache.Key key = new MaskCache.Key(state, strip);
        long[] m = cache.get(key);
        if (m == null) {
            m = compute(state, strip);
            cache.put(key, m);
        }
        return m;
    }

    private long[] eosOnly() {
        long[] m = new long[(maskBits + 63) >>> 6];
        for (int e : eosIds) m[e >>> 6] |= 1L << e;
        return m;
    }

    private long[] compute(GrammarState s, boolean strip) {
        long[] m = s.isAccepting() ? eosOnly() : new long[(maskBits + 63) >>> 6];
        if (s.isTerminal()) return m;
        TokenIndex ix = index;
        for (int e = ix.childStart[0]; e < ix.childStart[1]; e++) {
            int b = ix.childByte[e] & 0xFF;
            int child = ix.childNode[e];
            if (strip && b == ' ') {
                // Pieces "▁..." lose the space: walk their subtree from s itself, the space unread.
                walk(ix, child, s, m, 2, emptyAllowed());
                for (int id : spaceNotStrippable) {
                    if (feed(s, ix.bytes(id), false, false) != null) m[id >>> 6] |= 1L << id;
                }
            } else {
                GrammarState next = s.advance(b);
                if (next != null) walk(ix, child, next, m, strip ? 1 : 0, true);
            }
        }
        return m;
    }

    /**
     * Marks the tokens of {@code node}'s subtree that {@code s} (the state at {@code node}) lets through.
     *
     * @param mode 0: every token; 1: not strippable ones; 2: only strippable ones
     */
    private void walk(TokenIndex ix, int node, GrammarState s, long[] m, int mode, boolean markHere) {
        if (markHere) {
            for (int t = ix.tokenStart[node]; t < ix.tokenStart[node + 1]; t++) {
                int id = ix.tokenIds[t];
                if (mode == 0 || (mode == 2) == ix.strippable(id)) m[id >>> 6] |= 1L << id;
            }
        }
        for (int e = ix.childStart[node]; e < ix.childStart[node + 1]; e++) {
            GrammarState next = s.advance(ix.childByte[e] & 0xFF);
            if (next != null) walk(ix, ix.childNode[e], next, m, mode, true);
        }
    }
}
