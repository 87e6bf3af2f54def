package io.paddock.api;

import java.util.UUID;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Gives every request an id, sent back as {@code x-request-id} (as OpenAI does) and logged with any server fault:
 * kept as an exchange attribute for exception handlers and in the Reactor context for errors met while streaming.
 */
@Component
class RequestIds implements WebFilter {
    static final String HEADER = "x-request-id";
    static final String KEY = RequestIds.class.getName() + ".id";

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String id = "req_" + UUID.randomUUID().toString().replace("-", "");
        exchange.getAttributes().put(KEY, id);
        exchange.getResponse().getHeaders().set(HEADER, id);
        return chain.filter(exchange).contextWrite(Context.of(KEY, id));
    }

    static String of(ServerWebExchange exchange) {
        Object id = exchange == null ? null : exchange.getAttribute(KEY);
        return id == null ? "-" : id.toString();
    }

    static String of(ContextView context) {
        return context.getOrDefault(KEY, "-");
    }
}
