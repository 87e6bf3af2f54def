package io.paddock.loading;

/** The engine cannot start as configured (backend unavailable, KV pool too large, ...); the message says what to change. */
public final class EngineStartException extends RuntimeException {
    public EngineStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
