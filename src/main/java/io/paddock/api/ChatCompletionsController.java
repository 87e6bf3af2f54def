package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.paddock.chat.CallSyntax;
import io.paddock.engine.GenerationResult;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import io.paddock.security.KeyedCall;
import io.paddock.structured.Grammar;
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
                    @Content(mediaType = "application/json", schema = @Schema(implementation = ChatCompletionResponse.class)),
                    @Content(mediaType = "text/event-stream", schema = @Schema(implementation = ChatCompletionChunk.class))}),
                @ApiResponse(responseCode = "400", content = @Content(schema = @Schema(implementation = OpenAiError.class))),
                @ApiResponse(responseCode = "404", content = @Content(schema = @Schema(implementation = OpenAiError.class)))})
    @PostMapping(path = "/v1/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<ResponseEntity<?>> complete(@RequestBody JsonNode body, ServerWebExchange exchange) {
        KeyedCall keyed = KeyedCall.of(exchange);
        Chat c = mapper.counted(body, keyed, () -> prepare(body, keyed));
        RequestMapper.Prepared p = c.prepared();
        ResponseHeader h = ResponseHeader.create("chatcmpl", p.modelName(), p.model().runtime().name());
        Flux<ChoiceEvent> events = Generations.run(p.service(), p.choices());
        if (p.stream()) return Mono.just(SseSupport.stream(chunks(c, h, events), json));
        return collect(c, h, events).map(ResponseEntity::ok);
    }

    /** A prepared chat request and, when its output is read as tool calls, how (else null). */
    private record Chat(RequestMapper.Prepared prepared, ToolAnswers tools) {}

    private Chat prepare(JsonNode body, KeyedCall keyed) {
        ChatCompletionRequest r = mapper.bind(body, ChatCompletionRequest.class);
        ModelRegistry.Resolved target = mapper.resolve(r.model());
        ToolUse tools = ToolRequests.tools(r);
        ToolRequests.OutputFormat format = ToolRequests.responseFormat(r.responseFormat());
        ToolRequests.checkCombination(tools, format);
        // An adapter runs under its base model's chat template.
        ChatSupport.Prompt prompt = chat.render(target.service().model(), r.messages(), r.chatTemplate(), tools.tools());
        CallSyntax syntax = prompt.toolCalls().syntax();
        Grammar grammar = OutputConstraints.compile(tools.active() ? OutputConstraints.tools(tools, syntax)
                : OutputConstraints.responseFormat(format));
        Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        String maxParam = r.maxCompletionTokens() != null ? "max_completion_tokens" : "max_tokens";
        RequestMapper.Prepared p = mapper.prepare(target, r, true, prompt.ids(), max, maxParam, 0,
                prompt.rendered().stopStrings(), keyed);
        return new Chat(p.withGrammar(grammar), tools.active() ? new ToolAnswers(tools, syntax, ToolAnswers.IDS) : null);
    }

    /** What a chat request renders to: the prompt text and token ids, the template, the stop strings it adds. */
    public record RenderedChat(String model, @JsonProperty("chat_template") String chatTemplate, String prompt,
            @JsonProperty("prompt_token_ids") int[] promptTokenIds, @JsonProperty("prompt_tokens") int promptTokens,
            List<String> stop) {}

    /** The exact prompt text and token ids a chat request renders to, and the stop strings it adds. */
    @Operation(summary = "Preview the prompt a chat renders to (text, token ids, stop strings)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    schema = @Schema(implementation = ChatCompletionRequest.class))))
    @PostMapping(path = "/v1/chat/completions/render", consumes = MediaType.APPLICATION_JSON_VALUE)
    RenderedChat render(@RequestBody JsonNode body) {
        ChatCompletionRequest r = mapper.bind(body, ChatCompletionRequest.class);
        ModelRegistry.Resolved target = mapper.resolve(r.model());
        GenerationService service = target.service();
        ToolUse tools = ToolRequests.tools(r);
        ChatSupport.Prompt prompt = chat.render(service.model(), r.messages(), r.chatTemplate(), tools.tools());
        return new RenderedChat(target.modelName(), prompt.template(), prompt.rendered().text(), prompt.ids(),
                prompt.ids().length, prompt.rendered().stopStrings());
    }

    private Flux<ChatCompletionChunk> chunks(Chat c, ResponseHeader h, Flux<ChoiceEvent> events) {
        RequestMapper.Prepared p = c.prepared();
        int n = p.choices().size();
        int[] completion = new int[n];
        // With include_usage every chunk carries "usage": null and a last chunk carries the totals.
        Optional<Usage> none = p.includeUsage() ? Optional.empty() : null;
        // OpenAI opens every choice with a chunk carrying the role and empty content.
        List<ChatCompletionChunk> openers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            openers.add(ChatCompletionChunk.of(h, List.of(new ChatCompletionChunk.Choice(i,
                    new ChatCompletionChunk.Delta("assistant", ""), null, null)), none));
        }
        Flux<ChoiceEvent> shown = events
                .filter(e -> e.isFinish() || !e.text().isEmpty() || (p.logprobs() >= 0 && !e.samples().isEmpty()));
        Flux<ChatCompletionChunk> body = c.tools() != null
                ? shown.concatMapIterable(new ToolChunks(c.tools(), h, none, completion, p.logprobs() < 0 ? null
                        : samples -> OpenAiResponses.chatLogprobs(p.model().tokenizer(), samples))::of)
                : shown.map(e -> {
                    if (e.isFinish()) {
                        completion[e.index()] = e.finished().completionTokens();
                        return ChatCompletionChunk.of(h, List.of(new ChatCompletionChunk.Choice(e.index(),
                                ChatCompletionChunk.Delta.EMPTY, null, OpenAiResponses.finishReason(e.finished()))), none);
                    }
                    ChatLogprobs logprobs = p.logprobs() >= 0
                            ? OpenAiResponses.chatLogprobs(p.model().tokenizer(), e.samples()) : null;
                    return ChatCompletionChunk.of(h, List.of(new ChatCompletionChunk.Choice(e.index(),
                            new ChatCompletionChunk.Delta(null, e.text()), logprobs, null)), none);
                });
        Flux<ChatCompletionChunk> all = Flux.fromIterable(openers).concatWith(body);
        if (!p.includeUsage()) return all;
        return all.concatWith(Mono.fromSupplier(() -> ChatCompletionChunk.of(h, List.of(),
                Optional.of(Usage.of(p.promptTokens(), Arrays.stream(completion).sum())))));
    }

    private Mono<ChatCompletionResponse> collect(Chat c, ResponseHeader h, Flux<ChoiceEvent> events) {
        RequestMapper.Prepared p = c.prepared();
        return Generations.collect(events, p.choices().size()).map(outcomes -> {
            List<ChatCompletionResponse.Choice> choices = new ArrayList<>();
            int completion = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                GenerationResult r = outcomes.get(i).result();
                ChatLogprobs logprobs = p.logprobs() >= 0
                        ? OpenAiResponses.chatLogprobs(p.model().tokenizer(), outcomes.get(i).samples()) : null;
                if (c.tools() != null) {
                    ToolAnswers.Answer a = c.tools().answer(r.text(), r.finishReason());
                    choices.add(new ChatCompletionResponse.Choice(i, a.message(), logprobs, a.finishReason()));
                } else {
                    choices.add(new ChatCompletionResponse.Choice(i, ChatCompletionResponse.Message.assistant(r.text()),
                            logprobs, OpenAiResponses.finishReason(r)));
                }
                completion += r.completionTokens();
            }
            return ChatCompletionResponse.of(h, choices, Usage.of(p.promptTokens(), completion));
        });
    }
}
