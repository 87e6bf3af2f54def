package io.paddock.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
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

/** {@code POST /v1/chat/completions}, streaming or not, and a preview of the prompt a chat renders to. */
@RestController
class ChatCompletionsController {
    private final RequestMapper mapper;
    private final ChatSupport chat;
    private final ObjectMapper json;

    ChatCompletionsController(RequestMapper mapper, ChatSupport chat, ObjectMapper json) {
        this.mapper = mapper;
        this.chat = chat;
        this.json = json;
    }

    @Operation(summary = "Create a chat completion", operationId = "createChatCompletion",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = ChatCompletionRequest.class))),
            responses = {
                @ApiResponse(responseCode = "200", content = {
                    @Content(mediaType = "application/json", schema = @Schema(implementation = OpenAiSchemas.ChatCompletionResponse.class)),
                    @Content(mediaType = "text/event-stream", schema = @Schema(implementation = OpenAiSchemas.ChatCompletionChunk.class))}),
                @ApiResponse(responseCode = "400", content = @Content(schema = @Schema(implementation = OpenAiSchemas.Error.class))),
                @ApiResponse(responseCode = "404", content = @Content(schema = @Schema(implementation = OpenAiSchemas.Error.class)))})
    @PostMapping(path = "/v1/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<?>> complete(@RequestBody JsonNode body) {
        ChatCompletionRequest r = mapper.bind(body, ChatCompletionRequest.class, RequestMapper.CHAT_FIELDS);
        GenerationService service = mapper.service(r.model());
        ChatSupport.Prompt prompt = chat.render(service.model(), r.messages(), r.chatTemplate());
        Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        String maxParam = r.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        RequestMapper.Prepared p = mapper.prepare(service, r, true, prompt.ids(), max, maxParam, 0,
                prompt.rendered().stopStrings());
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        Flux<ChoiceEvent> events = Generations.run(p.service(), p.choices());
        if (p.stream()) return Mono.just(SseSupport.stream(chunks(p, id, created, events), json));
        return collect(p, id, created, events).map(ResponseEntity::ok);
    }

    /** The exact prompt text and token ids a chat request renders to, and the stop strings it adds. */
    @Operation(summary = "Preview the prompt a chat renders to (text, token ids, stop strings)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = ChatCompletionRequest.class))))
    @PostMapping(path = "/v1/chat/completions/render", consumes = MediaType.APPLICATION_JSON_VALUE)
    Map<String, Object> render(@RequestBody JsonNode body) {
        ChatCompletionRequest r = mapper.bind(body, ChatCompletionRequest.class, RequestMapper.CHAT_FIELDS);
        GenerationService service = mapper.service(r.model());
        ChatSupport.Prompt prompt = chat.render(service.model(), r.messages(), r.chatTemplate());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", service.model().id());
        m.put("chat_template", prompt.template());
        m.put("prompt", prompt.rendered().text());
        m.put("prompt_token_ids", prompt.ids());
        m.put("prompt_tokens", prompt.ids().length);
        m.put("stop", prompt.rendered().stopStrings());
        return m;
    }

    private Flux<Map<String, Object>> chunks(RequestMapper.Prepared p, String id, long created, Flux<ChoiceEvent> events) {
        String model = p.model().id();
        int n = p.choices().size();
        int[] completion = new int[n];
        // OpenAI opens every choice with a chunk carrying the role and empty content.
        List<Map<String, Object>> openers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> delta = new LinkedHashMap<>();
            delta.put("role", "assistant");
            delta.put("content", "");
            openers.add(chunk(p, id, created, model, choice(i, "delta", delta, null, null)));
        }
        Flux<Map<String, Object>> body = events
                .filter(e -> e.isFinish() || !e.text().isEmpty() || (p.logprobs() >= 0 && !e.samples().isEmpty()))
                .map(e -> {
                    if (e.isFinish()) {
                        completion[e.index()] = e.finished().completionTokens();
                        return chunk(p, id, created, model, choice(e.index(), "delta", Map.of(), null,
                                OpenAiResponses.finishReason(e.finished())));
                    }
                    Object logprobs = p.logprobs() >= 0 ? OpenAiResponses.chatLogprobs(p.model().tokenizer(), e.samples()) : null;
                    return chunk(p, id, created, model, choice(e.index(), "delta", Map.of("content", e.text()), logprobs, null));
                });
        Flux<Map<String, Object>> all = Flux.fromIterable(openers).concatWith(body);
        if (!p.includeUsage()) return all;
        return all.concatWith(Mono.fromSupplier(() -> {
            Map<String, Object> u = OpenAiResponses.envelope(id, "chat.completion.chunk", created, model, p.model().runtime().name());
            u.put("choices", List.of());
            u.put("usage", OpenAiResponses.usage(p.promptTokens(), Arrays.stream(completion).sum()));
            return u;
        }));
    }

    private static Map<String, Object> chunk(RequestMapper.Prepared p, String id, long created, String model,
            Map<String, Object> choice) {
        Map<String, Object> c = OpenAiResponses.envelope(id, "chat.completion.chunk", created, model, p.model().runtime().name());
        c.put("choices", List.of(choice));
        if (p.includeUsage()) c.put("usage", null);
        return c;
    }

    private Mono<Map<String, Object>> collect(RequestMapper.Prepared p, String id, long created, Flux<ChoiceEvent> events) {
        return Generations.collect(events, p.choices().size()).map(outcomes -> {
            Map<String, Object> m = OpenAiResponses.envelope(id, "chat.completion", created, p.model().id(), p.model().runtime().name());
            List<Object> choices = new ArrayList<>();
            int completion = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                GenerationResult r = outcomes.get(i).result();
                Map<String, Object> message = new LinkedHashMap<>();
                message.put("role", "assistant");
                message.put("content", r.text());
                message.put("refusal", null);
                Object logprobs = p.logprobs() >= 0
                        ? OpenAiResponses.chatLogprobs(p.model().tokenizer(), outcomes.get(i).samples()) : null;
                choices.add(choice(i, "message", message, logprobs, OpenAiResponses.finishReason(r)));
                completion += r.completionTokens();
            }
            m.put("choices", choices);
            m.put("usage", OpenAiResponses.usage(p.promptTokens(), completion));
            return m;
        });
    }

    private static Map<String, Object> choice(int index, String key, Map<String, Object> content, Object logprobs,
            String finishReason) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("index", index);
        c.put(key, content);
        c.put("logprobs", logprobs);
        c.put("finish_reason", finishReason);
        return c;
    }
}
