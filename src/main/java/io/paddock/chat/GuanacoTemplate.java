package io.paddock.chat;

import java.util.List;

/**
 * Guanaco (QLoRA, Dettmers et al.; OASST1): {@code ### Human: {prompt}### Assistant:}.
 *
 * <p>Facts, from the authors' repository (artidoro/qlora): the training text is
 * timdettmers/openassistant-guanaco, where turns follow each other with no separator
 * ({@code ...research.### Assistant: "Monopsony" refers to...### Human: ...}), and
 * {@code examples/guanaco_generate.py} prompts with the preamble, one space, then
 * {@code ### Human: {question}### Assistant: }. TheBloke's cards (guanaco-7B/65B-GPTQ) show
 * {@code ### Human: prompt} / {@code ### Assistant:} on two lines; we follow the training text.
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
        ValidConversation chat = ValidConversation.of(messages, addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        String header = chat.system().orElse(defaultPreamble ? PREAMBLE : "");
        if (!header.isEmpty()) out.append(header).append(" ");
        for (ValidConversation.Exchange ex : chat.exchanges()) {
            out.append("### Human: ").append(ex.user());
            if (ex.answered()) {
                out.append("### Assistant: ").append(ex.assistant());
            } else if (addGenerationPrompt) {
                out.append("### Assistant:");
            }
        }
        return out.build(List.of("### Human:"));
    }
}
