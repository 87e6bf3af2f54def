package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.codec.DecodingException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;

/**
 * Every failure leaves as an OpenAI-shaped error: typed refusals ({@link RequestRejectedException}) as their 4xx/503,
 * framework input errors as 400, anything else as a logged 500 server_error.
 */
@RestControllerAdvice
class ApiExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    /** A typed refusal: the client's business (or a busy server), mapped by {@link OpenAiError#rejected}. */
    @ExceptionHandler(RequestRejectedException.class)
    ResponseEntity<OpenAiError> rejected(RequestRejectedException e) {
        return respond(e);
    }

    @ExceptionHandler(ServerWebInputException.class)
    ResponseEntity<OpenAiError> input(ServerWebInputException e) {
        Throwable cause = e.getMostSpecificCause();
        String detail = cause instanceof DecodingException || cause != e ? cause.getMessage() : e.getReason();
        return ResponseEntity.badRequest().body(OpenAiError.of("Invalid request body: " + firstLine(detail),
                "invalid_request_error", null, null));
    }

    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<OpenAiError> status(ResponseStatusException e) {
        HttpStatus s = HttpStatus.resolve(e.getStatusCode().value());
        String type = s != null && s.is4xxClientError() ? "invalid_request_error" : "server_error";
        String message = e.getReason() != null ? e.getReason() : String.valueOf(s);
        return ResponseEntity.status(e.getStatusCode()).body(OpenAiError.of(message, type, null,
                s == HttpStatus.NOT_FOUND ? "not_found" : null));
    }

    /** Anything untyped is a server fault (500 server_error), logged once with the request id. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiError> unexpected(Exception e, ServerWebExchange exchange) {
        log.error("request {} failed", RequestIds.of(exchange), e);
        return respond(e);
    }

    private static ResponseEntity<OpenAiError> respond(Throwable e) {
        var m = OpenAiError.from(e);
        var response = ResponseEntity.status(m.status());
        if (m.retryAfter() != null) response.header("Retry-After", m.retryAfter());
        return response.body(m.error());
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable JSON";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
