package io.paddock.tokenizer;

/**
 * SentencePiece's whitespace handling with the identity character normalization (no NFKC map), which
 * is what LLaMA tokenizers use.
 *
 * @param addDummyPrefix prepend "▁" so a text's first word is tokenized like any later word
 * @param removeExtraWhitespaces drop leading and trailing spaces and collapse runs of spaces
 * @param escapeWhitespaces write spaces as "▁" (U+2581)
 */
record NormalizerSpec(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {

    /** What Meta's LLaMA models (and the tokenizer.json form of them) use. */
    static final NormalizerSpec LLAMA = new NormalizerSpec(true, false, true);

    String normalize(String text) {
        int begin = 0;
        int end = text.length();
        if (removeExtraWhitespaces) {
            // Only U+0020 counts: the identity normalization leaves tabs and newlines alone.
            while (begin < end && text.charAt(begin) == ' ') begin++;
            while (end > begin && text.charAt(end - 1) == ' ') end--;
        }
        // SentencePiece adds no dummy prefix to an empty text: "" encodes to no pieces at all.
        if (begin == end) return "";
        String space = escapeWhitespaces ? Vocabulary.SPACE : " ";
        StringBuilder sb = new StringBuilder((end - begin) + 8);
        if (addDummyPrefix) sb.append(space);
        boolean prevSpace = false;
        for (int i = begin; i < end; i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                if (!(removeExtraWhitespaces && prevSpace)) sb.append(space);
                prevSpace = true;
                continue;
            }
            prevSpace = false;
            if (Character.isSurrogate(c)) {
                // A lone surrogate is not UTF-8 encodable; SentencePiece maps malformed input to U+FFFD.
                if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                    sb.append(c).append(text.charAt(++i));
                } else {
                    sb.append('\uFFFD');
                }
                continue;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** How decoding must treat the leading "▁" (SentencePiece's {@code is_bos_ws} rule). */
    Tokenizer.LeadingSpace leadingSpace() {
        if (removeExtraWhitespaces) return Tokenizer.LeadingSpace.STRIP_WHILE_EMPTY;
        return addDummyPrefix ? Tokenizer.LeadingSpace.STRIP_FIRST : Tokenizer.LeadingSpace.KEEP;
    }
}
