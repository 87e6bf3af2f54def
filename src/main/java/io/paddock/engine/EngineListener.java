package io.paddock.engine;

import io.paddock.sampling.Sample;
import java.util.List;

/**
 * Receives one request's outputs. Called on the engine thread: implementations must hand off quickly (e.g. into
 * a Reactor sink) and never block.
 */
public interface EngineListener {
    /**
     * New tokens and the text they completed: never a broken UTF-8 character, never part of a stop string, and
     * possibly empty (text held back, or ids with no text). Called once per step that accepted tokens.
     * {@code samples} has one entry per id, with log-probabilities when the request asked for them.
     */
    void onText(String delta, int[] tokenIds, List<Sample> samples);

    /** The request is done; no further calls follow. */
    void onFinish(GenerationResult result);

    /** The request failed; no further calls follow. */
    void onError(RuntimeException error);
}
