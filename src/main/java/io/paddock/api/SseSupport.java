package io.paddock.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * OpenAI's streaming wire format: {@code data: <json>} events, then {@code data: [DONE]}. An error after streaming
 * has begun is sent as {@code event: error} with an OpenAI error object (all common clients raise on it). Served
 * as text/event-stream whatever the client's Accept header says (the JS SDK sends application/json).
 */
final class SseSupport {
    private static final Logger log = LoggerFactory.getLogger(SseSupport.class);

    private SseSupport() {}

    static ResponseEntity<Flux<ServerSentEvent<String>>> stream(Flux<?> chunks, ObjectMapper json) {
        Flux<ServerSentEvent<String>> events = chunks
                // The leading space gives OpenAI's exact "data: {...}" framing; SSE parsers drop it.
                .map(c -> ServerSentEvent.<String>builder(" " + json.writeValueAsString(c)).build())
                .concatWith(Mono.just(ServerSentEvent.<String>builder(" [DONE]").build()))
                .onErrorResume(e -> Mono.deferContextual(ctx -> {
                    var m = OpenAiError.from(e, RequestIds.of(ctx));
                    if (m.serverFault()) log.error("request {} failed while streaming", RequestIds.of(ctx), e);
                    return Mono.just(ServerSentEvent.<String>builder(" " + json.writeValueAsString(m.error()))
                            .event("error").build());
                }))
                // A client that leaves mid-stream cancels the events: the access log says so.
                .transformDeferredContextual((flux, ctx) -> flux.doOnCancel(() -> AccessLog.cancelled(ctx)));
        return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                .header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").body(events);
    }
}
