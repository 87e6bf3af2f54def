package io.paddock.api;

import io.paddock.engine.GenerationService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.codec.DecodingException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;

/** Every failure leaves as an OpenAI-shaped error; client mistakes are 4xx, never 500. */
@RestControllerAdvice
class ApiExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<OpenAiError> api(ApiException e) {
        return respond(e);
    }

    @ExceptionHandler(ServerWebInputException.class)
    ResponseEntity<OpenAiError> input(ServerWebInputException e) {
        Throwable cause = e.getMostSpecificCause();
        String detail = cause instanceof DecodingException || cause != e ? cause.getMessage() : e.getReason();
        return ResponseEntity.badRequest().body(OpenAiError.of("Invalid request body: " + firstLine(detail),
                "invalid_request_error", null, null));
    }

    @ExceptionHandler(GenerationService.QueueFullException.class)
    ResponseEntity<OpenAiError> busy(GenerationService.QueueFullException e) {
        var m = OpenAiError.from(e);
        return ResponseEntity.status(m.status()).header("Retry-After", "1").body(m.error());
    }

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<OpenAiError> refused(IllegalArgumentException e) {
        return respond(e);
    }

    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<OpenAiError> status(ResponseStatusException e) {
        HttpStatus s = HttpStatus.resolve(e.getStatusCode().value());
        String type = s != null && s.is4xxClientError() ? "invalid_request_error" : "server_error";
        String message = e.getReason() != null ? e.getReason() : String.valueOf(s);
        return ResponseEntity.status(e.getStatusCode()).body(OpenAiError.of(message, type, null,
                s == HttpStatus.NOT_FOUND ? "not_found" : null));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<OpenAiError> unexpected(Exception e) {
        log.error("request failed", e);
        return respond(e);
    }

    private static ResponseEntity<OpenAiError> respond(Throwable e) {
        var m = OpenAiError.from(e);
        return ResponseEntity.status(m.status()).body(m.error());
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable JSON";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
