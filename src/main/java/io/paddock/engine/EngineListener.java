package io.paddock.engine;

/**
 * Receives one request's outputs. Called on the engine thread: implementations must hand off quickly (e.g. into
 * a Reactor sink) and never block.
 */
public interface EngineListener {
    /** New text (never a broken UTF-8 character, never part of a stop string) and the tokens that produced it. */
    void onText(String delta, int[] tokenIds);

    /** The request is done; no further calls follow. */
    void onFinish(GenerationResult result);

    /** The request failed; no further calls follow. */
    void onError(RuntimeException error);
}
