package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.paddock.engine.GenerationService;
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
     * responses and, after streaming has begun, for the {@code event: error} SSE event.
     */
    static OpenAiError.Mapped from(Throwable e) {
        return switch (e) {
            case ApiException a -> new Mapped(a.status(), of(a.getMessage(), a.type(), a.param(), a.code()));
            case GenerationService.QueueFullException q -> new Mapped(
                    HttpStatus.SERVICE_UNAVAILABLE, of(q.getMessage(), "server_error", null, "server_overloaded"));
            // The engine refused the request (e.g. it can never fit): the client's mistake, not the server's.
            case IllegalArgumentException i -> new Mapped(HttpStatus.BAD_REQUEST,
                    of(i.getMessage(), "invalid_request_error", null, null));
            default -> new Mapped(HttpStatus.INTERNAL_SERVER_ERROR,
                    of("internal error: " + e.getMessage(), "server_error", null, null));
        };
    }

    /** A status with its error body. */
    record Mapped(HttpStatus status, OpenAiError error) {}
}
