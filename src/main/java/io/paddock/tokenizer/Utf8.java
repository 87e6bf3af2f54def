package io.paddock.tokenizer;

/**
 * UTF-8 decoding with SentencePiece's error rule: a byte that does not start a valid, shortest-form
 * character of at most 4 bytes (no surrogates, at most U+10FFFF) becomes one U+FFFD and decoding
 * resumes at the next byte. (Java's decoder would instead replace a maximal invalid subpart once.)
 */
final class Utf8 {
    /** {@link #charLength}: the bytes so far could still become a valid character. */
    static final int INCOMPLETE = 0;
    /** {@link #charLength}: the first byte is invalid; it decodes to U+FFFD on its own. */
    static final int INVALID = -1;

    private Utf8() {}

    /**
     * Length of the valid character at {@code b[off, off + len)}, {@link #INVALID}, or (only when
     * {@code more} says further bytes may follow) {@link #INCOMPLETE}.
     */
    static int charLength(byte[] b, int off, int len, boolean more) {
        int b0 = b[off] & 0xFF;
        if (b0 < 0x80) return 1;
        int need;
        int cp;
        if ((b0 & 0xE0) == 0xC0) {
            need = 2;
            cp = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            need = 3;
            cp = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            need = 4;
            cp = b0 & 0x07;
        } else {
            return INVALID;
        }
        int have = Math.min(len, need);
        for (int i = 1; i < have; i++) {
            int bi = b[off + i] & 0xFF;
            if ((bi & 0xC0) != 0x80) return INVALID;
            cp = (cp << 6) | (bi & 0x3F);
        }
        if (have < need) return more ? INCOMPLETE : INVALID;
        int min = need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
        boolean valid = cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        return valid ? need : INVALID;
    }
}
