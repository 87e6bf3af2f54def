package io.paddock.engine;

import io.paddock.sampling.SamplingParams;
import io.paddock.structured.Grammar;
import java.util.List;
import java.util.Objects;

/**
 * A generation request: prompt ids, a token budget, sampling and stop conditions, the client it is for (the
 * configured name of its API key, {@link #ANONYMOUS} without one: a metrics tag, never a secret) and the LoRA adapter
 * to run it with (its served name; null for the bare base model) and the grammar its output must follow (null: free
 * text; see {@code docs/structured-output.md}). Whether it fits a model is decided by
 * {@link Admission}; the checks here refuse values no model could take.
 */
public record GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
        boolean ignoreEos, String client, String adapter, Grammar grammar) {
    /** The client of a request that came without an API key (or from the command line and benchmarks). */
    public static final String ANONYMOUS = "anonymous";

    public GenerationRequest {
        if (promptIds.length == 0) throw RequestRejectedException.invalid("prompt", "prompt has no tokens");
        if (maxTokens < 0) throw RequestRejectedException.invalid("max_tokens", "max_tokens must be >= 0");
        stop = List.copyOf(stop);
        Objects.requireNonNull(client, "client");
    }

    /** A request without a grammar. */
    public GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
            boolean ignoreEos, String client, String adapter) {
        this(promptIds, maxTokens, sampling, stop, ignoreEos, client, adapter, null);
    }

    /** A request on the bare base model. */
    public GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
            boolean ignoreEos, String client) {
        this(promptIds, maxTokens, sampling, stop, ignoreEos, client, null);
    }

    /** The same request run with {@code adapterName} (null: the bare base model). */
    public GenerationRequest withAdapter(String adapterName) {
        return new GenerationRequest(promptIds, maxTokens, sampling, stop, ignoreEos, client, adapterName, grammar);
    }

    /** The same request with its output constrained to {@code g} (null: free text). */
    public GenerationRequest withGrammar(Grammar g) {
        return new GenerationRequest(promptIds, maxTokens, sampling, stop, ignoreEos, client, adapter, g);
    }

    /** The {@code model} a client named: the adapter's name, or {@code baseModel} for the bare base. */
    public String modelName(String baseModel) {
        return adapter == null ? baseModel : adapter;
    }

    /** An anonymous request on the bare base model. */
    public GenerationRequest(int[] promptIds, int maxTokens, SamplingParams sampling, List<String> stop,
            boolean ignoreEos) {
        this(promptIds, maxTokens, sampling, stop, ignoreEos, ANONYMOUS);
    }
}
