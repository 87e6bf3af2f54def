package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.chat.ToolCallParser.Arguments;
import io.paddock.chat.ToolCallParser.CallStart;
import io.paddock.chat.ToolCallParser.Piece;
import io.paddock.chat.ToolCallParser.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Calls read back out of output, whole or piece by piece, in the formats' syntaxes. */
class ToolCallParserTests {
    private static final CallSyntax TAGGED = ToolCallFormat.DEFAULT.syntax();
    private static final CallSyntax AIROBOROS = ToolCallFormat.AIROBOROS.syntax();
    private static final String ARGS = "{\"city\": \"Pa}r\\\"is\", \"days\": [1, {\"x\": 2}]}";

    private static ToolCallParser parser(CallSyntax syntax) {
        AtomicInteger n = new AtomicInteger();
        return new ToolCallParser(syntax, Set.of("get_weather", "get_time"), () -> "call_" + n.incrementAndGet());
    }

    /** Everything the parser says for {@code text} fed in pieces of {@code step} characters. */
    private static List<Piece> run(ToolCallParser p, String text, int step) {
        List<Piece> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += step) out.addAll(p.feed(text.substring(i, Math.min(text.length(), i + step))));
        out.addAll(p.finish());
        return out;
    }

    private static String arguments(List<Piece> pieces, int index) {
        StringBuilder sb = new StringBuilder();
        for (Piece p : pieces) if (p instanceof Arguments a && a.index() == index) sb.append(a.fragment());
        return sb.toString();
    }

    private static String text(List<Piece> pieces) {
        StringBuilder sb = new StringBuilder();
        for (Piece p : pieces) if (p instanceof Text t) sb.append(t.text());
        return sb.toString();
    }

    @Test
    void aRenderedCallParsesBackWhateverTheChunking() {
        String call = TAGGED.call("get_weather", ARGS);
        for (int step = 1; step <= call.length(); step++) {
            ToolCallParser p = parser(TAGGED);
            List<Piece> pieces = run(p, call, step);
            assertThat(pieces.getFirst()).as("step %d", step).isEqualTo(new CallStart(0, "call_1", "get_weather"));
            assertThat(arguments(pieces, 0)).as("step %d", step).isEqualTo(ARGS);
            assertThat(text(pieces)).isEmpty();
            assertThat(p.calls()).containsExactly(new ToolCall("call_1", "get_weather", ARGS));
            assertThat(p.sawCall()).isTrue();
            assertThat(p.incomplete()).isFalse();
        }
    }

    @Test
    void severalCallsOneAfterAnother() {
        String text = TAGGED.call("get_weather", ARGS) + TAGGED.separator() + TAGGED.call("get_time", "{}") + "\n";
        ToolCallParser p = parser(TAGGED);
        List<Piece> pieces = run(p, text, 3);
        assertThat(pieces).filteredOn(CallStart.class::isInstance)
                .containsExactly(new CallStart(0, "call_1", "get_weather"), new CallStart(1, "call_2", "get_time"));
        assertThat(arguments(pieces, 1)).isEqualTo("{}");
        assertThat(p.calls()).extracting(ToolCall::name).containsExactly("get_weather", "get_time");
        assertThat(text(pieces)).isEmpty();
    }

    @Test
    void freeTextStreamsAtOnceAndAPossibleTriggerIsHeldBack() {
        ToolCallParser p = parser(TAGGED);
        assertThat(p.feed("Hello")).containsExactly(new Text("Hello"));
        assertThat(p.feed(" <tool_call>")).containsExactly(new Text(" <tool_call>")); // text once free, stays text
        ToolCallParser q = parser(TAGGED);
        assertThat(q.feed("<tool")).isEmpty();
        assertThat(q.feed("s> are")).containsExactly(new Text("<tools> are"));
        ToolCallParser r = parser(TAGGED);
        assertThat(r.feed("<tool_ca")).isEmpty();
        assertThat(r.finish()).containsExactly(new Text("<tool_ca"));
        assertThat(r.sawCall()).isFalse();
    }

    @Test
    void whitespaceIsFreeWhereJsonAllowsIt() {
        ToolCallParser p = parser(TAGGED);
        List<Piece> pieces = run(p, " <tool_call>{ \"name\" :\"get_time\" ,\n \"arguments\":  {}  }</tool_call>", 2);
        assertThat(pieces.getFirst()).isEqualTo(new CallStart(0, "call_1", "get_time"));
        assertThat(arguments(pieces, 0)).isEqualTo("{}");
        assertThat(p.calls()).hasSize(1);
    }

    @Test
    void anUnknownFunctionOrAnotherShapeIsText() {
        String unknown = TAGGED.call("rm_rf", "{}");
        ToolCallParser p = parser(TAGGED);
        List<Piece> pieces = run(p, unknown, 4);
        assertThat(text(pieces)).isEqualTo(unknown);
        assertThat(p.sawCall()).isFalse();
        String argumentsFirst = "<tool_call>\n{\"arguments\": {}, \"name\": \"get_time\"}\n</tool_call>";
        assertThat(text(run(parser(TAGGED), argumentsFirst, 5))).isEqualTo(argumentsFirst);
    }

    @Test
    void aCallCutOffIsIncomplete() {
        ToolCallParser p = parser(TAGGED);
        List<Piece> pieces = run(p, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"ci", 1);
        assertThat(pieces.getFirst()).isEqualTo(new CallStart(0, "call_1", "get_weather"));
        assertThat(arguments(pieces, 0)).isEqualTo("{\"ci");
        assertThat(p.calls()).isEmpty();
        assertThat(p.incomplete()).isTrue();
    }

    @Test
    void textAfterTheCallsIsContent() {
        ToolCallParser p = parser(TAGGED);
        List<Piece> pieces = run(p, TAGGED.call("get_time", "{}") + "\nDone.", 1);
        assertThat(p.calls()).hasSize(1);
        assertThat(text(pieces)).isEqualTo("\nDone.");
    }

    @Test
    void airoborosAnswersInItsCardsShapeCompactOrIndented() {
        String card = AIROBOROS.call("get_weather", ARGS);
        assertThat(card).isEqualTo("{\n  \"function\": \"get_weather\",\n  \"params\": " + ARGS + "\n}");
        for (String text : List.of(card, "{\"function\": \"get_weather\", \"params\": " + ARGS + "}")) {
            ToolCallParser p = parser(AIROBOROS);
            List<Piece> pieces = run(p, text, 2);
            assertThat(pieces.getFirst()).isEqualTo(new CallStart(0, "call_1", "get_weather"));
            assertThat(arguments(pieces, 0)).isEqualTo(ARGS);
            assertThat(p.calls()).hasSize(1);
        }
        ToolCallParser free = parser(AIROBOROS);
        assertThat(free.feed("{")).isEmpty();
        assertThat(free.feed("\"answer\": 1}")).containsExactly(new Text("{\"answer\": 1}"));
    }
}
