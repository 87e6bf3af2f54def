package io.paddock.structured;

import static io.paddock.structured.GrammarTesting.bytes;
import static io.paddock.structured.GrammarTesting.matches;
import static io.paddock.structured.GrammarTesting.rejectsAt;
import static io.paddock.structured.GrammarTesting.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** literal, sequence, choice, repeat, freeTextOr, and grammars from elsewhere inside them. */
class CombinatorTests {
    private static final String TRIGGER = "<tool_call>";

    @Test
    void literalAndSequence() {
        Grammar g = Grammars.sequence(Grammars.literal("ab"), Grammars.literal(""), Grammars.literal("é"));
        assertThat(matches(g, "abé")).isTrue();
        assertThat(run(g, "abé").isTerminal()).isTrue();
        assertThat(rejectsAt(g, "ac")).isEqualTo(1);
        assertThat(matches(g, "ab")).isFalse();
        assertThat(g.describe()).isEqualTo("sequence(literal(\"ab\"), literal(\"\"), literal(\"é\"))");
    }

    @Test
    void choiceKeepsOptionsThatShareAPrefix() {
        Grammar g = Grammars.choice(Grammars.literal("abc"), Grammars.literal("abd"), Grammars.literal("ab"));
        GrammarState ab = run(g, "ab");
        assertThat(ab.isAccepting()).isTrue();
        assertThat(ab.isTerminal()).isFalse();
        assertThat(matches(g, "abc")).isTrue();
        assertThat(matches(g, "abd")).isTrue();
        assertThat(rejectsAt(g, "abe")).isEqualTo(2);
        assertThatThrownBy(() -> Grammars.choice()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void repeatCountsItemsAndSeparators() {
        Grammar g = Grammars.repeat(Grammars.choice(Grammars.literal("a"), Grammars.literal("bb")), ", ", 2, 3);
        assertThat(matches(g, "a, bb")).isTrue();
        assertThat(matches(g, "a, a, bb")).isTrue();
        assertThat(matches(g, "a")).isFalse();
        assertThat(rejectsAt(g, "a, a, a, ")).isEqualTo(7);
        assertThat(rejectsAt(g, "a,a")).isEqualTo(2);
        assertThat(run(g, "a, a, a").isTerminal()).isTrue();
        Grammar any = Grammars.repeat(Grammars.literal("x"), null, 0, -1);
        assertThat(matches(any, "")).isTrue();
        assertThat(matches(any, "xxxxxxxxxxxxxxxxxxxxxxxxx")).isTrue();
        assertThat(run(any, "xx")).isEqualTo(run(any, "xxxxxx"));
        Grammar none = Grammars.repeat(Grammars.literal("x"), ",", 0, 0);
        assertThat(run(none, "").isTerminal()).isTrue();
        assertThatThrownBy(() -> Grammars.repeat(Grammars.literal(""), null, 0, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never end");
        assertThatThrownBy(() -> Grammars.repeat(Grammars.literal("x"), null, 3, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max");
        assertThatThrownBy(() -> Grammars.repeat(Grammars.literal("x"), null, -1, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("min");
    }

    @Test
    void freeTextOrATriggeredToolCall() {
        Grammar call = Grammars.freeTextOr(TRIGGER, Grammars.anyJsonObject());
        assertThat(matches(call, "")).isTrue();
        assertThat(matches(call, "Hello there! {\"a\":1} <tool_call> is mentioned")).isTrue();
        assertThat(matches(call, "<tool")).isTrue();         // a proper prefix of the trigger is free text
        assertThat(matches(call, "<toolbox>")).isTrue();
        assertThat(matches(call, "<tool_call>{\"name\":\"f\"}")).isTrue();
        assertThat(run(call, "<tool_call>{\"name\":\"f\"}").isTerminal()).isTrue();
        assertThat(matches(call, " \n <tool_call> {\"name\":\"f\"}")).isTrue(); // whitespace before, JSON's own after
        assertThat(matches(call, "<tool_call>")).isFalse();
        assertThat(rejectsAt(call, "<tool_call>x")).isEqualTo(11);
        assertThat(rejectsAt(call, "\n<tool_call>[")).isEqualTo(12);
        assertThat(rejectsAt(call, bytes('h', 'i', 0xC0, 0x80))).isEqualTo(2);   // free text is valid UTF-8
        assertThat(matches(call, bytes('h', 0xE2, 0x9C))).isFalse();               // not in the middle of a character
        assertThat(matches(call, bytes('h', 0xE2, 0x9C, 0x93))).isTrue();
        assertThatThrownBy(() -> Grammars.freeTextOr("", Grammars.anyJsonObject()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void freeTextStatesAreValuesToo() {
        Grammar call = Grammars.freeTextOr(TRIGGER, Grammars.anyJsonObject());
        assertThat(run(call, "Some text")).isEqualTo(run(call, "Other words entirely."));
        assertThat(run(call, "Some text").hashCode()).isEqualTo(run(call, "Other words entirely.").hashCode());
        GrammarState s = run(call, "Some text");
        assertThat(s.advance('x')).isSameAs(s);
        assertThat(s.isAccepting()).isTrue();
        assertThat(s.advance(0xE2)).isNotEqualTo(s);
        assertThat(s.advance(0xE2).isAccepting()).isFalse();
    }

    @Test
    void grammarsImplementedElsewhereCanBeCombined() {
        // Digits only, at most three, accepting once there is one.
        Grammar digits = new Grammar() {
            public GrammarState start() {
                return new Digits(0);
            }

            public String describe() {
                return "digits";
            }
        };
        Grammar g = Grammars.sequence(Grammars.literal("n="), digits, Grammars.literal(";"));
        assertThat(matches(g, "n=123;")).isTrue();
        assertThat(rejectsAt(g, "n=;")).isEqualTo(2);
        assertThat(rejectsAt(g, "n=1234")).isEqualTo(5);
        assertThat(g.describe()).contains("digits");
    }

    private record Digits(int n) implements GrammarState {
        public GrammarState advance(int b) {
            return b >= '0' && b <= '9' && n < 3 ? new Digits(n + 1) : null;
        }

        public boolean isAccepting() {
            return n > 0;
        }

        public boolean isTerminal() {
            return n == 3;
        }
    }
}
