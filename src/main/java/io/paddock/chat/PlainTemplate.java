package io.paddock.chat;

import java.util.List;

/**
 * The fallback for models of no known chat family: a plain chat log, {@code User: ...\nAssistant:}.
 *
 * <p>Chosen over borrowing one family's markers because a base model has seen chat logs like this
 * in pre-training, while {@code ### Human:} or {@code USER:} only mean something to the model
 * tuned on them. The system message, if any, is the first line.
 */
final class PlainTemplate implements ChatTemplate {

    @Override
    public String name() {
        return "plain";
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ValidConversation chat = ValidConversation.of(toolCallFormat().lower(messages, List.of()), addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        chat.system().filter(s -> !s.isEmpty()).ifPresent(s -> out.append(s).append("\n"));
        boolean first = true;
        for (ValidConversation.Exchange ex : chat.exchanges()) {
            if (!first) out.append("\n");
            first = false;
            out.append("User: ").append(ex.user());
            if (ex.answered()) {
                out.append("\nAssistant: ").append(ex.assistant());
            } else if (addGenerationPrompt) {
                out.append("\nAssistant:");
            }
        }
        return out.build(List.of("\nUser:"));
    }
}
