package io.paddock.engine;

import io.paddock.loading.LoadedModel;
import io.paddock.sampling.Sample;
import io.paddock.sampling.Sampler;
import io.paddock.structured.TokenConstraint;
import io.paddock.structured.TokenIndex;
import io.paddock.tokenizer.IncrementalDetokenizer;
import io.paddock.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output side of the engine, per request: sampling bookkeeping (the sampler, log-probability samples),
 * detokenizing, stop strings, turning accepted tokens into text deltas for the request's {@link EngineListener}
 * (holding back text that may still become a stop string) and finishing with a reason. The serving loop
 * ({@link EngineCore}) owns scheduling, the forward pass and the KV memory, and calls this after each step; this
 * class never touches the scheduler or the runtime, so it can be driven by a token stream alone.
 *
 * <p>Single-threaded: only the engine thread calls it.
 */
final class OutputProcessor {
    private static final Logger log = LoggerFactory.getLogger(OutputProcessor.class);

    /** Per-request output state, kept beside the scheduler's {@link Sequence}. */
    static final class RequestState {
        final Sequence seq;
        final GenerationRequest request;
        final EngineListener listener;
        final Sampler sampler;
        final IncrementalDetokenizer detokenizer;
        final StopMatcher stops;
        final TokenConstraint constraint; // null: free text
        final List<Sample> samples = new ArrayList<>(); // (output tokens), kept until emitted
        final boolean logprobs;
        int emitted; // output tokens already turned into text
        long arrivalNanos; // when it was submitted (System.nanoTime on the caller's thread)
        long queuedPromptTokens; // its share of the engine's waiting prompt tokens; 0 once it has started
        boolean started; // scheduled at least once
        long lastEmitNanos; // when output tokens last went to the listener (for the engine's observer)

        private RequestState(Sequence seq, GenerationRequest request, EngineListener listener, Sampler sampler,
                IncrementalDetokenizer detokenizer, StopMatcher stops, TokenConstraint constraint) {
            this.seq = seq;
            this.constraint = constraint;
            this.request = request;
            this.listener = listener;
            this.sampler = sampler;
            this.detokenizer = detokenizer;
            this.stops = stops;
            this.logprobs = sampler.params().logprobs() >= 0;
        }

        Sequence seq() { return seq; }

        /** Output tokens already handed to the listener. */
        int emitted() { return emitted; }
    }

    private final Tokenizer tokenizer;
    private final int vocabSize;
    private final Set<Integer> eosIds;
    private final int contextLength;

    /**
     * @param tokenizer     turns ids into text; ids at or past its vocabulary (padded embedding rows) have none
     * @param vocabSize     the model's logit count (the sampler's vocabulary)
     * @param eosIds        the tokens that end a sequence unless a request ignores EOS
     * @param contextLength the model's context length
     */
    OutputProcessor(Tokenizer tokenizer, int vocabSize, Set<Integer> eosIds, int contextLength) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
        this.eosIds = Set.copyOf(eosIds);
        this.contextLength = contextLength;
    }

    static OutputProcessor of(LoadedModel model) {
        return new OutputProcessor(model.tokenizer(), model.checkpoint().config().vocabSize(), model.eosIds(),
                model.contextLength());
    }

    /** A request's sequence (EOS stops it unless the request ignores EOS) and its output state. */
    RequestState open(long id, GenerationRequest r, EngineListener listener) {
        Sequence seq = new Sequence(id, r.promptIds(), r.maxTokens(), r.ignoreEos() ? Set.of() : eosIds,
                contextLength);
        Sampler sampler = new Sampler(r.sampling(), vocabSize);
        sampler.acceptPrompt(r.promptIds());
        TokenConstraint constraint = r.grammar() == null ? null
                : new TokenConstraint(r.grammar(), TokenIndex.of(tokenizer), eosIds);
        return new RequestState(seq, r, listener, sampler, new IncrementalDetokenizer(tokenizer),
                new StopMatcher(r.stop()), constraint);
    }

    /**
     * Chooses the next token from {@code logits} (modified in place) and keeps its sample until it is emitted. With a
     * grammar, every token that cannot continue a valid output is masked first (so logprobs describe the allowed
     * tokens only), and the chosen one advances the grammar.
     *
     * @throws GrammarDeadEnd when the grammar allows no token of this vocabulary (the request fails, nothing else)
     */
    int sample(RequestState a, float[] logits) {
        TokenConstraint c = a.constraint;
        if (c != null) c.mask(logits);
        Sample sample;
        try {
            sample = a.logprobs ? a.sampler.sampleWithLogprobs(logits) : Sample.of(a.sampler.sample(logits));
        } catch (IllegalArgumentException e) {
            if (c == null) throw e;
            throw new GrammarDeadEnd(a.request.grammar().describe(), e);
        }
        if (c != null && !eosIds.contains(sample.token())) c.accept(sample.token());
        a.samples.add(sample);
        return sample.token();
    }

    /** The request's grammar is complete and allows nothing more: the sequence ends here (finish reason stop). */
    static boolean grammarComplete(RequestState a) {
        return a.constraint != null && a.constraint.isTerminal();
    }

    /** No token of the vocabulary continues the output: the grammar cannot be followed with this tokenizer. */
    static final class GrammarDeadEnd extends IllegalStateException {
        GrammarDeadEnd(String grammar, Throwable cause) {
            super("no token of the model's vocabulary can continue the output under " + grammar, cause);
        }
    }

    /**
     * Turns output tokens not yet shown into text and hands them to the listener. Returns true when a stop string
     * ended the sequence here: the caller then finishes it with {@link FinishReason#STOP}.
     */
    boolean emit(RequestState a) {
        // Only the tokens added since the last call: copying the whole output every step would be quadratic.
        int total = a.seq.numOutputTokens();
        if (a.emitted == total) return false;
        int from = a.emitted, promptLength = a.seq.promptLength();
        int[] fresh = new int[total - from];
        for (int i = 0; i < fresh.length; i++) fresh[i] = a.seq.tokenAt(promptLength + from + i);
        StringBuilder text = new StringBuilder();
        int tokenizerSize = tokenizer.vocabSize();
        for (int i = 0; i < fresh.length && !a.stops.stopped(); i++) {
            // Ids past the tokenizer (a model's padded embedding rows) have no text.
            if (fresh[i] < tokenizerSize) text.append(a.stops.append(a.detokenizer.push(fresh[i])));
            a.emitted = from + i + 1;
        }
        // Called for every accepted token, even when its text is held back (or it has none), so listeners can count.
        List<Sample> samples = List.copyOf(a.samples.subList(0, a.emitted - from));
        a.samples.subList(0, a.samples.size()).clear();
        a.listener.onText(text.toString(), Arrays.copyOf(fresh, a.emitted - from), samples);
        return a.stops.stopped();
    }

    /**
     * Tells the listener the request is done: the text held back goes out first (unless a stop string or a cancel
     * ended it), then the result. The caller has already freed the sequence.
     */
    void finish(RequestState a, FinishReason reason) {
        if (!a.stops.stopped() && reason != FinishReason.CANCELLED) {
            String rest = a.stops.finish(a.detokenizer.flush());
            if (!rest.isEmpty()) a.listener.onText(rest, new int[0], List.of());
        }
        int[] tokens = Arrays.copyOf(a.seq.outputIds(), a.emitted);
        try {
            a.listener.onFinish(new GenerationResult(tokens, a.stops.text(), reason, a.seq.promptLength()));
        } catch (RuntimeException e) {
            log.warn("listener of request {} failed", a.seq.id(), e);
        }
    }

    /** Tells the listener the request failed. */
    void fail(RequestState a, RuntimeException error) {
        try {
            a.listener.onError(error);
        } catch (RuntimeException e) {
            log.warn("listener of request {} failed", a.seq.id(), e);
        }
    }

    /** Finishes a request that never produced a token (max_tokens 0, or cancelled before admission). */
    static void finishEmpty(EngineListener listener, GenerationRequest r, FinishReason reason) {
        listener.onFinish(new GenerationResult(new int[0], "", reason, r.promptIds().length));
    }
}
