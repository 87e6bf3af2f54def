package io.paddock.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Streams decoded text token by token. It never emits part of a UTF-8 character: bytes of a character
 * spread over several byte pieces are held until the character is complete (or known to be invalid).
 * The concatenation of every {@link #push} and the final {@link #flush} equals {@link Tokenizer#decode}
 * of the same ids; {@code decode} is in fact implemented with this class.
 *
 * <p>Not thread-safe: one instance per generated sequence.
 */
public final class IncrementalDetokenizer {
    private static final String SPACE = "\u2581";

    private final Tokenizer tokenizer;
    private final Tokenizer.LeadingSpace leadingSpace;
    private byte[] pending = new byte[8]; // (pendingLen) bytes of the current run of byte pieces not yet emitted
    private int pendingLen;
    // SentencePiece's decode state: whether the next text piece may still lose its leading "▁".
    private boolean expectLeadingSpace = true;
    private boolean leadingSpaceConsumed;
    private boolean emittedText;

    public IncrementalDetokenizer(Tokenizer t) {
        this.tokenizer = t;
        this.leadingSpace = t.leadingSpace();
    }

    /** The text completed by token {@code id}; "" while a multi-byte character is still incomplete. */
    public String push(int id) {
        if (tokenizer.isByte(id)) {
            byte[] b = tokenizer.pieceBytes(id);
            if (pendingLen == pending.length) pending = Arrays.copyOf(pending, pendingLen * 2);
            pending[pendingLen++] = b[0];
            return note(drainBytes(true));
        }
        // A non-byte piece ends the byte run: what is still pending can no longer complete.
        String bytes = note(drainBytes(false));
        if (leadingSpaceConsumed || emittedText) expectLeadingSpace = false;
        String surface;
        boolean consumed = false;
        if (tokenizer.isUnknown(id)) {
            surface = utf8(tokenizer.pieceBytes(id));
        } else if (tokenizer.isControl(id)) {
            surface = "";
        } else {
            surface = utf8(tokenizer.pieceBytes(id));
            if (expectLeadingSpace && leadingSpace != Tokenizer.LeadingSpace.KEEP
                    && tokenizer.piece(id).startsWith(SPACE) && surface.startsWith(" ")) {
                surface = surface.substring(1);
                // Trimming decoders strip every leading "▁" until text appears; a dummy prefix only one.
                consumed = leadingSpace == Tokenizer.LeadingSpace.STRIP_FIRST;
            }
        }
        leadingSpaceConsumed = consumed;
        note(surface);
        return bytes.isEmpty() ? surface : bytes + surface;
    }

    /** Whatever is still held; an unfinished character becomes U+FFFD per byte, as decode does. */
    public String flush() {
        return note(drainBytes(false));
    }

    private String note(String s) {
        if (!s.isEmpty()) emittedText = true;
        return s;
    }

    // Decodes complete characters from the front of `pending`; with `more` an incomplete tail stays.
    private String drainBytes(boolean more) {
        if (pendingLen == 0) return "";
        StringBuilder sb = new StringBuilder();
        int off = 0;
        while (off < pendingLen) {
            int n = Utf8.charLength(pending, off, pendingLen - off, more);
            if (n == Utf8.INCOMPLETE) break;
            if (n == Utf8.INVALID) {
                sb.append('\uFFFD');
                off++;
            } else {
                sb.append(new String(pending, off, n, StandardCharsets.UTF_8));
                off += n;
            }
        }
        System.arraycopy(pending, off, pending, 0, pendingLen - off);
        pendingLen -= off;
        return sb.toString();
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
