package io.paddock.api;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatusCode;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.DisconnectedClientHelper;
import org.springframework.web.util.pattern.PathPattern;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * One line per request on the {@code paddock.access} logger (INFO), written when the answer is complete:
 * <pre>POST /v1/chat/completions 200 812ms req_3f2a... </pre>
 * method, the matched path template ({@code /v1/models/{id}}, never the model name in it; the raw path, cut at 128
 * characters, when nothing matched), status, duration, request id, and {@code cancelled} (the client stopped
 * reading), {@code aborted} (the connection was lost) or {@code failed} when the answer did not end normally. Failures are rendered here, inside the filter, so the line shows the status sent.
 * Requests refused by the Netty layer ({@link MalformedRequests}) get the same line.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class AccessLog implements WebFilter {
    static final Logger log = LoggerFactory.getLogger("paddock.access");
    private static final int MAX_PATH = 128;
    private static final String OUTCOME = AccessLog.class.getName() + ".outcome";

    private final OpenAiErrorWebExceptionHandler errors;

    AccessLog(OpenAiErrorWebExceptionHandler errors) {
        this.errors = errors;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long start = System.nanoTime();
        AtomicReference<Throwable> unanswered = new AtomicReference<>();
        AtomicReference<String> streamOutcome = new AtomicReference<>();
        return chain.filter(exchange)
                .onErrorResume(e -> errors.handle(exchange, e))
                .doOnError(unanswered::set)
                .doFinally(signal -> {
                    if (!log.isInfoEnabled()) return;
                    HttpStatusCode status = exchange.getResponse().getStatusCode();
                    String outcome = switch (signal) {
                        case CANCEL -> "cancelled";
                        case ON_ERROR -> DisconnectedClientHelper.isClientDisconnectedException(unanswered.get())
                                ? "aborted" : "failed";
                        default -> streamOutcome.get();
                    };
                    log.info(line(exchange.getRequest().getMethod().name(), path(exchange), status == null ? 200 : status.value(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), RequestIds.of(exchange), outcome));
                })
                .contextWrite(Context.of(OUTCOME, streamOutcome));
    }

    /** A stream's events were cancelled: the client left before the end (the chain itself may still complete). */
    static void cancelled(ContextView ctx) {
        AtomicReference<String> outcome = ctx.getOrDefault(OUTCOME, null);
        if (outcome != null) outcome.set("cancelled");
    }

    static String line(String method, String path, int status, long millis, String requestId, String outcome) {
        String line = method + " " + path + " " + status + " " + millis + "ms " + requestId;
        return outcome == null ? line : line + " " + outcome;
    }

    private static String path(ServerWebExchange exchange) {
        Object pattern = exchange.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        if (pattern instanceof PathPattern p && !p.getPatternString().equals("/**")) return p.getPatternString();
        return bounded(exchange.getRequest().getPath().value());
    }

    /** A raw path fit for a log line or a message: at most 128 characters, nothing outside visible ASCII. */
    static String bounded(String path) {
        StringBuilder sb = new StringBuilder(Math.min(path.length(), MAX_PATH + 3));
        for (int i = 0; i < path.length() && i < MAX_PATH; i++) {
            char c = path.charAt(i);
            sb.append(c > 0x20 && c < 0x7f ? c : '?');
        }
        if (path.length() > MAX_PATH) sb.append("...");
        return sb.toString();
    }
}
