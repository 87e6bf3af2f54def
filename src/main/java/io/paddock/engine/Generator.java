package io.paddock.engine;

import io.paddock.runtime.cpu.PagedKvStore;
import io.paddock.runtime.cpu.CpuLlama;
import io.paddock.sampling.Sampler;
import io.paddock.tokenizer.IncrementalDetokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one sequence to completion on a model: prefill in chunks, then decode token by token, with EOS,
 * {@code max_tokens}, context-length and stop-string handling. Text handed to {@code onText} never contains a
 * stop string or a broken UTF-8 character; text that could still become a stop string is held back.
 */
public final class Generator {
    /** Rows per prefill step: bounds activation memory while keeping matmuls wide. */
    static final int PREFILL_CHUNK = 256;
    /** Tokens per KV block of the sequence's private store. */
    static final int KV_BLOCK = 16;

    private final LoadedModel model;

    public Generator(LoadedModel model) {
        this.model = model;
    }

    public GenerationResult generate(GenerationRequest req, Consumer<String> onText, BooleanSupplier cancelled) {
        CpuLlama llama = model.runtime();
        int[] prompt = req.promptIds();
        int context = model.contextLength();
        if (prompt.length >= context) {
            throw new IllegalArgumentException("prompt has " + prompt.length + " tokens; the context length is "
                    + context);
        }
        int budget = Math.min(req.maxTokens(), context - prompt.length);
        int capacity = prompt.length + Math.max(budget, 1);
        PagedKvStore kv = llama.newKvStore(Math.ceilDiv(capacity, KV_BLOCK), KV_BLOCK);
        int[] blocks = java.util.stream.IntStream.range(0, kv.numBlocks()).toArray();
        Sampler sampler = new Sampler(req.sampling(), model.checkpoint().config().vocabSize());
        sampler.acceptPrompt(prompt);
        IncrementalDetokenizer detok = new IncrementalDetokenizer(model.tokenizer());
        StopMatcher stops = new StopMatcher(req.stop());

        int[] out = new int[budget];
        int n = 0;
        FinishReason finish = FinishReason.LENGTH;
        if (budget == 0) return new GenerationResult(new int[0], "", finish, prompt.length);

        float[] logits = null;
        for (int start = 0; start < prompt.length; start += PREFILL_CHUNK) {
            int end = Math.min(prompt.length, start + PREFILL_CHUNK);
            var chunk = new CpuLlama.Chunk(blocks, Arrays.copyOfRange(prompt, start, end), start, end == prompt.length);
            logits = llama.forward(kv, List.of(chunk))[0];
            if (cancelled.getAsBoolean()) return cancelledResult(out, n, stops, prompt.length);
        }
        while (true) {
            int token = sampler.sample(logits);
            if (!req.ignoreEos() && model.eosIds().contains(token)) {
                finish = FinishReason.STOP;
                break;
            }
            out[n++] = token;
            String emitted = stops.append(detok.push(token));
            if (!emitted.isEmpty()) onText.accept(emitted);
            if (stops.stopped()) {
                finish = FinishReason.STOP;
                break;
            }
            if (n == budget) break;
            if (cancelled.getAsBoolean()) return cancelledResult(out, n, stops, prompt.length);
            var step = new CpuLlama.Chunk(blocks, new int[] {token}, prompt.length + n - 1, true);
            logits = llama.forward(kv, List.of(step))[0];
        }
        if (!stops.stopped()) {
            String rest = stops.finish(detok.flush());
            if (!rest.isEmpty()) onText.accept(rest);
        }
        return new GenerationResult(Arrays.copyOf(out, n), stops.text(), finish, prompt.length);
    }

    private static GenerationResult cancelledResult(int[] out, int n, StopMatcher stops, int promptTokens) {
        return new GenerationResult(Arrays.copyOf(out, n), stops.text(), FinishReason.CANCELLED, promptTokens);
    }
}
