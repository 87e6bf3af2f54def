package io.paddock.security;

import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * After authentication: admits a keyed request against its key's concurrency and requests limits (429 here when
 * over), puts OpenAI's {@code x-ratelimit-*} headers on whatever response it gets, and makes the {@link KeyedCall}
 * reachable downstream (an exchange attribute for controllers, the Reactor context for the generation's flux). The call ends with the response, streamed or not.
 */
final class KeyLimitsFilter implements WebFilter {
    static final String ATTRIBUTE = KeyedCall.class.getName();

    private final RateLimits limits;
    private final OpenAiErrorWriter errors;

    KeyLimitsFilter(RateLimits limits, OpenAiErrorWriter errors) {
        this.limits = limits;
        this.errors = errors;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return ReactiveSecurityContextHolder.getContext().map(SecurityContext::getAuthentication)
                .filter(ApiKeyAuthentication.Authenticated.class::isInstance)
                .map(a -> ((ApiKeyAuthentication.Authenticated) a).key())
                .flatMap(key -> admit(limits.of(key), exchange, chain).thenReturn(true))
                .switchIfEmpty(Mono.defer(() -> chain.filter(exchange).thenReturn(true)))
                .then();
    }

    private Mono<Void> admit(KeyLimits key, ServerWebExchange exchange, WebFilterChain chain) {
        exchange.getResponse().beforeCommit(() -> {
            key.headers((name, value) -> exchange.getResponse().getHeaders().set(name, value));
            return Mono.empty();
        });
        KeyedCall call;
        try {
            call = key.admit();
        } catch (RateLimitExceeded e) {
            return errors.rateLimited(exchange.getResponse(), e);
        }
        exchange.getAttributes().put(ATTRIBUTE, call);
        return chain.filter(exchange)
                .contextWrite(ctx -> ctx.put(KeyedCall.class, call))
                .doFinally(signal -> call.finish());
    }
}
