package io.paddock.chat;

import java.util.ArrayList;
import java.util.List;

/** Accumulates prompt text and BOS/EOS control tokens into a {@link RenderedPrompt}. */
final class PromptBuilder {

    private final String bosText;
    private final String eosText;
    private final StringBuilder text = new StringBuilder();
    private final StringBuilder pendingText = new StringBuilder();
    private final List<PromptPart> parts = new ArrayList<>();

    PromptBuilder(String bosText, String eosText) {
        this.bosText = bosText;
        this.eosText = eosText;
    }

    /** The LLaMA token strings, which every built-in format here was trained with. */
    static PromptBuilder llama() {
        return new PromptBuilder("<s>", "</s>");
    }

    PromptBuilder append(String s) {
        text.append(s);
        pendingText.append(s);
        return this;
    }

    PromptBuilder bos() {
        return control(PromptPart.BOS, bosText);
    }

    PromptBuilder eos() {
        return control(PromptPart.EOS, eosText);
    }

    private PromptBuilder control(PromptPart part, String asText) {
        flushText();
        parts.add(part);
        text.append(asText);
        return this;
    }

    private void flushText() {
        if (!pendingText.isEmpty()) {
            parts.add(new PromptPart.Text(pendingText.toString()));
            pendingText.setLength(0);
        }
    }

    RenderedPrompt build(List<String> stopStrings) {
        flushText();
        boolean startsWithBos = !parts.isEmpty() && parts.getFirst() instanceof PromptPart.Bos;
        return new RenderedPrompt(text.toString(), stopStrings, !startsWithBos, parts);
    }
}
