package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import io.paddock.chat.ChatMessage;
import io.paddock.chat.ChatTemplate;
import io.paddock.chat.ChatTemplates;
import io.paddock.chat.PromptPart;
import io.paddock.chat.RenderedPrompt;
import io.paddock.config.PaddockProperties;
import io.paddock.engine.ModelRegistry;
import io.paddock.loading.LoadedModel;
import io.paddock.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Chat messages to prompt token ids: each model's template is chosen once (configuration override, else the
 * model's own Jinja {@code chat_template}, else name heuristics) and can be overridden per request.
 */
@Component
class ChatSupport {
    private static final Logger log = LoggerFactory.getLogger(ChatSupport.class);

    /** The rendered prompt and its token ids. */
    record Prompt(RenderedPrompt rendered, int[] ids, String template) {}

    private final Map<String, ChatTemplate> templates = new ConcurrentHashMap<>();

    ChatSupport(ModelRegistry models, PaddockProperties props) {
        Map<String, String> overrides = props.chatTemplate() == null ? Map.of() : props.chatTemplate();
        for (var s : models.all()) {
            LoadedModel m = s.model();
            var detected = ChatTemplates.detect(m.checkpoint().directory(), overrides.get(m.id()));
            templates.put(m.id(), detected.template());
            log.info("model {}: chat template {} ({})", m.id(), detected.template().name(), detected.reason());
        }
    }

    ChatTemplate templateFor(LoadedModel model) {
        return templates.get(model.id());
    }

    Prompt render(LoadedModel model, List<JsonNode> messages, String requestTemplate) {
        ChatTemplate template = templateFor(model);
        if (requestTemplate != null && !requestTemplate.isBlank()) {
            try {
                template = requestTemplate.startsWith(ChatTemplates.JINJA_PREFIX)
                        ? ChatTemplates.detect(model.checkpoint().directory(), requestTemplate).template()
                        : ChatTemplates.named(requestTemplate);
            } catch (IllegalArgumentException e) {
                throw RequestRejectedException.invalid("chat_template", e.getMessage());
            }
        }
        RenderedPrompt rendered;
        try {
            rendered = template.render(messages(messages), true);
        } catch (IllegalArgumentException e) {
            throw RequestRejectedException.invalid("messages", e.getMessage());
        }
        return new Prompt(rendered, encode(model, rendered), template.name());
    }

    /** Text parts through the tokenizer, BOS/EOS parts as their ids, BOS first where the model wants it. */
    static int[] encode(LoadedModel model, RenderedPrompt rendered) {
        Tokenizer t = model.tokenizer();
        List<Integer> ids = new ArrayList<>();
        if (rendered.addBos() && model.addBos()) ids.add(t.bosId());
        for (PromptPart part : rendered.parts()) {
            switch (part) {
                case PromptPart.Text text -> { for (int id : t.encode(text.text(), false, false)) ids.add(id); }
                case PromptPart.Bos bos -> ids.add(t.bosId());
                case PromptPart.Eos eos -> ids.add(t.eosId());
            }
        }
        if (ids.isEmpty()) throw RequestRejectedException.invalid("messages", "the conversation renders to an empty prompt");
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** OpenAI messages: role plus content as a string or an array of text parts; other part types are refused. */
    static List<ChatMessage> messages(List<JsonNode> raw) {
        if (raw == null || raw.isEmpty()) throw RequestRejectedException.invalid("messages", "messages must be a non-empty array");
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            JsonNode m = raw.get(i);
            String where = "messages[" + i + "]";
            if (m == null || !m.isObject()) throw RequestRejectedException.invalid("messages", where + " must be an object");
            JsonNode roleNode = m.get("role");
            if (roleNode == null || !roleNode.isString()) throw RequestRejectedException.invalid("messages", where + ".role is required");
            String role = roleNode.asString();
            if (role.equals("developer")) role = "system"; // OpenAI's newer name for system instructions
            if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
                throw RequestRejectedException.invalid("messages", where + ".role '" + role + "' is not supported (system,"
                        + " developer, user and assistant are; tool and function messages need tool calling)");
            }
            if (m.has("tool_calls") && !m.get("tool_calls").isNull()) {
                throw RequestRejectedException.invalid("messages", where + ": tool_calls are not supported");
            }
            out.add(new ChatMessage(role, content(m.get("content"), where)));
        }
        return out;
    }

    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isString()) return c.asString();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                String type = part.path("type").isString() ? part.path("type").asString() : "";
                if (!type.equals("text")) {
                    throw RequestRejectedException.invalid("messages", where + ".content: only text parts are supported, got '"
                            + type + "'");
                }
                if (!part.path("text").isString()) {
                    throw RequestRejectedException.invalid("messages", where + ".content: a text part's text must be a string");
                }
                sb.append(part.get("text").asString());
            }
            return sb.toString();
        }
        throw RequestRejectedException.invalid("messages", where + ".content must be a string or an array of text parts");
    }
}
