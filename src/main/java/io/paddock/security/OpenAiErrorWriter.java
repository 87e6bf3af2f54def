package io.paddock.security;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Writes the 401s and 429s refused before a controller runs, in OpenAI's error shape. The record mirrors
 * {@code api.OpenAiError}: this package sits beside {@code api}, which calls into it, so it cannot import it back.
 */
final class OpenAiErrorWriter {
    record Error(Body error) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Body(String message, String type, String param, String code) {}

    static final String MISSING_KEY = "You didn't provide an API key. You need to provide your API key in an"
            + " Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    static final String WRONG_KEY = "Incorrect API key provided. You can find your API key with the operator of"
            + " this server.";

    private final ObjectMapper json;

    OpenAiErrorWriter(ObjectMapper json) {
        this.json = json;
    }

    Mono<Void> unauthorized(ServerHttpResponse response, boolean keyGiven) {
        return write(response, HttpStatus.UNAUTHORIZED, null,
                new Body(keyGiven ? WRONG_KEY : MISSING_KEY, "invalid_request_error", null, "invalid_api_key"));
    }

    Mono<Void> rateLimited(ServerHttpResponse response, RateLimitExceeded e) {
        return write(response, HttpStatus.TOO_MANY_REQUESTS, e.retryAfter(),
                new Body(e.getMessage(), e.type(), null, e.code()));
    }

    private Mono<Void> write(ServerHttpResponse response, HttpStatus status, String retryAfter, Body body) {
        if (response.isCommitted()) return Mono.empty();
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        if (retryAfter != null) response.getHeaders().set("Retry-After", retryAfter);
        byte[] bytes = json.writeValueAsBytes(new Error(body));
        DataBuffer buffer = response.bufferFactory().wrap(bytes);
        return response.writeWith(Mono.just(buffer));
    }
}
