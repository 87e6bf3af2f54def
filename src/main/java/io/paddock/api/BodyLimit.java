package io.paddock.api;

import io.paddock.config.HttpProperties;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * {@code paddock.http.max-body-bytes}, first half: a body announced larger than the limit by its Content-Length is
 * answered 413 before a byte of it is read. The second half, for bodies sent chunked, is the codecs' in-memory limit
 * ({@link HttpEdge#bodyLimitForCodecs}), which stops reading at the limit with the same 413.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
class BodyLimit implements WebFilter {
    private final long maxBytes;

    BodyLimit(HttpProperties props) {
        this.maxBytes = props.maxBodyBytes().toBytes();
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long length = exchange.getRequest().getHeaders().getContentLength();
        if (length > maxBytes) {
            return Mono.error(new ResponseStatusException(HttpStatus.CONTENT_TOO_LARGE, "Request body too large: "
                    + length + " bytes, the limit is " + maxBytes + " bytes (paddock.http.max-body-bytes)"));
        }
        return chain.filter(exchange);
    }
}
