package io.paddock.api;

import io.paddock.engine.GenerationService;
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
    private SseSupport() {}

    static ResponseEntity<Flux<ServerSentEvent<String>>> stream(Flux<?> chunks, ObjectMapper json) {
        Flux<ServerSentEvent<String>> events = chunks
                // The leading space gives OpenAI's exact "data: {...}" framing; SSE parsers drop it.
                .map(c -> ServerSentEvent.<String>builder(" " + json.writeValueAsString(c)).build())
                .concatWith(Mono.just(ServerSentEvent.<String>builder(" [DONE]").build()))
                .onErrorResume(e -> Mono.just(ServerSentEvent.<String>builder(" " + json.writeValueAsString(error(e)))
                        .event("error").build()));
        return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                .header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").body(events);
    }

    static OpenAiError error(Throwable e) {
        return switch (e) {
            case ApiException a -> OpenAiError.of(a.getMessage(), a.type(), a.param(), a.code());
            case GenerationService.QueueFullException q -> OpenAiError.of(q.getMessage(), "server_error", null, "server_overloaded");
            case IllegalArgumentException i -> OpenAiError.of(i.getMessage(), "invalid_request_error", null, null);
            default -> OpenAiError.of("generation failed: " + e.getMessage(), "server_error", null, null);
        };
    }
}
