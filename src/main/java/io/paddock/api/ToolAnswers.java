package io.paddock.api;

import io.paddock.chat.CallSyntax;
import io.paddock.chat.ToolCall;
import io.paddock.chat.ToolCallParser;
import io.paddock.engine.FinishReason;
import io.paddock.engine.GenerationResult;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A model's output as OpenAI's answer to a request with tools: {@code message.tool_calls} (or the legacy
 * {@code function_call}) and finish reason {@code tool_calls} ({@code function_call}) when the output is calls, a plain
 * message otherwise. An output cut by max_tokens is a plain message with finish reason {@code length} and the text as
 * generated, even in the middle of a call; a stream has by then sent the call's pieces as they came.
 */
final class ToolAnswers {
    private static final String ALPHANUMERICS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** OpenAI's call ids: {@code call_} and 24 random alphanumerics. */
    static final Supplier<String> IDS = () -> {
        StringBuilder sb = new StringBuilder("call_");
        for (int i = 0; i < 24; i++) sb.append(ALPHANUMERICS.charAt(RANDOM.nextInt(ALPHANUMERICS.length())));
        return sb.toString();
    };

    private final ToolUse use;
    private final CallSyntax syntax;
    private final Supplier<String> ids;

    ToolAnswers(ToolUse use, CallSyntax syntax, Supplier<String> ids) {
        this.use = use;
        this.syntax = syntax;
        this.ids = ids;
    }

    /** The message and finish reason for a whole output. */
    record Answer(ChatCompletionResponse.Message message, String finishReason) {}

    Answer answer(String text, FinishReason engineReason) {
        ToolCallParser parser = parser();
        List<ToolCallParser.Piece> pieces = new ArrayList<>(parser.feed(text));
        pieces.addAll(parser.finish());
        if (engineReason != FinishReason.STOP || !parser.sawCall() || parser.incomplete()) {
            return new Answer(ChatCompletionResponse.Message.assistant(text), engineReason.wireName());
        }
        StringBuilder content = new StringBuilder();
        for (ToolCallParser.Piece p : pieces) if (p instanceof ToolCallParser.Text t) content.append(t.text());
        String before = content.toString().isBlank() ? null : content.toString();
        List<ToolCall> calls = parser.calls();
        if (use.legacy()) {
            ToolCall c = calls.getFirst();
            return new Answer(new ChatCompletionResponse.Message("assistant", before, null, null,
                    new ChatCompletionResponse.FunctionCall(c.name(), c.arguments())), "function_call");
        }
        List<ChatCompletionResponse.ToolCall> wire = calls.stream().map(c -> new ChatCompletionResponse.ToolCall(c.id(),
                "function", new ChatCompletionResponse.FunctionCall(c.name(), c.arguments()))).toList();
        return new Answer(new ChatCompletionResponse.Message("assistant", before, null, wire, null), "tool_calls");
    }

    /** One choice of a stream: text in, deltas out, and the finish reason at the end. */
    Stream stream() {
        return new Stream(parser());
    }

    private ToolCallParser parser() {
        return new ToolCallParser(syntax, use.callableNames(), ids);
    }

    final class Stream {
        private final ToolCallParser parser;

        private Stream(ToolCallParser parser) {
            this.parser = parser;
        }

        List<ChatCompletionChunk.Delta> feed(String text) {
            return deltas(parser.feed(text));
        }

        List<ChatCompletionChunk.Delta> finish() {
            return deltas(parser.finish());
        }

        /** After {@link #finish}: {@code tool_calls} when the output was complete calls, else the engine's reason. */
        String finishReason(FinishReason engineReason) {
            if (engineReason != FinishReason.STOP || !parser.sawCall() || parser.incomplete()) return engineReason.wireName();
            return use.legacy() ? "function_call" : "tool_calls";
        }

        private List<ChatCompletionChunk.Delta> deltas(List<ToolCallParser.Piece> pieces) {
            List<ChatCompletionChunk.Delta> out = new ArrayList<>(pieces.size());
            for (ToolCallParser.Piece p : pieces) {
                if (isLegacySecondCall(use, p)) continue;
                out.add(switch (p) {
                    case ToolCallParser.Text t -> new ChatCompletionChunk.Delta(null, t.text());
                    case ToolCallParser.CallStart c -> use.legacy()
                            ? new ChatCompletionChunk.Delta(null, null, null, new ChatCompletionChunk.FunctionDelta(c.name(), ""))
                            : new ChatCompletionChunk.Delta(null, null, List.of(new ChatCompletionChunk.ToolCallDelta(c.index(),
                                    c.id(), "function", new ChatCompletionChunk.FunctionDelta(c.name(), ""))), null);
                    case ToolCallParser.Arguments a -> use.legacy()
                            ? new ChatCompletionChunk.Delta(null, null, null, new ChatCompletionChunk.FunctionDelta(null, a.fragment()))
                            : new ChatCompletionChunk.Delta(null, null, List.of(new ChatCompletionChunk.ToolCallDelta(a.index(),
                                    null, null, new ChatCompletionChunk.FunctionDelta(null, a.fragment()))), null);
                });
            }
            return out;
        }
    }

    /** A legacy answer holds one call ({@code function_call}): pieces of later ones are not shown. */
    private static boolean isLegacySecondCall(ToolUse use, ToolCallParser.Piece p) {
        return use.legacy() && (p instanceof ToolCallParser.CallStart c && c.index() > 0
                || p instanceof ToolCallParser.Arguments a && a.index() > 0);
    }
}
