package io.paddock.engine;

/** Why a sequence stopped, with the names OpenAI clients expect. */
public enum FinishReason {
    STOP("stop"), LENGTH("length"), CANCELLED("cancelled");

    private final String wireName;

    FinishReason(String wireName) { this.wireName = wireName; }

    public String wireName() { return wireName; }
}
