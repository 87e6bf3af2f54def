package io.paddock.structured;

import io.paddock.structured.Frame.FreeLex;
import io.paddock.structured.Frame.NumLex;
import io.paddock.structured.Frame.StrLex;
import java.nio.charset.StandardCharsets;

/** The byte-level rules of the lexemes: JSON strings and numbers, whitespace, UTF-8, free text. */
final class Lexemes {
    /** At most this many spaces or tabs of indentation after the line feed of a gap between two JSON tokens. */
    static final int MAX_INDENT = 20;
    /** At most this many digits in the integer part of a number (a JSON integer, or before the point). */
    static final int MAX_INT_DIGITS = 16;
    /** At most this many digits after the decimal point. */
    static final int MAX_FRACTION_DIGITS = 16;
    /** At most this many exponent digits: with the digit bounds above, every number is a finite double. */
    static final int MAX_EXPONENT_DIGITS = 2;

    // String phases.
    static final int S_OPEN = 0, S_BODY = 1, S_UTF8 = 2, S_ESCAPE = 3, S_HEX = 4, S_LOW_BACKSLASH = 5,
            S_LOW_U = 6, S_LOW_HEX = 7, S_CLOSED = 8;
    // Number phases.
    static final int N_START = 0, N_MINUS = 1, N_ZERO = 2, N_INT = 3, N_DOT = 4, N_FRAC = 5, N_E = 6,
            N_ESIGN = 7, N_EXP = 8;
    // Free-text phases.
    static final int F_LEAD = 0, F_FREE = 1, F_TRIGGERED = 2;

    private Lexemes() {}

    static boolean isWhitespace(int b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    /**
     * UTF-8 validation, one byte at a time. A state is 0 between characters, else
     * {@code remaining << 16 | lowest << 8 | highest}: the continuation bytes still due and the range allowed for
     * the next one (which rules out overlong forms, surrogates and code points above U+10FFFF).
     *
     * @return the next state, or -1 when {@code b} is not valid here; {@code b} &lt; 0x80 at 0 gives 0
     */
    static int utf8(int state, int b) {
        if (state == 0) {
            if (b < 0x80) return 0;
            if (b >= 0xC2 && b <= 0xDF) return cont(1, 0x80, 0xBF);
            if (b == 0xE0) return cont(2, 0xA0, 0xBF);
            if (b == 0xED) return cont(2, 0x80, 0x9F);
            if (b >= 0xE1 && b <= 0xEF) return cont(2, 0x80, 0xBF);
            if (b == 0xF0) return cont(3, 0x90, 0xBF);
            if (b >= 0xF1 && b <= 0xF3) return cont(3, 0x80, 0xBF);
            if (b == 0xF4) return cont(3, 0x80, 0x8F);
            return -1;
        }
        int lo = (state >> 8) & 0xFF;
        int hi = state & 0xFF;
        if (b < lo || b > hi) return -1;
        int remaining = (state >> 16) - 1;
        return remaining == 0 ? 0 : cont(remaining, 0x80, 0xBF);
    }

    private static int cont(int remaining, int lo, int hi) {
        return remaining << 16 | lo << 8 | hi;
    }

    private static int hex(int b) {
        if (b >= '0' && b <= '9') return b - '0';
        if (b >= 'a' && b <= 'f') return b - 'a' + 10;
        if (b >= 'A' && b <= 'F') return b - 'A' + 10;
        return -1;
    }

    // ---- strings ----

    static StrLex startString(Node.Str s) {
        return new StrLex(s, S_OPEN, 0, 0, 0, s.excluded == null ? null : "");
    }

    static Frame.Lexeme stepString(StrLex l, int b) {
        Node.Str s = l.str();
        switch (l.phase()) {
            case S_OPEN:
                return b == '"' ? new StrLex(s, S_BODY, 0, 0, 0, l.prefix()) : null;
            case S_BODY: {
                if (b == '"') {
                    if (l.count() < s.min) return null;
                    if (l.prefix() != null && isExcluded(s, l.prefix())) return null;
                    return new StrLex(s, S_CLOSED, 0, 0, 0, null);
                }
                if (b < 0x20) return null;
                if (s.max >= 0 && l.count() >= s.max) return null;
                int count = nextCount(s, l.count());
                if (b == '\\') return new StrLex(s, S_ESCAPE, count, 0, 0, l.prefix());
                String prefix = extend(s, l.prefix(), b);
                if (b < 0x80) {
                    if (count == l.count() && prefix == l.prefix()) return l; // same state: cheap and cache-friendly
                    return new StrLex(s, S_BODY, count, 0, 0, prefix);
                }
                int u = utf8(0, b);
                return u < 0 ? null : new StrLex(s, S_UTF8, count, u, 0, prefix);
            }
            case S_UTF8: {
                int u = utf8(l.aux(), b);
                if (u < 0) return null;
                String prefix = extend(s, l.prefix(), b);
                return new StrLex(s, u == 0 ? S_BODY : S_UTF8, l.count(), u, 0, prefix);
            }
            case S_ESCAPE: {
                int c = switch (b) {
                    case '"' -> '"';
                    case '\\' -> '\\';
                    case '/' -> '/';
                    case 'b' -> '\b';
                    case 'f' -> '\f';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    case 't' -> '\t';
                    case 'u' -> -2;
                    default -> -1;
                };
                if (c == -1) return null;
                if (c == -2) return new StrLex(s, S_HEX, l.count(), 0, 0, l.prefix());
                return new StrLex(s, S_BODY, l.count(), 0, 0, extend(s, l.prefix(), c));
            }
            case S_HEX: {
                int h = hex(b);
                if (h < 0) return null;
                int v = l.aux() << 4 | h;
                int digits = l.digits() + 1;
                // A low surrogate may not come first; a high one needs a low one after it.
                if (digits == 2 && v >= 0xDC && v <= 0xDF) return null;
                if (digits < 4) return new StrLex(s, S_HEX, l.count(), v, digits, l.prefix());
                if (v >= 0xD800 && v <= 0xDBFF) return new StrLex(s, S_LOW_BACKSLASH, l.count(), v, 0, l.prefix());
                return new StrLex(s, S_BODY, l.count(), 0, 0, extendCodePoint(s, l.prefix(), v));
            }
            case S_LOW_BACKSLASH:
                return b == '\\' ? new StrLex(s, S_LOW_U, l.count(), l.aux(), 0, l.prefix()) : null;
            case S_LOW_U:
                return b == 'u' ? new StrLex(s, S_LOW_HEX, l.count(), l.aux(), 0, l.prefix()) : null;
            case S_LOW_HEX: {
                int h = hex(b);
                if (h < 0) return null;
                int digits = l.digits();
                if (digits == 0 && h != 0xD) return null;
                if (digits == 1 && h < 0xC) return null;
                int low = (digits == 0 ? 0 : (l.aux() >>> 16)) << 4 | h;
                int high = l.aux() & 0xFFFF;
                if (digits + 1 < 4) return new StrLex(s, S_LOW_HEX, l.count(), low << 16 | high, digits + 1, l.prefix());
                int cp = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return new StrLex(s, S_BODY, l.count(), 0, 0, extendCodePoint(s, l.prefix(), cp));
            }
            default:
                return null;
        }
    }

    private static int nextCount(Node.Str s, int count) {
        int next = count + 1;
        // Count only as far as a bound needs: equal states for every position of an unbounded string.
        return s.max < 0 ? Math.min(next, s.min) : next;
    }

    private static boolean isExcluded(Node.Str s, String prefix) {
        for (String e : s.excluded) if (e.equals(prefix)) return true;
        return false;
    }

    /** The prefix with one more byte, or null once no excluded string starts with it. */
    private static String extend(Node.Str s, String prefix, int b) {
        if (prefix == null) return null;
        String next = prefix + (char) b;
        for (String e : s.excluded) if (e.startsWith(next)) return next;
        return null;
    }

    private static String extendCodePoint(Node.Str s, String prefix, int cp) {
        if (prefix == null) return null;
        byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        String p = prefix;
        for (byte x : bytes) {
            p = extend(s, p, x & 0xFF);
            if (p == null) return null;
        }
        return p;
    }

    // ---- numbers ----

    static Frame.Lexeme stepNumber(NumLex l, int b) {
        boolean digit = b >= '0' && b <= '9';
        boolean integer = l.integer();
        int d = l.digits();
        switch (l.phase()) {
            case N_START:
                if (b == '-') return new NumLex(integer, N_MINUS, 0);
                // fall through
            case N_MINUS:
                if (b == '0') return new NumLex(integer, N_ZERO, 0);
                return digit ? new NumLex(integer, N_INT, 1) : null;
            case N_ZERO:
                return integer ? null : fractionOrExponent(b);
            case N_INT:
                if (digit) return d < MAX_INT_DIGITS ? new NumLex(integer, N_INT, d + 1) : null;
                return integer ? null : fractionOrExponent(b);
            case N_DOT:
                return digit ? new NumLex(false, N_FRAC, 1) : null;
            case N_FRAC:
                if (digit) return d < MAX_FRACTION_DIGITS ? new NumLex(false, N_FRAC, d + 1) : null;
                return b == 'e' || b == 'E' ? new NumLex(false, N_E, 0) : null;
            case N_E:
                if (b == '+' || b == '-') return new NumLex(false, N_ESIGN, 0);
                // fall through
            case N_ESIGN:
                return digit ? new NumLex(false, N_EXP, 1) : null;
            case N_EXP:
                return digit && d < MAX_EXPONENT_DIGITS ? new NumLex(false, N_EXP, d + 1) : null;
            default:
                return null;
        }
    }

    private static Frame.Lexeme fractionOrExponent(int b) {
        if (b == '.') return new NumLex(false, N_DOT, 0);
        if (b == 'e' || b == 'E') return new NumLex(false, N_E, 0);
        return null;
    }

    static boolean numberCanEnd(int phase) {
        return phase == N_ZERO || phase == N_INT || phase == N_FRAC || phase == N_EXP;
    }

    static boolean numberCanContinue(NumLex l) {
        return switch (l.phase()) {
            case N_ZERO -> !l.integer();
            case N_INT -> !l.integer() || l.digits() < MAX_INT_DIGITS;
            case N_EXP -> l.digits() < MAX_EXPONENT_DIGITS;
            default -> true;
        };
    }

    // ---- free text ----

    static Frame.Lexeme stepFree(FreeLex l, int b) {
        Node.FreeOr n = l.node();
        if (l.phase() == F_LEAD) {
            int k = l.matched();
            if ((n.trigger[k] & 0xFF) == b) {
                return k + 1 == n.trigger.length
                        ? new FreeLex(n, F_TRIGGERED, 0, 0)
                        : new FreeLex(n, F_LEAD, k + 1, 0);
            }
            if (k == 0 && isWhitespace(b)) return l;
            // The text no longer starts with the trigger: from here on it is free text.
        } else if (l.phase() != F_FREE) {
            return null;
        }
        int u = utf8(l.utf8(), b);
        if (u < 0) return null;
        if (l.phase() == F_FREE && u == l.utf8()) return l;
        return new FreeLex(n, F_FREE, 0, u);
    }
}
