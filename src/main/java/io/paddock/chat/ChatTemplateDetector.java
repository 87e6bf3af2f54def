package io.paddock.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads a model directory's configs to pick its chat template (see {@link ChatTemplates#detect}). */
final class ChatTemplateDetector {

    /** A model family recognised by a pattern in its names; the first match wins, so order matters. */
    private record FamilyRule(Pattern pattern, String template) {}

    private static final List<FamilyRule> FAMILY_RULES = List.of(
            // JosephusCheung's Guanaco predates QLoRA's and uses an unrelated format.
            new FamilyRule(Pattern.compile("josephus.*guanaco|guanaco.*josephus|guanacoonconsumerhardware"),
                    "guanaco-josephus"),
            new FamilyRule(Pattern.compile("airoboros"), "airoboros"),
            new FamilyRule(Pattern.compile("vicuna"), "vicuna-v1.1"),
            new FamilyRule(Pattern.compile("guanaco"), "guanaco"),
            new FamilyRule(Pattern.compile("alpaca"), "alpaca"),
            new FamilyRule(Pattern.compile("llama-?2.*chat"), "llama-2-chat"));

    private final Path dir;
    private final JsonMapper json = JsonMapper.builder().build();

    ChatTemplateDetector(Path dir) {
        this.dir = dir;
    }

    ChatTemplates.Detected detect(String override) {
        if (override != null && !override.isBlank()) return fromOverride(override.strip());
        Optional<JsonNode> tokenizerConfig = readJson("tokenizer_config.json");
        Optional<String> jinja = tokenizerConfig.flatMap(ChatTemplateDetector::chatTemplateOf);
        if (jinja.isPresent()) {
            return new ChatTemplates.Detected(jinjaTemplate(jinja.get(), tokenizerConfig), "tokenizer_config.json chat_template");
        }
        Optional<String> jinjaFile = readText("chat_template.jinja");
        if (jinjaFile.isPresent() && !jinjaFile.get().isBlank()) {
            return new ChatTemplates.Detected(jinjaTemplate(jinjaFile.get(), tokenizerConfig), "chat_template.jinja");
        }
        String names = namesOfModel(tokenizerConfig);
        for (FamilyRule rule : FAMILY_RULES) {
            if (rule.pattern().matcher(names).find()) {
                return new ChatTemplates.Detected(ChatTemplates.named(rule.template()),
                        "model name matches /" + rule.pattern().pattern() + "/ (" + names + ")");
            }
        }
        return new ChatTemplates.Detected(ChatTemplates.named("plain"),
                "fallback: no chat_template and no known model family in (" + names + ")");
    }

    private ChatTemplates.Detected fromOverride(String override) {
        if (override.startsWith(ChatTemplates.JINJA_PREFIX)) {
            String text = override.substring(ChatTemplates.JINJA_PREFIX.length());
            return new ChatTemplates.Detected(jinjaTemplate(text, readJson("tokenizer_config.json")),
                    "override: jinja template");
        }
        return new ChatTemplates.Detected(ChatTemplates.named(override), "override: " + override);
    }

    /** {@code chat_template} as a string, or the "default" entry of a list of named templates. */
    static Optional<String> chatTemplateOf(JsonNode tokenizerConfig) {
        JsonNode t = tokenizerConfig.get("chat_template");
        if (t == null || t.isNull()) return Optional.empty();
        if (t.isString()) return Optional.of(t.asString());
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asString(null))) {
                    return Optional.ofNullable(named.path("template").asString(null));
                }
            }
            throw new IllegalStateException("tokenizer_config.json: chat_template is a list without a 'default' entry");
        }
        throw new IllegalStateException("tokenizer_config.json: chat_template is neither a string nor a list");
    }

    private JinjaChatTemplate jinjaTemplate(String text, Optional<JsonNode> tokenizerConfig) {
        Optional<JsonNode> specialTokens = readJson("special_tokens_map.json");
        String bos = tokenText(tokenizerConfig, "bos_token").or(() -> tokenText(specialTokens, "bos_token")).orElse("<s>");
        String eos = tokenText(tokenizerConfig, "eos_token").or(() -> tokenText(specialTokens, "eos_token")).orElse("</s>");
        return new JinjaChatTemplate(text, bos, eos);
    }

    /** A special token is either a string or a serialized AddedToken {@code {"content": ...}}. */
    private static Optional<String> tokenText(Optional<JsonNode> config, String field) {
        return config.map(c -> c.get(field)).filter(n -> !n.isNull()).map(n -> n.isObject() ? n.path("content") : n)
                .filter(JsonNode::isString).map(JsonNode::asString);
    }

    /** Directory name and the names configs record for the model, lower-cased, for family matching. */
    private String namesOfModel(Optional<JsonNode> tokenizerConfig) {
        StringBuilder names = new StringBuilder();
        if (dir != null && dir.getFileName() != null) names.append(dir.getFileName());
        readJson("config.json").map(c -> c.path("_name_or_path").asString(""))
                .filter(s -> !s.isEmpty()).ifPresent(s -> names.append(' ').append(s));
        tokenizerConfig.map(c -> c.path("name_or_path").asString(""))
                .filter(s -> !s.isEmpty()).ifPresent(s -> names.append(' ').append(s));
        return names.toString().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private Optional<String> readText(String file) {
        if (dir == null) return Optional.empty();
        Path p = dir.resolve(file);
        if (!Files.isRegularFile(p)) return Optional.empty();
        try {
            return Optional.of(Files.readString(p));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    private Optional<JsonNode> readJson(String file) {
        return readText(file).map(text -> {
            try {
                return json.readTree(text);
            } catch (JacksonException e) {
                throw new IllegalStateException("cannot parse " + dir.resolve(file) + ": " + e.getOriginalMessage(), e);
            }
        });
    }
}
