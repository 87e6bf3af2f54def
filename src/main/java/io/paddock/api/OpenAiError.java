package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.paddock.engine.RequestRejectedException;
import io.paddock.security.RateLimitExceeded;
import org.springframework.http.HttpStatus;

/** OpenAI's error body: {@code {"error":{"message","type","param","code"}}}; param and code are strings or null. */
public record OpenAiError(Body error) {
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Body(String message, String type, String param, String code) {}

    public static OpenAiError of(String message, String type, String param, String code) {
        return new OpenAiError(new Body(message, type, param, code));
    }

    /**
     * The one mapping from a failure of the engine path to the status and error body clients get: used for plain
     * responses and, after streaming has begun, for the {@code event: error} SSE event. Only a
     * {@link RequestRejectedException} is the client's business; anything else (an {@link IllegalArgumentException}
     * from a kernel included) is a 500 server_error.
     */
    static Mapped from(Throwable e) {
        return from(e, null);
    }

    /**
     * As {@link #from(Throwable)}, and a 500's message ends with the request id ("... (request id req_...)") so that a
     * client's report leads to the server's log line; null or "-" when there is none.
     */
    static Mapped from(Throwable e, String requestId) {
        if (e instanceof RequestRejectedException r) return rejected(r);
        return internal("internal error: " + e.getMessage(), requestId);
    }

    /** A 500 server_error whose message names the request id when there is one. */
    static Mapped internal(String message, String requestId) {
        String m = requestId == null || requestId.equals("-") ? message : message + " (request id " + requestId + ")";
        return new Mapped(HttpStatus.INTERNAL_SERVER_ERROR, of(m, "server_error", null, null), null);
    }

    /** An error of the HTTP layer itself (unknown path, wrong method, ...): invalid_request_error for 4xx, else server_error. */
    static Mapped http(HttpStatus status, String message, String code) {
        String type = status.is4xxClientError() ? "invalid_request_error" : "server_error";
        return new Mapped(status, of(message, type, null, code), null);
    }

    /**
     * Reason by reason (OpenAI's statuses and types):
     * <pre>
     * INVALID_REQUEST          400 invalid_request_error
     * CONTEXT_LENGTH_EXCEEDED  400 invalid_request_error  code context_length_exceeded
     * NOT_FOUND                404 invalid_request_error  (e.g. code model_not_found)
     * FORBIDDEN                403 invalid_request_error  code permission_denied unless given
     * CONFLICT                 409 invalid_request_error  (e.g. code lora_adapter_draining)
     * UNAUTHORIZED             401 invalid_request_error  code invalid_api_key unless given
     * RATE_LIMITED             429 requests               code rate_limit_exceeded unless given, Retry-After: 1
     *                              (a key's limit: type requests or tokens, Retry-After as the limit says)
     * OVERLOADED               503 server_error           code server_overloaded, Retry-After: 1
     * </pre>
     */
    static Mapped rejected(RequestRejectedException r) {
        String m = r.getMessage();
        return switch (r.reason()) {
            case INVALID_REQUEST -> new Mapped(HttpStatus.BAD_REQUEST,
                    of(m, "invalid_request_error", r.param(), r.code()), null);
            case CONTEXT_LENGTH_EXCEEDED -> new Mapped(HttpStatus.BAD_REQUEST,
                    of(m, "invalid_request_error", r.param(), orElse(r.code(), "context_length_exceeded")), null);
            case NOT_FOUND -> new Mapped(HttpStatus.NOT_FOUND,
                    of(m, "invalid_request_error", r.param(), r.code()), null);
            case FORBIDDEN -> new Mapped(HttpStatus.FORBIDDEN,
                    of(m, "invalid_request_error", r.param(), orElse(r.code(), "permission_denied")), null);
            case CONFLICT -> new Mapped(HttpStatus.CONFLICT,
                    of(m, "invalid_request_error", r.param(), r.code()), null);
            case UNAUTHORIZED -> new Mapped(HttpStatus.UNAUTHORIZED,
                    of(m, "invalid_request_error", r.param(), orElse(r.code(), "invalid_api_key")), null);
            case RATE_LIMITED -> r instanceof RateLimitExceeded l
                    ? new Mapped(HttpStatus.TOO_MANY_REQUESTS, of(m, l.type(), r.param(), r.code()), l.retryAfter())
                    : new Mapped(HttpStatus.TOO_MANY_REQUESTS,
                            of(m, "requests", r.param(), orElse(r.code(), "rate_limit_exceeded")), "1");
            case OVERLOADED -> new Mapped(HttpStatus.SERVICE_UNAVAILABLE,
                    of(m, "server_error", r.param(), orElse(r.code(), "server_overloaded")), "1");
        };
    }

    private static String orElse(String v, String fallback) {
        return v != null ? v : fallback;
    }

    /** A status with its error body, and the Retry-After value (seconds) when the client should retry; else null. */
    record Mapped(HttpStatus status, OpenAiError error, String retryAfter) {
        boolean serverFault() { return status.is5xxServerError() && retryAfter == null; }
    }
}
