package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;

/**
 * Failures met in a controller leave as OpenAI-shaped errors through {@link HttpErrors}: typed refusals
 * ({@link RequestRejectedException}) as their 4xx/503, framework statuses as themselves, anything else as a logged
 * 500 server_error naming the request id. Failures outside the controllers take the same mapping through
 * {@link OpenAiErrorWebExceptionHandler}.
 */
@RestControllerAdvice
class ApiExceptionHandler {

    /** A typed refusal: the client's business (or a busy server), mapped by {@link OpenAiError#rejected}. */
    @ExceptionHandler(RequestRejectedException.class)
    ResponseEntity<OpenAiError> rejected(RequestRejectedException e) {
        return respond(e, null);
    }

    /** The framework's statuses: unreadable or too large body (400/413), unknown path (404), and the like. */
    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<OpenAiError> status(ResponseStatusException e, ServerWebExchange exchange) {
        return respond(e, exchange);
    }

    /** Anything untyped is a server fault (500 server_error), logged once with the request id. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiError> unexpected(Exception e, ServerWebExchange exchange) {
        return respond(e, exchange);
    }

    private static ResponseEntity<OpenAiError> respond(Throwable e, ServerWebExchange exchange) {
        var m = HttpErrors.map(e, exchange);
        HttpHeaders headers = new HttpHeaders();
        HttpErrors.headers(e).forEach(headers::put);
        if (m.retryAfter() != null) headers.set(HttpHeaders.RETRY_AFTER, m.retryAfter());
        // A set content type skips negotiation: the error reaches a client whose Accept names something else.
        headers.setContentType(MediaType.APPLICATION_JSON);
        return ResponseEntity.status(m.status()).headers(headers).body(m.error());
    }
}
