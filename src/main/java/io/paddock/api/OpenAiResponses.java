package io.paddock.api;

import io.paddock.engine.GenerationResult;
import io.paddock.sampling.Sample;
import io.paddock.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns sampled tokens into OpenAI's log-probability shapes, and results into finish reasons. */
final class OpenAiResponses {
    private OpenAiResponses() {}

    /** Chat logprobs: per token its text, logprob, UTF-8 bytes and the top alternatives. */
    static ChatLogprobs chatLogprobs(Tokenizer tokenizer, List<Sample> samples) {
        List<ChatLogprobs.TokenLogprob> content = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            List<ChatLogprobs.TopLogprob> top = new ArrayList<>(s.topIds().length);
            for (int i = 0; i < s.topIds().length; i++) {
                top.add(new ChatLogprobs.TopLogprob(text(tokenizer, s.topIds()[i]), s.topLogprobs()[i],
                        bytes(tokenizer, s.topIds()[i])));
            }
            content.add(new ChatLogprobs.TokenLogprob(text(tokenizer, s.token()), s.logprob(),
                    bytes(tokenizer, s.token()), top));
        }
        return new ChatLogprobs(content, null);
    }

    /** Legacy completions logprobs: parallel arrays {@code tokens, token_logprobs, top_logprobs, text_offset}. */
    static CompletionResponse.Logprobs completionLogprobs(Tokenizer tokenizer, List<Sample> samples, int textOffset) {
        List<String> tokens = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        List<Map<String, Float>> top = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int offset = textOffset;
        for (Sample s : samples) {
            String text = text(tokenizer, s.token());
            tokens.add(text);
            logprobs.add(s.logprob());
            Map<String, Float> alt = new LinkedHashMap<>();
            for (int i = 0; i < s.topIds().length; i++) alt.put(text(tokenizer, s.topIds()[i]), s.topLogprobs()[i]);
            top.add(alt);
            offsets.add(offset);
            offset += text.length();
        }
        return new CompletionResponse.Logprobs(tokens, logprobs, top, offsets);
    }

    private static List<Integer> bytes(Tokenizer tokenizer, int id) {
        byte[] bytes = id < tokenizer.vocabSize() ? tokenizer.pieceBytes(id) : new byte[0];
        List<Integer> b = new ArrayList<>(bytes.length);
        for (byte x : bytes) b.add(x & 0xff);
        return b;
    }

    /** A token's own text (its UTF-8 bytes, lossy for a lone byte piece); "" past the tokenizer. */
    static String text(Tokenizer tokenizer, int id) {
        if (id >= tokenizer.vocabSize()) return "";
        return new String(tokenizer.pieceBytes(id), StandardCharsets.UTF_8);
    }

    static String finishReason(GenerationResult r) {
        return r.finishReason().wireName();
    }
}
