package io.paddock.tokenizer;

/**
 * Text ↔ token ids for a LLaMA-style SentencePiece BPE vocabulary with byte fallback.
 *
 * <p>Encoding and decoding follow the reference SentencePiece implementation exactly
 * (see {@code docs/tokenizer.md}). Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    int vocabSize();

    /** Id of the begin-of-sequence piece, or -1 when the vocabulary has none. */
    int bosId();

    /** Id of the end-of-sequence piece, or -1 when the vocabulary has none. */
    int eosId();

    int unkId();

    /** Encodes {@code text} as SentencePiece does (dummy prefix, "▁" for spaces, byte fallback). */
    int[] encode(String text, boolean addBos, boolean addEos);

    /** As SentencePiece's {@code DecodeIds}: control pieces vanish, the dummy-prefix space is dropped. */
    String decode(int[] ids);

    /** The raw piece, e.g. {@code "▁Once"} or {@code "<0x0A>"}. */
    String piece(int id);

    /**
     * True for special pieces that never come out of text: control pieces such as {@code <s>} and
     * {@code </s>}, and the unknown piece.
     */
    boolean isControl(int id);

    /**
     * The UTF-8 bytes this token contributes to decoded text: "▁" becomes a space, a byte piece is its
     * byte, a control piece is empty, and the unknown piece is SentencePiece's unknown surface " ⁇ ".
     * The dummy-prefix rule of {@link #decode} is not applied here.
     */
    byte[] pieceBytes(int id);

    /** True for {@code <0xXX>} byte-fallback pieces. */
    default boolean isByte(int id) {
        String p = piece(id);
        return p.length() == 6 && p.startsWith("<0x") && p.endsWith(">");
    }

    /** True for the unknown piece. */
    default boolean isUnknown(int id) {
        return id == unkId();
    }

    /** How decoding treats the "▁" that starts the text (SentencePiece's dummy prefix). */
    default LeadingSpace leadingSpace() {
        return LeadingSpace.STRIP_FIRST;
    }

    /** SentencePiece's rule for the leading "▁" of decoded text, which depends on the normalizer. */
    enum LeadingSpace {
        /** Neither a dummy prefix nor whitespace trimming: every space is kept. */
        KEEP,
        /** A dummy prefix was added: the first text piece loses one leading "▁". */
        STRIP_FIRST,
        /** Whitespace is trimmed on encode: every piece loses one leading "▁" while the text is still empty. */
        STRIP_WHILE_EMPTY
    }
}
