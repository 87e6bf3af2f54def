package io.paddock.structured;

import static io.paddock.structured.GrammarTesting.bytes;
import static io.paddock.structured.GrammarTesting.matches;
import static io.paddock.structured.GrammarTesting.rejectsAt;
import static io.paddock.structured.GrammarTesting.run;
import static io.paddock.structured.GrammarTesting.schema;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The JSON lexical and structural rules, byte by byte, on the any-JSON grammars. */
class JsonGrammarTests {
    private final Grammar any = Grammars.anyJson();
    private final Grammar object = Grammars.anyJsonObject();

    @Test
    void validJsonIsReadByteByByte() {
        for (String text : new String[] {
                "{}", "[]", "0", "-0", "12", "-3.25", "1e5", "2E-3", "6.02e+23", "\"\"", "true", "false", "null",
                "{\"a\":1}", "[1, -0.5e+10, \"x\", true, false, null, {\"b\": []}]",
                " {\"a\" : [ 1 , 2 ] ,\n \"b\":{\"c\":\"d\"}}", "[[[[]]]]", "{\"\":{\"\":{}}}",
                "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\""}) {
            assertThat(rejectsAt(any, text)).as(text).isEqualTo(-1);
            assertThat(matches(any, text)).as(text).isTrue();
        }
        assertThat(matches(object, "{\"k\": [1, {\"x\": null}]}")).isTrue();
    }

    @Test
    void invalidJsonIsRefusedAtTheFirstWrongByte() {
        assertThat(rejectsAt(any, "{\"a\":01}")).isEqualTo(6);
        assertThat(rejectsAt(any, "[1,]")).isEqualTo(3);
        assertThat(rejectsAt(any, "{\"a\" 1}")).isEqualTo(5);
        assertThat(rejectsAt(any, "{'a':1}")).isEqualTo(1);
        assertThat(rejectsAt(any, "[1 2]")).isEqualTo(3);
        assertThat(rejectsAt(any, "tru3")).isEqualTo(3);
        assertThat(rejectsAt(any, "\"a\\x\"")).isEqualTo(3);
        assertThat(rejectsAt(any, "+1")).isEqualTo(0);
        assertThat(rejectsAt(any, "1.e5")).isEqualTo(2);
        assertThat(rejectsAt(any, "{,}")).isEqualTo(1);
        assertThat(rejectsAt(any, "{\"a\":1,}")).isEqualTo(7);
        assertThat(rejectsAt(object, "[]")).isEqualTo(0);
        assertThat(rejectsAt(object, "\"a\"")).isEqualTo(0);
    }

    @Test
    void incompleteJsonIsNotAccepting() {
        for (String prefix : new String[] {"", "{", "[1,", "\"abc", "-", "1.", "1e", "1e+", "tru", "{\"a\"", "{\"a\":"}) {
            assertThat(run(any, prefix)).as(prefix).isNotNull();
            assertThat(matches(any, prefix)).as(prefix).isFalse();
        }
    }

    @Test
    void nothingFollowsTheTopLevelValue() {
        GrammarState s = run(object, "{\"a\":1}");
        assertThat(s.isAccepting()).isTrue();
        assertThat(s.isTerminal()).isTrue();
        assertThat(rejectsAt(object, "{} ")).isEqualTo(2);
        // A number may go on, so it is accepting but not terminal.
        GrammarState n = run(any, "12");
        assertThat(n.isAccepting()).isTrue();
        assertThat(n.isTerminal()).isFalse();
    }

    @Test
    void whitespaceIsNothingOneSpaceOrALineFeedAndBoundedIndentation() {
        int max = Lexemes.MAX_INDENT;
        String indent = " ".repeat(max);
        String ok = "{\n" + indent + "\"a\": 1,\n" + "\t".repeat(max) + "\"b\" :\n[1, 2]\n}";
        assertThat(matches(schema("{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}}}"), ok)).isTrue();
        assertThat(matches(object, "{ }")).isTrue();
        assertThat(rejectsAt(object, "{  ")).isEqualTo(2);           // one space, no more
        assertThat(rejectsAt(object, "{ \n")).isEqualTo(2);          // a space, then no line feed
        assertThat(rejectsAt(object, "{\n\n")).isEqualTo(2);         // one line feed per gap
        assertThat(rejectsAt(object, "{\n" + indent + " ")).isEqualTo(2 + max);
        assertThat(rejectsAt(any, "\n" + indent + " 1")).isEqualTo(1 + max);
        assertThat(rejectsAt(any, "[1 " + " ]")).isEqualTo(3);
        assertThat(rejectsAt(object, "{\r\n}")).isEqualTo(1);       // CR is JSON whitespace, but not in a gap here
        assertThat(rejectsAt(object, "{\u000b}")).isEqualTo(1);
    }

    @Test
    void numbersAreBoundedAndIntegersHaveNoFraction() {
        Grammar integer = schema("{\"type\":\"integer\"}");
        assertThat(matches(integer, "-1234567890123456")).isTrue();
        assertThat(rejectsAt(integer, "12345678901234567")).isEqualTo(16);
        assertThat(rejectsAt(integer, "1.5")).isEqualTo(1);
        assertThat(rejectsAt(integer, "1e3")).isEqualTo(1);
        assertThat(rejectsAt(integer, "00")).isEqualTo(1);
        assertThat(run(integer, "1234567890123456").isTerminal()).isTrue();
        Grammar number = schema("{\"type\":\"number\"}");
        assertThat(matches(number, "0.1234567890123456e-12")).isTrue();
        assertThat(matches(number, "-9999999999999999.9999999999999999E+99")).isTrue();
        assertThat(rejectsAt(number, "0.12345678901234567")).isEqualTo(18);
        assertThat(rejectsAt(number, "1e123")).isEqualTo(4); // at most 2 exponent digits: always a finite double
        assertThat(run(number, "1e12").isTerminal()).isTrue();
    }

    @Test
    void stringsReadValidUtf8AndRefuseInvalidBytes() {
        assertThat(matches(any, "\"é ✓ 😀 \u4e2d\"")).isTrue();
        // Multi-byte characters byte by byte: a state between two bytes is alive but not accepting.
        byte[] smile = "\"😀\"".getBytes(StandardCharsets.UTF_8);
        for (int i = 1; i < 4; i++) {
            GrammarState s = run(any, java.util.Arrays.copyOf(smile, 1 + i));
            assertThat(s).isNotNull();
        }
        assertThat(rejectsAt(any, bytes('"', 0xC0, 0x80, '"'))).isEqualTo(1);       // overlong NUL
        assertThat(rejectsAt(any, bytes('"', 0xC1, 0xBF, '"'))).isEqualTo(1);       // overlong
        assertThat(rejectsAt(any, bytes('"', 0xE0, 0x80, 0x80, '"'))).isEqualTo(2); // overlong 3-byte
        assertThat(rejectsAt(any, bytes('"', 0xED, 0xA0, 0x80, '"'))).isEqualTo(2); // surrogate
        assertThat(rejectsAt(any, bytes('"', 0xF0, 0x80, 0x80, 0x80, '"'))).isEqualTo(2); // overlong 4-byte
        assertThat(rejectsAt(any, bytes('"', 0xF4, 0x90, 0x80, 0x80, '"'))).isEqualTo(2); // above U+10FFFF
        assertThat(rejectsAt(any, bytes('"', 0xF5))).isEqualTo(1);
        assertThat(rejectsAt(any, bytes('"', 0x80))).isEqualTo(1);                  // lone continuation
        assertThat(rejectsAt(any, bytes('"', 0xE4, 0xB8, '"'))).isEqualTo(3);       // cut short
        assertThat(rejectsAt(any, bytes('"', 0xC3, 0x41))).isEqualTo(2);
        assertThat(rejectsAt(any, bytes('"', 0x0A, '"'))).isEqualTo(1);             // raw control character
        assertThat(rejectsAt(any, bytes('"', 0x1F))).isEqualTo(1);
        assertThat(matches(any, bytes('"', 0x7F, 0xF4, 0x8F, 0xBF, 0xBF, '"'))).isTrue();
    }

    @Test
    void unicodeEscapesNeedPairedSurrogates() {
        assertThat(matches(any, "\"\\uD83D\\uDE00\"")).isTrue();
        assertThat(rejectsAt(any, "\"\\udc00\"")).isEqualTo(4);    // a low surrogate first
        assertThat(rejectsAt(any, "\"\\ud83d\"")).isEqualTo(7);    // a high one alone
        assertThat(rejectsAt(any, "\"\\ud83d\\u0041\"")).isEqualTo(9);
        assertThat(rejectsAt(any, "\"\\ud83d\\ud83d\"")).isEqualTo(10);
        assertThat(rejectsAt(any, "\"\\u12g4\"")).isEqualTo(5);
    }

    @Test
    void everyUtf8CharacterIsReadAndEveryLeadByteOutsideUtf8IsRefused() {
        // Exhaustive over code points: each encodes to bytes the string grammar reads.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write('"');
        for (int cp = 0x20; cp <= 0x10FFFF; cp += (cp < 0x800 ? 1 : 97)) {
            if (cp >= 0xD800 && cp <= 0xDFFF || cp == '"' || cp == '\\') continue;
            out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        }
        out.write('"');
        assertThat(matches(any, out.toByteArray())).isTrue();
        for (int b = 0; b < 256; b++) {
            boolean lead = b >= 0x20 && b < 0x80 || b >= 0xC2 && b <= 0xF4;
            assertThat(run(any, bytes('"', b)) != null).as("byte %02x", b).isEqualTo(lead);
        }
    }

    @Test
    void statesInsideAStringAreEqualValues() {
        GrammarState a = run(object, "{\"k\": \"abc");
        GrammarState b = run(object, "{\"k\":\"xyzzy plugh");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.advance('d')).isSameAs(a);
        assertThat(run(object, "{\"k\": 1")).isNotEqualTo(a);
    }

    @Test
    void deepNestingIsBoundedWithoutOverflowingTheStack() {
        assertThat(run(any, "[".repeat(60) + "]".repeat(60))).isNotNull();
        assertThat(matches(any, "[".repeat(60) + "]".repeat(60))).isTrue();
        // Far deeper than the bound: refused, not a StackOverflowError.
        assertThat(rejectsAt(any, "[".repeat(1000))).isBetween(60, 999);
    }
}
