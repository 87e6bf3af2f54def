package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import io.paddock.engine.GenerationService;
import io.paddock.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    @PostMapping(path = "/tokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    Map<String, Object> tokenize(@RequestBody JsonNode body) {
        check(body, Set.of("model", "prompt", "messages", "add_special_tokens"));
        GenerationService s = mapper.service(text(body, "model"));
        int[] ids;
        if (body.has("messages")) {
            List<JsonNode> messages = new ArrayList<>();
            body.get("messages").forEach(messages::add);
            ids = chat.render(s.model(), messages, null).ids();
        } else {
            JsonNode prompt = body.get("prompt");
            if (prompt == null || !prompt.isString()) throw RequestRejectedException.invalid("prompt", "prompt (a string) or messages is required");
            boolean special = !body.has("add_special_tokens") || body.get("add_special_tokens").asBoolean(true);
            ids = special ? s.model().encodePrompt(prompt.asString()) : s.model().tokenizer().encode(prompt.asString(), false, false);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", ids.length);
        m.put("max_model_len", s.model().contextLength());
        m.put("tokens", ids);
        return m;
    }

    @PostMapping(path = "/detokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    Map<String, Object> detokenize(@RequestBody JsonNode body) {
        check(body, Set.of("model", "tokens"));
        GenerationService s = mapper.service(text(body, "model"));
        JsonNode tokens = body.get("tokens");
        if (tokens == null || !tokens.isArray()) throw RequestRejectedException.invalid("tokens", "tokens must be an array of token ids");
        Tokenizer t = s.model().tokenizer();
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = tokens.get(i);
            if (!id.isIntegralNumber() || id.asInt() < 0 || id.asInt() >= t.vocabSize()) {
                throw RequestRejectedException.invalid("tokens", "tokens[" + i + "] is not a token id of this model (0.."
                        + (t.vocabSize() - 1) + ")");
            }
            ids[i] = id.asInt();
        }
        return Map.of("prompt", t.decode(ids));
    }

    private static void check(JsonNode body, Set<String> known) {
        if (body == null || !body.isObject()) throw RequestRejectedException.invalid(null, "the request body must be a JSON object");
        for (String name : body.propertyNames()) {
            if (!known.contains(name)) throw RequestRejectedException.invalid(name, "Unrecognized request argument supplied: " + name);
        }
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        return v == null || v.isNull() ? null : v.asString();
    }
}
