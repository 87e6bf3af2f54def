package io.paddock.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face {@code chat_template} (Jinja), rendered the way {@code apply_chat_template} does:
 * variables {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token},
 * the function {@code raise_exception(msg)}, {@code trim_blocks} and {@code lstrip_blocks} on, one
 * trailing newline of the template dropped (Jinja's {@code keep_trailing_newline=False}), and
 * Python's string methods ({@code .strip()}, {@code .startswith()}, ...) available.
 *
 * <p>BOS and EOS are passed in as unguessable sentinel strings and the output is split on them, so
 * a template's {@code bos_token}/{@code eos_token} become {@link PromptPart.Bos}/{@link PromptPart.Eos}
 * control tokens while a user who types {@code </s>} only ever produces text.
 *
 * <p>A template that mentions {@code tools} renders tool definitions, calls and results itself
 * ({@link #render(List, List, boolean)}); others see them as the default {@link ToolCallFormat}'s text.
 *
 * <p>The template can only render: loading other templates ({@code include}, {@code import},
 * {@code extends}) fails, Java reflection is blocked by Jinjava's restricted methods, and the
 * output size is capped.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    /** End-of-turn markers which, when a template writes them, are that format's stop strings. */
    private static final List<String> TURN_END_MARKERS = List.of("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>");
    private static final long MAX_OUTPUT_CHARS = 16L << 20;

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final List<String> stopStrings;
    private final Jinjava jinjava;
    private final String bosSentinel;
    private final String eosSentinel;
    private final boolean usesTools;

    public JinjaChatTemplate(String template, String bosToken, String eosToken) {
        this(template, bosToken, eosToken, markersIn(template));
    }

    /** As above with explicit stop strings instead of those guessed from the template's turn markers. */
    public JinjaChatTemplate(String template, String bosToken, String eosToken, List<String> stopStrings) {
        if (template == null || template.isBlank()) throw new IllegalArgumentException("empty chat template");
        this.template = dropOneTrailingNewline(template);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.stopStrings = List.copyOf(stopStrings);
        String nonce = UUID.randomUUID().toString();
        this.bosSentinel = "\uE000bos:" + nonce + "\uE001";
        this.eosSentinel = "\uE000eos:" + nonce + "\uE001";
        this.jinjava = newSandboxedJinjava();
        this.usesTools = this.template.contains("tools");
    }

    @Override
    public String name() {
        return "jinja";
    }

    /** The template source as rendered (one trailing newline dropped). */
    public String template() {
        return template;
    }

    public List<String> stopStrings() {
        return stopStrings;
    }

    /**
     * {@link ToolCallFormat#JINJA} when the template handles {@code tools} itself (it mentions them), else the
     * default format, whose text the template then renders as ordinary messages.
     */
    @Override
    public ToolCallFormat toolCallFormat() {
        return usesTools ? ToolCallFormat.JINJA : ToolCallFormat.DEFAULT;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, List.of(), addGenerationPrompt);
    }

    /**
     * As {@code apply_chat_template(messages, tools=...)}: a template that handles tools gets {@code tools} (OpenAI's
     * {@code [{"type": "function", "function": {name, description, parameters}}]}, absent when there are none) and the
     * messages as Hugging Face dicts, assistant calls as {@code tool_calls: [{id, type, function: {name, arguments}}]}
     * (arguments as a mapping where they are a JSON object, as vLLM passes them) and results with
     * {@code tool_call_id} and {@code name}; any other template gets the conversation in the default format's text.
     */
    @Override
    public RenderedPrompt render(List<ChatMessage> messages, List<ToolDefinition> tools, boolean addGenerationPrompt) {
        if (!usesTools) messages = ToolCallFormat.DEFAULT.lower(messages, tools);
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("messages must contain at least one message");
        }
        if (addGenerationPrompt && messages.getLast().role().equals(ChatMessage.ASSISTANT)) {
            throw new IllegalArgumentException("messages: the last message must be from the user when the assistant's"
                    + " reply is to be generated (it is from the assistant)");
        }
        List<Map<String, Object>> asMaps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) asMaps.add(JinjaValues.message(m));
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", asMaps);
        if (usesTools && !tools.isEmpty()) vars.put("tools", JinjaValues.tools(tools));
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosSentinel);
        vars.put("eos_token", eosSentinel);
        RenderResult result = jinjava.renderForResult(template, vars);
        throwOnErrors(result.getErrors());
        return split(result.getOutput());
    }

    private RenderedPrompt split(String output) {
        PromptBuilder out = new PromptBuilder(bosToken, eosToken);
        int from = 0;
        while (true) {
            int bos = output.indexOf(bosSentinel, from);
            int eos = output.indexOf(eosSentinel, from);
            if (bos < 0 && eos < 0) break;
            boolean isBos = eos < 0 || (bos >= 0 && bos < eos);
            int at = isBos ? bos : eos;
            out.append(output.substring(from, at));
            if (isBos) out.bos(); else out.eos();
            from = at + (isBos ? bosSentinel : eosSentinel).length();
        }
        out.append(output.substring(from));
        return out.build(stopStrings);
    }

    private static void throwOnErrors(List<TemplateError> errors) {
        List<String> fatal = new ArrayList<>();
        for (TemplateError e : errors) {
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof RaisedByTemplate raised) throw new IllegalArgumentException(raised.getMessage());
            }
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) fatal.add(e.getMessage());
        }
        if (!fatal.isEmpty()) throw new IllegalStateException("chat template failed to render: " + fatal);
    }

    private static Jinjava newSandboxedJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyStringMethodsResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withNestedInterpretationEnabled(false)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("chat templates may not load other templates (" + name + ")");
        });
        jinjava.registerFunction(new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", Object.class));
        return jinjava;
    }

    private static String dropOneTrailingNewline(String s) {
        if (s.endsWith("\r\n")) return s.substring(0, s.length() - 2);
        if (s.endsWith("\n")) return s.substring(0, s.length() - 1);
        return s;
    }

    private static List<String> markersIn(String template) {
        if (template == null) return List.of();
        return TURN_END_MARKERS.stream().filter(template::contains).toList();
    }

    /** What {@code raise_exception} throws; turned into an {@link IllegalArgumentException} after rendering. */
    static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message, null, false, false);
        }
    }

    /** Functions exposed to templates; public because Jinjava calls them reflectively. */
    public static final class TemplateFunctions {
        private TemplateFunctions() {}

        public static String raiseException(Object message) {
            throw new RaisedByTemplate(String.valueOf(message));
        }
    }
}
