package io.paddock.api;

import io.paddock.engine.GenerationResult;
import io.paddock.sampling.Sample;
import io.paddock.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds response objects with exactly OpenAI's field names, order and nulls. */
final class OpenAiResponses {
    private OpenAiResponses() {}

    /** @param runtime the name of the runtime that generated (see {@link RequestMapper#fingerprint}) */
    static Map<String, Object> envelope(String id, String object, long created, String model, String runtime) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", created);
        m.put("model", model);
        m.put("system_fingerprint", RequestMapper.fingerprint(runtime));
        return m;
    }

    static Map<String, Object> usage(int prompt, int completion) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    /** Chat logprobs: {@code {"content":[{"token","logprob","bytes","top_logprobs":[...]}]}}. */
    static Map<String, Object> chatLogprobs(Tokenizer tokenizer, List<Sample> samples) {
        List<Map<String, Object>> content = new ArrayList<>();
        for (Sample s : samples) {
            Map<String, Object> t = tokenEntry(tokenizer, s.token(), s.logprob());
            List<Map<String, Object>> top = new ArrayList<>();
            for (int i = 0; i < s.topIds().length; i++) top.add(tokenEntry(tokenizer, s.topIds()[i], s.topLogprobs()[i]));
            t.put("top_logprobs", top);
            content.add(t);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("content", content);
        m.put("refusal", null);
        return m;
    }

    /** Legacy completions logprobs: parallel arrays {@code tokens, token_logprobs, top_logprobs, text_offset}. */
    static Map<String, Object> completionLogprobs(Tokenizer tokenizer, List<Sample> samples, int textOffset) {
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
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", tokens);
        m.put("token_logprobs", logprobs);
        m.put("top_logprobs", top);
        m.put("text_offset", offsets);
        return m;
    }

    private static Map<String, Object> tokenEntry(Tokenizer tokenizer, int id, float logprob) {
        Map<String, Object> t = new LinkedHashMap<>();
        byte[] bytes = id < tokenizer.vocabSize() ? tokenizer.pieceBytes(id) : new byte[0];
        t.put("token", text(tokenizer, id));
        t.put("logprob", logprob);
        List<Integer> b = new ArrayList<>(bytes.length);
        for (byte x : bytes) b.add(x & 0xff);
        t.put("bytes", b);
        return t;
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
