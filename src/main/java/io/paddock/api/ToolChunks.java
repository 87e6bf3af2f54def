package io.paddock.api;

import io.paddock.sampling.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The chunks of a chat stream whose output is read as tool calls: each choice's text goes through its own parser,
 * which holds back what may still be a call's start, and comes out as content or {@code tool_calls} pieces; the last
 * chunk of a choice carries its finish reason. Log-probabilities ride on the next chunk sent for their choice.
 */
final class ToolChunks {
    private final ResponseHeader h;
    private final Optional<Usage> usage;
    private final int[] completion;
    private final Function<List<Sample>, ChatLogprobs> logprobs;
    private final ToolAnswers.Stream[] streams;
    private final List<List<Sample>> pending = new ArrayList<>();

    /**
     * @param usage      what every chunk's {@code usage} holds (null: absent, empty: null)
     * @param completion per choice, filled in with its completion tokens when it finishes
     * @param logprobs   samples to logprobs; null when none were asked for
     */
    ToolChunks(ToolAnswers tools, ResponseHeader h, Optional<Usage> usage, int[] completion,
            Function<List<Sample>, ChatLogprobs> logprobs) {
        this.h = h;
        this.usage = usage;
        this.completion = completion;
        this.logprobs = logprobs;
        this.streams = new ToolAnswers.Stream[completion.length];
        for (int i = 0; i < streams.length; i++) {
            streams[i] = tools.stream();
            pending.add(new ArrayList<>());
        }
    }

    /** The chunks one event of a choice gives (none while its text is held back). */
    List<ChatCompletionChunk> of(ChoiceEvent e) {
        int i = e.index();
        List<ChatCompletionChunk> out = new ArrayList<>();
        if (e.isFinish()) {
            completion[i] = e.finished().completionTokens();
            for (var d : streams[i].finish()) out.add(chunk(i, d, null));
            out.add(chunk(i, ChatCompletionChunk.Delta.EMPTY, streams[i].finishReason(e.finished().finishReason())));
            return out;
        }
        pending.get(i).addAll(e.samples());
        for (var d : streams[i].feed(e.text())) out.add(chunk(i, d, null));
        return out;
    }

    private ChatCompletionChunk chunk(int i, ChatCompletionChunk.Delta d, String finish) {
        ChatLogprobs lp = null;
        if (logprobs != null && !pending.get(i).isEmpty()) {
            lp = logprobs.apply(List.copyOf(pending.get(i)));
            pending.get(i).clear();
        }
        return ChatCompletionChunk.of(h, List.of(new ChatCompletionChunk.Choice(i, d, lp, finish)), usage);
    }
}
