package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.chat.CallSyntax;
import io.paddock.chat.ToolCallFormat;
import io.paddock.chat.ToolDefinition;
import io.paddock.engine.FinishReason;
import io.paddock.engine.GenerationResult;
import io.paddock.sampling.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A fake token stream of two choices through the chunks of a tool-calling stream, as a client would receive them. */
class ToolChunksTests {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final CallSyntax TAGGED = ToolCallFormat.DEFAULT.syntax();
    private final ResponseHeader h = new ResponseHeader("chatcmpl-1", 7, "m", "fp_paddock_cpu");

    private static ToolAnswers answers() {
        AtomicInteger n = new AtomicInteger();
        return new ToolAnswers(new ToolUse(List.of(new ToolDefinition("get_weather", null, null)), ToolUse.Choice.AUTO,
                null, true, false), TAGGED, () -> "call_" + n.incrementAndGet());
    }

    private static ChoiceEvent token(int index, String text, int id) {
        return new ChoiceEvent(index, text, new int[] {id}, List.of(Sample.of(id)), null);
    }

    private static ChoiceEvent finish(int index, int tokens, FinishReason reason) {
        return new ChoiceEvent(index, "", new int[0], List.of(), new GenerationResult(new int[tokens], "", reason, 3));
    }

    @Test
    void twoChoicesOneCallingOneTalking() {
        int[] completion = new int[2];
        ToolChunks chunks = new ToolChunks(answers(), h, Optional.empty(), completion, samples -> new ChatLogprobs(
                samples.stream().map(s -> new ChatLogprobs.TokenLogprob("t" + s.token(), 0f, List.of(), List.of())).toList(),
                null));
        String call = TAGGED.call("get_weather", "{\"city\": \"Paris\"}");
        List<ChoiceEvent> events = new ArrayList<>();
        int id = 0;
        String[] words = {"It", " is", " sunny."};
        for (int at = 0, w = 0; at < call.length(); at += 5, w++) {
            events.add(token(0, call.substring(at, Math.min(call.length(), at + 5)), id++));
            if (w < words.length) events.add(token(1, words[w], 100 + w));
        }
        events.add(finish(1, 3, FinishReason.STOP));
        events.add(finish(0, id, FinishReason.STOP));

        List<JsonNode> out = new ArrayList<>();
        for (ChoiceEvent e : events) for (var c : chunks.of(e)) out.add(JSON.readTree(JSON.writeValueAsString(c)));
        assertThat(out).allSatisfy(c -> {
            assertThat(c.get("object").asString()).isEqualTo("chat.completion.chunk");
            assertThat(c.has("usage")).isTrue();
            assertThat(c.get("choices")).hasSize(1);
        });
        List<JsonNode> zero = out.stream().map(c -> c.get("choices").get(0)).filter(c -> c.get("index").asInt() == 0).toList();
        List<JsonNode> one = out.stream().map(c -> c.get("choices").get(0)).filter(c -> c.get("index").asInt() == 1).toList();

        // Choice 0: no content at all, the call's first piece names it, the fragments add up, then tool_calls.
        assertThat(zero).noneMatch(c -> c.get("delta").has("content"));
        assertThat(zero.getFirst().get("delta").toString()).isEqualTo("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}");
        StringBuilder arguments = new StringBuilder();
        for (JsonNode c : zero.subList(1, zero.size() - 1)) {
            arguments.append(c.get("delta").get("tool_calls").get(0).get("function").get("arguments").asString());
        }
        assertThat(arguments.toString()).isEqualTo("{\"city\": \"Paris\"}");
        assertThat(zero.getLast().get("finish_reason").asString()).isEqualTo("tool_calls");
        assertThat(zero.getLast().get("delta").toString()).isEqualTo("{}");
        // The tokens held back before the call was known arrive with its first chunk.
        assertThat(zero.getFirst().get("logprobs").get("content").size()).isGreaterThan(1);
        int logged = 0;
        for (JsonNode c : zero) if (!c.get("logprobs").isNull()) logged += c.get("logprobs").get("content").size();
        assertThat(logged).isEqualTo(id);

        // Choice 1: plain content as it came, finish stop.
        StringBuilder text = new StringBuilder();
        for (JsonNode c : one.subList(0, one.size() - 1)) text.append(c.get("delta").get("content").asString());
        assertThat(text.toString()).isEqualTo("It is sunny.");
        assertThat(one.getLast().get("finish_reason").asString()).isEqualTo("stop");
        assertThat(completion).containsExactly(id, 3);
    }
}
