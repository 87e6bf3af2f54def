package io.paddock.engine;

import java.util.Objects;

/**
 * A request refused for a reason the client can act on (its own mistake, or a busy server): the only failure that
 * reaches a client as anything but a 500. Anything else thrown while serving a request (an
 * {@link IllegalArgumentException} from a kernel included) is a server fault.
 *
 * <p>{@code param} names the request field at fault (wire name, e.g. {@code messages}, {@code max_tokens}) or is
 * null; {@code code} is the OpenAI error code (e.g. {@code context_length_exceeded}) or null.
 */
public class RequestRejectedException extends RuntimeException {
    /** Why a request was refused; the API maps each to one HTTP status and OpenAI error type. */
    public enum Reason {
        INVALID_REQUEST, CONTEXT_LENGTH_EXCEEDED, OVERLOADED, RATE_LIMITED, UNAUTHORIZED, NOT_FOUND, FORBIDDEN, CONFLICT
    }

    private final Reason reason;
    private final String param;
    private final String code;

    public RequestRejectedException(Reason reason, String message, String param, String code) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.param = param;
        this.code = code;
    }

    /** The client sent something this server cannot accept; {@code param} names the field (or null). */
    public static RequestRejectedException invalid(String param, String message) {
        return new RequestRejectedException(Reason.INVALID_REQUEST, message, param, null);
    }

    /** Prompt plus completion can never fit; {@code param} names the field to shrink. */
    public static RequestRejectedException contextLength(String param, String message) {
        return new RequestRejectedException(Reason.CONTEXT_LENGTH_EXCEEDED, message, param, "context_length_exceeded");
    }

    /** The queue is full: retry later. */
    public static RequestRejectedException overloaded(String message) {
        return overloaded(message, "server_overloaded");
    }

    /** Not taking work now (busy, recovering, shutting down; {@code code} says which): retry later. */
    public static RequestRejectedException overloaded(String message, String code) {
        return new RequestRejectedException(Reason.OVERLOADED, message, null, code);
    }

    /** Something the request names does not exist. */
    public static RequestRejectedException notFound(String param, String message, String code) {
        return new RequestRejectedException(Reason.NOT_FOUND, message, param, code);
    }

    /** The caller is known but may not do this (e.g. an API key that is not an admin key). */
    public static RequestRejectedException forbidden(String message) {
        return new RequestRejectedException(Reason.FORBIDDEN, message, null, "permission_denied");
    }

    /** The request clashes with the server's current state (e.g. an adapter still draining); {@code code} says how. */
    public static RequestRejectedException conflict(String param, String message, String code) {
        return new RequestRejectedException(Reason.CONFLICT, message, param, code);
    }

    public Reason reason() { return reason; }
    public String param() { return param; }
    public String code() { return code; }
}
