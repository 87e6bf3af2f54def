package io.paddock.chat;

/** Python {@code str} semantics that chat templates rely on (Java's differ at the edges). */
final class PyStrings {
    private PyStrings() {}

    /** Python's {@code str.isspace()} per character: Java's isWhitespace misses NBSP and NEL. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static String strip(String s, String chars) {
        return rstrip(lstrip(s, chars), chars);
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && stripped(s.charAt(i), chars)) i++;
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && stripped(s.charAt(j - 1), chars)) j--;
        return s.substring(0, j);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    static String strip(String s) {
        return strip(s, null);
    }
}
