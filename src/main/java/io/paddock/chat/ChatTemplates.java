package io.paddock.chat;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The built-in chat formats by name, and detection of a model directory's format. */
public final class ChatTemplates {

    /** Prefix of an override that carries a Jinja template's text instead of a built-in name. */
    public static final String JINJA_PREFIX = "jinja:";

    private static final Map<String, ChatTemplate> BUILT_INS = builtIns();

    private ChatTemplates() {}

    private static Map<String, ChatTemplate> builtIns() {
        Map<String, ChatTemplate> m = new LinkedHashMap<>();
        for (ChatTemplate t : new ChatTemplate[] {
                new GuanacoTemplate(false),
                new GuanacoTemplate(true),
                new JosephusGuanacoTemplate(),
                new VicunaTemplate("vicuna-v1.1", VicunaTemplate.VICUNA_PREAMBLE),
                new VicunaTemplate("airoboros", VicunaTemplate.AIROBOROS_PREAMBLE),
                new AlpacaTemplate(),
                new Llama2ChatTemplate(),
                new PlainTemplate()}) {
            m.put(t.name(), t);
        }
        return Map.copyOf(m);
    }

    /** Built-in template by name; IllegalArgumentException listing the known names otherwise. */
    public static ChatTemplate named(String name) {
        ChatTemplate t = name == null ? null : BUILT_INS.get(name);
        if (t == null) {
            throw new IllegalArgumentException("unknown chat template '" + name + "'; known: " + String.join(", ", names())
                    + " (or '" + JINJA_PREFIX + "<template text>')");
        }
        return t;
    }

    /** The built-in names, sorted. */
    public static Set<String> names() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(BUILT_INS.keySet()));
    }

    /**
     * The template for a model directory, with a short reason for logs. {@code override}, when not
     * null, wins: a built-in name or {@code jinja:<template text>}. Otherwise, in order: the
     * {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of
     * {@code {name, template}} of which "default" is taken), a {@code chat_template.jinja} file,
     * the model family recognised in the directory name and {@code config.json}'s
     * {@code _name_or_path}, and finally the {@code plain} format.
     *
     * @param modelDir the model directory; may be null when only {@code override} is to be used
     * @throws IllegalArgumentException for an unknown override name
     * @throws IllegalStateException    when a config file of the model cannot be parsed
     */
    public static Detected detect(Path modelDir, String override) {
        return new ChatTemplateDetector(modelDir).detect(override);
    }

    /** A detected template and why it was chosen. */
    public record Detected(ChatTemplate template, String reason) {}
}
