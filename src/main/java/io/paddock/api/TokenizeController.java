package io.paddock.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.GenerationService;
import io.paddock.tokenizer.Tokenizer;
import java.util.List;
import io.swagger.v3.oas.annotations.Operation;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /tokenize} (a prompt, or chat messages through the model's template) and {@code POST /detokenize},
 * shaped as vLLM's extras.
 */
@RestController
class TokenizeController {
    private final RequestMapper mapper;
    private final ChatSupport chat;

    TokenizeController(RequestMapper mapper, ChatSupport chat) {
        this.mapper = mapper;
        this.chat = chat;
    }

    /** {@code POST /tokenize}: a prompt, or chat messages rendered through the model's template. */
    public record TokenizeRequest(String model, JsonNode prompt, List<JsonNode> messages,
            @JsonProperty("add_special_tokens") Boolean addSpecialTokens) {}

    public record TokenizeResponse(int count, @JsonProperty("max_model_len") int maxModelLen, int[] tokens) {}

    public record DetokenizeRequest(String model, JsonNode tokens) {}

    public record DetokenizeResponse(String prompt) {}

    @Operation(summary = "Token ids of a prompt or of chat messages (vLLM's extra)")
    @PostMapping(path = "/tokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    TokenizeResponse tokenize(@RequestBody JsonNode body) {
        TokenizeRequest r = mapper.bind(body, TokenizeRequest.class);
        GenerationService s = mapper.service(r.model());
        int[] ids;
        if (r.messages() != null) {
            ids = chat.render(s.model(), r.messages(), null).ids();
        } else {
            JsonNode prompt = r.prompt();
            if (prompt == null || !prompt.isString()) throw RequestRejectedException.invalid("prompt", "prompt (a string) or messages is required");
            boolean special = !Boolean.FALSE.equals(r.addSpecialTokens());
            ids = special ? s.model().encodePrompt(prompt.asString()) : s.model().tokenizer().encode(prompt.asString(), false, false);
        }
        return new TokenizeResponse(ids.length, s.model().contextLength(), ids);
    }

    @Operation(summary = "Text of token ids (vLLM's extra)")
    @PostMapping(path = "/detokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    DetokenizeResponse detokenize(@RequestBody JsonNode body) {
        DetokenizeRequest r = mapper.bind(body, DetokenizeRequest.class);
        GenerationService s = mapper.service(r.model());
        JsonNode tokens = r.tokens();
        if (tokens == null || !tokens.isArray()) throw RequestRejectedException.invalid("tokens", "tokens must be an array of token ids");
        Tokenizer t = s.model().tokenizer();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = tokens.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= t.vocabSize()) {
                throw RequestRejectedException.invalid("tokens", "tokens[" + i + "] is not a token id of this model (0.."
                        + (t.vocabSize() - 1) + ")");
            }
            ids[i] = id.asInt();
        }
        return new DetokenizeResponse(t.decode(ids));
    }
}
