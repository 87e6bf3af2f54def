package io.paddock.api;

import java.util.UUID;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Gives every request an id, sent back as {@code x-request-id} (as OpenAI does), written in the access log and in
 * 500 messages: the client's own {@code x-request-id} when it sent a sane one (so a trace spans both sides), else
 * {@code req_} and 32 hex digits. Kept as an exchange attribute for exception handlers and in the Reactor context for
 * errors met while streaming. First of all filters, so that every answer carries it.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class RequestIds implements WebFilter {
    static final String HEADER = "x-request-id";
    static final String KEY = RequestIds.class.getName() + ".id";
    /** The longest client id echoed; longer ones are replaced. */
    static final int MAX_LENGTH = 128;

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        var sent = exchange.getRequest().getHeaders().get(HEADER);
        String id = choose(sent == null || sent.size() != 1 ? null : sent.getFirst());
        exchange.getAttributes().put(KEY, id);
        exchange.getResponse().getHeaders().set(HEADER, id);
        return chain.filter(exchange).contextWrite(Context.of(KEY, id));
    }

    /** The client's id if it is sane (1 to 128 visible ASCII characters, no spaces), else a new one. */
    static String choose(String sent) {
        return isSane(sent) ? sent : generate();
    }

    static String generate() {
        return "req_" + UUID.randomUUID().toString().replace("-", "");
    }

    static boolean isSane(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) return false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) return false;
        }
        return true;
    }

    static String of(ServerWebExchange exchange) {
        Object id = exchange == null ? null : exchange.getAttribute(KEY);
        return id == null ? "-" : id.toString();
    }

    static String of(ContextView context) {
        return context.getOrDefault(KEY, "-");
    }
}
