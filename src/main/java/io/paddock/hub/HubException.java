package io.paddock.hub;

/** A hub failure the user can act on (not found, gated, unreachable, a corrupt download): one line, no stack trace. */
public final class HubException extends RuntimeException {
    public HubException(String message) { super(message); }

    public HubException(String message, Throwable cause) { super(message, cause); }
}
