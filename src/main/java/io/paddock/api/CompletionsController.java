package io.paddock.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.engine.GenerationResult;
import io.paddock.tokenizer.Tokenizer;
import io.paddock.security.KeyedCall;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/** {@code POST /v1/completions}: text completion, streaming or not, one or several choices. */
@RestController
class CompletionsController {
    private final RequestMapper mapper;
    private final ObjectMapper json;

    CompletionsController(RequestMapper mapper, ObjectMapper json) {
        this.mapper = mapper;
        this.json = json;
    }

    @Operation(summary = "Create a completion", operationId = "createCompletion",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = CompletionRequest.class))),
            responses = {
                @ApiResponse(responseCode = "200", content = {
                    @Content(mediaType = "application/json", schema = @Schema(implementation = CompletionResponse.class)),
                    @Content(mediaType = "text/event-stream", schema = @Schema(implementation = CompletionResponse.class))}),
                @ApiResponse(responseCode = "400", content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "404", content = @Content(schema = @Schema(implementation = OpenAiError.class)))})
    @PostMapping(path = "/v1/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<?>> complete(@RequestBody JsonNode body, ServerWebExchange exchange) {
        KeyedCall keyed = KeyedCall.of(exchange);
        RequestMapper.Prepared p = mapper.counted(body, keyed,
                () -> mapper.completion(mapper.bind(body, CompletionRequest.class), keyed));
        ResponseHeader h = ResponseHeader.create("cmpl", p.modelName(), p.model().runtime().name());
        Flux<ChoiceEvent> events = Generations.run(p.service(), p.choices());
        if (p.stream()) return Mono.just(SseSupport.stream(chunks(p, h, events), json));
        return collect(p, h, events).map(ResponseEntity::ok);
    }

    private Flux<CompletionResponse> chunks(RequestMapper.Prepared p, ResponseHeader h, Flux<ChoiceEvent> events) {
        Tokenizer tok = p.model().tokenizer();
        int[] completion = new int[p.choices().size()];
        int[] offsets = new int[p.choices().size()];
        // With include_usage every chunk carries "usage": null and a last chunk carries the totals.
        Optional<Usage> none = p.includeUsage() ? Optional.empty() : null;
        Flux<CompletionResponse> body = events
                .filter(e -> e.isFinish() || !e.text().isEmpty() || (p.logprobs() >= 0 && !e.samples().isEmpty()))
                .map(e -> {
                    CompletionResponse.Logprobs logprobs = null;
                    if (e.isFinish()) {
                        completion[e.index()] = e.finished().completionTokens();
                    } else if (p.logprobs() >= 0) {
                        logprobs = OpenAiResponses.completionLogprobs(tok, e.samples(), offsets[e.index()]);
                    }
                    offsets[e.index()] += e.text().length();
                    var choice = new CompletionResponse.Choice(e.index(), e.text(), logprobs,
                            e.isFinish() ? OpenAiResponses.finishReason(e.finished()) : null);
                    return CompletionResponse.of(h, List.of(choice), none);
                });
        if (!p.includeUsage()) return body;
        return body.concatWith(Mono.fromSupplier(() -> CompletionResponse.of(h, List.of(),
                Optional.of(Usage.of(p.promptTokens(), Arrays.stream(completion).sum())))));
    }

    private Mono<CompletionResponse> collect(RequestMapper.Prepared p, ResponseHeader h, Flux<ChoiceEvent> events) {
        return Generations.collect(events, p.choices().size()).map(outcomes -> {
            List<CompletionResponse.Choice> choices = new ArrayList<>();
            int completion = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                GenerationResult r = outcomes.get(i).result();
                CompletionResponse.Logprobs logprobs = p.logprobs() >= 0
                        ? OpenAiResponses.completionLogprobs(p.model().tokenizer(), outcomes.get(i).samples(), 0) : null;
                choices.add(new CompletionResponse.Choice(i, r.text(), logprobs, OpenAiResponses.finishReason(r)));
                completion += r.completionTokens();
            }
            return CompletionResponse.of(h, choices, Optional.of(Usage.of(p.promptTokens(), completion)));
        });
    }
}
