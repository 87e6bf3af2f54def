package io.paddock.api;

import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Failures outside the controllers (web filters, content negotiation, an error body that could not be written) get
 * the same OpenAI body as those inside. Ordered before Spring Boot's own error handler (-1), which would answer with
 * its own JSON shape; {@link AccessLog} also calls it, so that the logged status is the one sent.
 */
@Component
@Order(-2)
class OpenAiErrorWebExceptionHandler implements WebExceptionHandler {
    private final ObjectMapper json;

    OpenAiErrorWebExceptionHandler(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
        return HttpErrors.write(exchange, ex, json);
    }
}
