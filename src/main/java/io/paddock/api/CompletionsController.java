package io.paddock.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.engine.GenerationResult;
import io.paddock.tokenizer.Tokenizer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
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
                @ApiResponse(responseCode = "200", content = @Content(mediaType = "application/json",
                        schema = @Schema(implementation = OpenAiSchemas.CompletionResponse.class))),
                @ApiResponse(responseCode = "400", content = @Content(schema = @Schema(implementation = OpenAiSchemas.Error.class)))})
    @PostMapping(path = "/v1/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<?>> complete(@RequestBody JsonNode body) {
        CompletionRequest r = mapper.bind(body, CompletionRequest.class, RequestMapper.COMPLETION_FIELDS);
        RequestMapper.Prepared p = mapper.completion(r);
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        Flux<ChoiceEvent> events = Generations.run(p.service(), p.choices());
        if (p.stream()) return Mono.just(SseSupport.stream(chunks(p, id, created, events), json));
        return collect(p, id, created, events).map(ResponseEntity::ok);
    }

    private Flux<Map<String, Object>> chunks(RequestMapper.Prepared p, String id, long created, Flux<ChoiceEvent> events) {
        Tokenizer tok = p.model().tokenizer();
        int[] completion = new int[p.choices().size()];
        int[] offsets = new int[p.choices().size()];
        Flux<Map<String, Object>> body = events
                .filter(e -> e.isFinish() || !e.text().isEmpty() || (p.logprobs() >= 0 && !e.samples().isEmpty()))
                .map(e -> {
                    Map<String, Object> c = OpenAiResponses.envelope(id, "text_completion", created, p.model().id(), p.model().runtime().name());
                    Object logprobs = null;
                    if (e.isFinish()) {
                        completion[e.index()] = e.finished().completionTokens();
                    } else if (p.logprobs() >= 0) {
                        logprobs = OpenAiResponses.completionLogprobs(tok, e.samples(), offsets[e.index()]);
                    }
                    offsets[e.index()] += e.text().length();
                    c.put("choices", List.of(choice(e.index(), e.text(), logprobs,
                            e.isFinish() ? OpenAiResponses.finishReason(e.finished()) : null)));
                    if (p.includeUsage()) c.put("usage", null);
                    return c;
                });
        if (!p.includeUsage()) return body;
        return body.concatWith(Mono.fromSupplier(() -> {
            Map<String, Object> u = OpenAiResponses.envelope(id, "text_completion", created, p.model().id(), p.model().runtime().name());
            u.put("choices", List.of());
            u.put("usage", OpenAiResponses.usage(p.promptTokens(), Arrays.stream(completion).sum()));
            return u;
        }));
    }

    private Mono<Map<String, Object>> collect(RequestMapper.Prepared p, String id, long created, Flux<ChoiceEvent> events) {
        return Generations.collect(events, p.choices().size()).map(outcomes -> {
            Map<String, Object> m = OpenAiResponses.envelope(id, "text_completion", created, p.model().id(), p.model().runtime().name());
            List<Object> choices = new ArrayList<>();
            int completion = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                GenerationResult r = outcomes.get(i).result();
                Object logprobs = p.logprobs() >= 0
                        ? OpenAiResponses.completionLogprobs(p.model().tokenizer(), outcomes.get(i).samples(), 0) : null;
                choices.add(choice(i, r.text(), logprobs, OpenAiResponses.finishReason(r)));
                completion += r.completionTokens();
            }
            m.put("choices", choices);
            m.put("usage", OpenAiResponses.usage(p.promptTokens(), completion));
            return m;
        });
    }

    private static Map<String, Object> choice(int index, String text, Object logprobs, String finishReason) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("index", index);
        c.put("text", text);
        c.put("logprobs", logprobs);
        c.put("finish_reason", finishReason);
        return c;
    }
}
