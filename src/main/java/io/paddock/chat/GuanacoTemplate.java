package io.paddock.chat;

import java.util.List;

/**
 * Guanaco (QLoRA, Dettmers et al.; OASST1): {@code ### Human: {prompt} ### Assistant:}, turns and the optional
 * preamble joined by single spaces, as paddock's product specification and the QLoRA README's prompt format write
 * it. (The openassistant-guanaco training text runs turns together with no separator, and TheBloke's cards show the
 * two markers on separate lines; the tokenizer turns " ###" into the same "▁###" pieces a turn start gets, so the
 * spaced form reads as the training text's turn boundary.)
 *
 * <p>The generation cue ends at the colon without the space: with LLaMA's SentencePiece the space
 * belongs to the answer's first token ({@code ▁word}), as it did in training.
 */
final class GuanacoTemplate implements ChatTemplate {

    static final String PREAMBLE = "A chat between a curious human and an artificial intelligence assistant."
            + " The assistant gives helpful, detailed, and polite answers to the user's questions.";

    private final boolean defaultPreamble;

    /** @param defaultPreamble whether to open with {@link #PREAMBLE} when there is no system message */
    GuanacoTemplate(boolean defaultPreamble) {
        this.defaultPreamble = defaultPreamble;
    }

    @Override
    public String name() {
        return defaultPreamble ? "guanaco-preamble" : "guanaco";
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ValidConversation chat = ValidConversation.of(toolCallFormat().lower(messages, List.of()), addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        String header = chat.system().orElse(defaultPreamble ? PREAMBLE : "");
        if (!header.isEmpty()) out.append(header).append(" ");
        boolean first = true;
        for (ValidConversation.Exchange ex : chat.exchanges()) {
            if (!first) out.append(" ");
            first = false;
            out.append("### Human: ").append(ex.user());
            if (ex.answered()) {
                out.append(" ### Assistant: ").append(ex.assistant());
            } else if (addGenerationPrompt) {
                out.append(" ### Assistant:");
            }
        }
        return out.build(List.of("### Human:"));
    }
}
