package io.paddock.engine;

/** What one generation produced. {@code text} excludes any stop string. */
public record GenerationResult(int[] tokens, String text, FinishReason finishReason, int promptTokens) {
    public int completionTokens() { return tokens.length; }
}
