package io.paddock.engine;

/**
 * Hears what one engine does, for metrics: a request's way through the queue (queued, first scheduled, first token,
 * tokens, finished or failed), each step, preemptions, and refusals. Every method has a no-op default, and
 * {@link #NONE} is the observer an engine has when given none.
 *
 * <p>Called on the engine thread, except {@link #queued} and {@link #rejected}, which the submitting thread calls.
 * Implementations must return at once: never block, never take a lock the engine could wait on, and avoid
 * allocating per call. Times are {@link System#nanoTime()} differences; the arrival is taken when the request is
 * submitted.
 */
public interface EngineObserver {
    /** Observes nothing. */
    EngineObserver NONE = new EngineObserver() {};

    /** Accepted into the engine's queue (submitting thread). */
    default void queued(GenerationRequest request) {}

    /**
     * Refused when submitted, before it was queued (submitting thread): a full queue, a draining engine, an open step
     * breaker, or a request the engine could never take. Called once per sample of a refused multi-sample request.
     * A queued request the engine refuses later (queue deadline) ends in {@link #failed} instead.
     */
    default void rejected(GenerationRequest request, RequestRejectedException reason) {}

    /** Scheduled for the first time (its prefill starts) after waiting {@code queueNanos} since its arrival. */
    default void scheduled(GenerationRequest request, long queueNanos) {}

    /**
     * Its first output tokens ({@code count}, usually one) reached the listener, {@code sinceArrivalNanos} after it
     * arrived: the time to first token.
     */
    default void firstToken(GenerationRequest request, int count, long sinceArrivalNanos) {}

    /**
     * Later output tokens: {@code count} of them (usually one) reached the listener in one step,
     * {@code sinceLastNanos} after the previous ones.
     */
    default void tokens(GenerationRequest request, int count, long sinceLastNanos) {}

    /**
     * Finished: {@code promptTokens} in, {@code generatedTokens} handed out (what usage reports), {@code totalNanos}
     * since the arrival.
     */
    default void finished(GenerationRequest request, FinishReason reason, int promptTokens, int generatedTokens,
            long totalNanos) {}

    /**
     * Ended with {@code error} after it was queued (the listener got {@code onError}): a server fault, or a
     * {@link RequestRejectedException} when the engine refused it late (it waited past the queue deadline, or a
     * shutdown drain cut it off).
     */
    default void failed(GenerationRequest request, RuntimeException error, int promptTokens, int generatedTokens,
            long totalNanos) {}

    /** One step ran: {@code nanos} from scheduling to the last listener call, over {@code batchSize} sequences. */
    default void step(long nanos, int batchSize, int tokens) {}

    /** {@code count} running sequences lost their KV blocks in one step (they will be recomputed). */
    default void preempted(int count) {}
}
