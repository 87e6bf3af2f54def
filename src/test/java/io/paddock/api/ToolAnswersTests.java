package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.chat.CallSyntax;
import io.paddock.chat.ToolCallFormat;
import io.paddock.chat.ToolDefinition;
import io.paddock.engine.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model's output as OpenAI's answer: a fake token stream through the streaming path (the deltas clients
 * assemble), and the whole output through the non-streaming one.
 */
class ToolAnswersTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final CallSyntax TAGGED = ToolCallFormat.DEFAULT.syntax();
    private static final List<ToolDefinition> TOOLS = List.of(new ToolDefinition("get_weather", null, null),
            new ToolDefinition("get_time", null, null));
    private static final String ARGS = "{\"city\": \"Paris\", \"days\": [1, 2]}";

    private static Supplier<String> ids() {
        AtomicInteger n = new AtomicInteger();
        return () -> "call_" + n.incrementAndGet();
    }

    private static ToolAnswers answers(boolean legacy) {
        return new ToolAnswers(new ToolUse(TOOLS, ToolUse.Choice.AUTO, null, !legacy, legacy), TAGGED, ids());
    }

    /** Feeds the text as tokens of {@code step} characters; the deltas, as JSON, and the finish reason last. */
    private static List<String> stream(ToolAnswers a, String text, int step, FinishReason reason) {
        ToolAnswers.Stream s = a.stream();
        List<ChatCompletionChunk.Delta> deltas = new ArrayList<>();
        for (int i = 0; i < text.length(); i += step) deltas.addAll(s.feed(text.substring(i, Math.min(text.length(), i + step))));
        deltas.addAll(s.finish());
        List<String> out = new ArrayList<>(deltas.stream().map(JSON::writeValueAsString).toList());
        out.add(s.finishReason(reason));
        return out;
    }

    @Test
    void callsStreamAsOpenAiSendsThem() {
        String text = TAGGED.call("get_weather", ARGS) + "\n" + TAGGED.call("get_time", "{}");
        List<String> out = stream(answers(false), text, 4, FinishReason.STOP);
        assertThat(out.getFirst()).isEqualTo("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}");
        assertThat(out).contains("{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]}");
        assertThat(out.getLast()).isEqualTo("tool_calls");
        StringBuilder first = new StringBuilder();
        for (String d : out.subList(1, out.size() - 1)) {
            var node = JSON.readTree(d);
            assertThat(node.has("content")).as(d).isFalse();
            var call = node.get("tool_calls").get(0);
            if (call.get("index").asInt() == 0) {
                assertThat(call.has("id")).isFalse();
                assertThat(call.get("function").propertyNames()).containsExactly("arguments");
                first.append(call.get("function").get("arguments").asString());
            }
        }
        assertThat(first.toString()).isEqualTo(ARGS);
    }

    @Test
    void freeTextStreamsAsContentAndTheTriggerIsNeverLeaked() {
        List<String> out = stream(answers(false), "<tool>s are fine", 1, FinishReason.STOP);
        assertThat(out.getLast()).isEqualTo("stop");
        StringBuilder content = new StringBuilder();
        for (String d : out.subList(0, out.size() - 1)) content.append(JSON.readTree(d).get("content").asString());
        assertThat(content.toString()).isEqualTo("<tool>s are fine");
        assertThat(out.getFirst()).isEqualTo("{\"content\":\"<tool>\"}"); // held back until it could not be a call
    }

    @Test
    void aCallCutByMaxTokensFinishesWithLength() {
        String text = TAGGED.call("get_weather", ARGS);
        String cut = text.substring(0, text.length() - 10);
        List<String> out = stream(answers(false), cut, 3, FinishReason.LENGTH);
        assertThat(out.getLast()).isEqualTo("length");
        ToolAnswers.Answer whole = answers(false).answer(cut, FinishReason.LENGTH);
        assertThat(whole.finishReason()).isEqualTo("length");
        assertThat(whole.message().content()).isEqualTo(cut);
        assertThat(whole.message().toolCalls()).isNull();
    }

    @Test
    void legacyFunctionCallsStreamAsFunctionCallDeltas() {
        List<String> out = stream(answers(true), TAGGED.call("get_time", "{\"tz\": \"UTC\"}"), 5, FinishReason.STOP);
        assertThat(out.getFirst()).isEqualTo("{\"function_call\":{\"name\":\"get_time\",\"arguments\":\"\"}}");
        assertThat(out.get(1)).startsWith("{\"function_call\":{\"arguments\":");
        assertThat(out.getLast()).isEqualTo("function_call");
    }

    @Test
    void wholeAnswers() {
        String text = TAGGED.call("get_weather", ARGS) + "\n" + TAGGED.call("get_time", "{}");
        ToolAnswers.Answer a = answers(false).answer(text, FinishReason.STOP);
        assertThat(a.finishReason()).isEqualTo("tool_calls");
        assertThat(JSON.writeValueAsString(a.message())).isEqualTo("{\"role\":\"assistant\",\"content\":null,\"refusal\":null,"
                + "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"arguments\":\"{\\\"city\\\": \\\"Paris\\\", \\\"days\\\": [1, 2]}\"}},{\"id\":\"call_2\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}]}");
        ToolAnswers.Answer legacy = answers(true).answer(TAGGED.call("get_time", "{}"), FinishReason.STOP);
        assertThat(legacy.finishReason()).isEqualTo("function_call");
        assertThat(JSON.writeValueAsString(legacy.message())).isEqualTo("{\"role\":\"assistant\",\"content\":null,"
                + "\"refusal\":null,\"function_call\":{\"name\":\"get_time\",\"arguments\":\"{}\"}}");
        ToolAnswers.Answer text2 = answers(false).answer("Sunny.", FinishReason.STOP);
        assertThat(text2.finishReason()).isEqualTo("stop");
        assertThat(JSON.writeValueAsString(text2.message())).isEqualTo("{\"role\":\"assistant\",\"content\":\"Sunny.\","
                + "\"refusal\":null}");
    }

    @Test
    void callIdsAreOpenAis() {
        assertThat(ToolAnswers.IDS.get()).matches("call_[A-Za-z0-9]{24}").isNotEqualTo(ToolAnswers.IDS.get());
    }
}
