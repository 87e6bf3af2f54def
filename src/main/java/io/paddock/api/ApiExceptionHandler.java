package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Failures met in a controller leave as OpenAI-shaped errors through {@link HttpErrors}: typed refusals
 * ({@link RequestRejectedException}) as their 4xx/503, framework statuses as themselves, anything else as a logged
 * 500 server_error naming the request id. The answer is written directly, not through content negotiation, which
 * would drop the body of an error whose client sent an Accept header it cannot parse or satisfy. Failures outside the
 * controllers take the same way through {@link OpenAiErrorWebExceptionHandler}.
 */
@RestControllerAdvice
class ApiExceptionHandler {
    private final ObjectMapper json;

    ApiExceptionHandler(ObjectMapper json) {
        this.json = json;
    }

    @ExceptionHandler(Exception.class)
    Mono<Void> handle(Exception e, ServerWebExchange exchange) {
        return HttpErrors.write(exchange, e, json);
    }
}
