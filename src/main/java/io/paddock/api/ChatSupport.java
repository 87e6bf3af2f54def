package io.paddock.api;

import io.paddock.engine.RequestRejectedException;
import io.paddock.chat.ChatMessage;
import io.paddock.chat.ChatTemplate;
import io.paddock.chat.ChatTemplates;
import io.paddock.chat.PromptPart;
import io.paddock.chat.ToolCall;
import io.paddock.chat.ToolCallFormat;
import io.paddock.chat.ToolDefinition;
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

    /** The rendered prompt and its token ids, the template's name, and how the model writes tool calls. */
    record Prompt(RenderedPrompt rendered, int[] ids, String template, ToolCallFormat toolCalls) {}

    private final Map<String, ChatTemplate> templates = new ConcurrentHashMap<>();

    ChatSupport(ModelRegistry models, PaddockProperties props) {
        Map<String, String> overrides = props.chatTemplate() == null ? Map.of() : props.chatTemplate();
        for (var s : models.all()) {
            LoadedModel m = s.model();
            var detected = ChatTemplates.detect(m.checkpoint().directory(), overrides.get(m.id()));
            templates.put(m.id(), detected.template());
            log.info("model {}: chat template {} ({}), tool calls in the {} format", m.id(), detected.template().name(),
                    detected.reason(), detected.template().toolCallFormat().name());
        }
    }

    ChatTemplate templateFor(LoadedModel model) {
        return templates.get(model.id());
    }

    Prompt render(LoadedModel model, List<JsonNode> messages, String requestTemplate) {
        return render(model, messages, requestTemplate, List.of());
    }

    /** As above, with the functions the model may call described in the prompt (none: an empty list). */
    Prompt render(LoadedModel model, List<JsonNode> messages, String requestTemplate, List<ToolDefinition> tools) {
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
            rendered = template.render(messages(messages), tools, true);
        } catch (IllegalArgumentException e) {
            throw RequestRejectedException.invalid("messages", e.getMessage());
        }
        return new Prompt(rendered, encode(model, rendered), template.name(), template.toolCallFormat());
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

    /**
     * OpenAI messages: role plus content as a string or an array of text parts (other part types are refused);
     * assistant messages may carry {@code tool_calls} (or a legacy {@code function_call}) and then null content;
     * {@code tool} messages answer a call by {@code tool_call_id}; a legacy {@code function} message (by
     * {@code name}) becomes a tool message without an id.
     */
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
            switch (role) {
                case "system", "user" -> {
                    if (present(m, "tool_calls") || present(m, "function_call")) {
                        throw RequestRejectedException.invalid("messages", where + ": only assistant messages carry tool calls");
                    }
                    out.add(new ChatMessage(role, content(m.get("content"), where)));
                }
                case "assistant" -> out.add(assistant(m, where));
                case "tool" -> {
                    JsonNode id = m.get("tool_call_id");
                    if (id == null || !id.isString() || id.asString().isEmpty()) {
                        throw RequestRejectedException.invalid("messages", where + ".tool_call_id is required in a tool message");
                    }
                    out.add(ChatMessage.tool(id.asString(), optionalString(m, "name", where), content(m.get("content"), where)));
                }
                case "function" -> {
                    String name = optionalString(m, "name", where);
                    if (name == null) throw RequestRejectedException.invalid("messages", where + ".name is required in a function message");
                    out.add(ChatMessage.tool(null, name, content(m.get("content"), where)));
                }
                default -> throw RequestRejectedException.invalid("messages", where + ".role '" + role + "' is not supported"
                        + " (system, developer, user, assistant, tool and function are)");
            }
        }
        return out;
    }

    private static ChatMessage assistant(JsonNode m, String where) {
        List<ToolCall> calls = new ArrayList<>();
        JsonNode toolCalls = m.get("tool_calls");
        if (present(m, "tool_calls")) {
            if (!toolCalls.isArray()) throw RequestRejectedException.invalid("messages", where + ".tool_calls must be an array");
            for (int j = 0; j < toolCalls.size(); j++) {
                JsonNode c = toolCalls.get(j);
                String at = where + ".tool_calls[" + j + "]";
                if (c == null || !c.isObject()) throw RequestRejectedException.invalid("messages", at + " must be an object");
                JsonNode type = c.get("type");
                if (type != null && !type.isNull() && !"function".equals(type.asString(""))) {
                    throw RequestRejectedException.invalid("messages", at + ".type must be \"function\"");
                }
                String id = optionalString(c, "id", at);
                if (id == null) throw RequestRejectedException.invalid("messages", at + ".id is required");
                calls.add(call(id, c.get("function"), at + ".function"));
            }
        }
        if (present(m, "function_call")) {
            if (!calls.isEmpty()) throw RequestRejectedException.invalid("messages", where + ": give tool_calls or function_call, not both");
            calls.add(call(null, m.get("function_call"), where + ".function_call"));
        }
        JsonNode c = m.get("content");
        if (!calls.isEmpty() && (c == null || c.isNull())) return ChatMessage.assistant(null, calls);
        return ChatMessage.assistant(content(c, where), calls);
    }

    /** {@code {"name": ..., "arguments": "<JSON text>"}}; arguments sent as an object are taken as its JSON text. */
    private static ToolCall call(String id, JsonNode f, String at) {
        if (f == null || !f.isObject()) throw RequestRejectedException.invalid("messages", at + " must be an object");
        String name = optionalString(f, "name", at);
        if (name == null || name.isEmpty()) throw RequestRejectedException.invalid("messages", at + ".name is required");
        JsonNode args = f.get("arguments");
        String arguments = args == null || args.isNull() ? "{}" : args.isString() ? args.asString() : args.toString();
        return new ToolCall(id, name, arguments);
    }

    private static boolean present(JsonNode m, String field) {
        return m.has(field) && !m.get(field).isNull();
    }

    private static String optionalString(JsonNode m, String field, String where) {
        JsonNode v = m.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isString()) throw RequestRejectedException.invalid("messages", where + "." + field + " must be a string");
        return v.asString();
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
