package io.paddock.chat;

import java.util.List;

/**
 * Guanaco by JosephusCheung (LLaMA 7B, multilingual), from the model card:
 * <pre>
 * ### Instruction:
 * User: History User Input
 * Assistant: History Assistant Answer
 * ### Input:
 * System: Knowledge
 * User: New User Input
 * ### Response:
 * New Assistant Answer
 * </pre>
 * Earlier exchanges go under Instruction, the system message as {@code System:} and the newest
 * user message under Input. The card does not say what an empty history looks like; we keep the
 * {@code ### Instruction:} header (immediately followed by {@code ### Input:}) so the layout is
 * always the card's.
 */
final class JosephusGuanacoTemplate implements ChatTemplate {

    @Override
    public String name() {
        return "guanaco-josephus";
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ValidConversation chat = ValidConversation.of(toolCallFormat().lower(messages, List.of()), addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        out.append("### Instruction:\n");
        for (ValidConversation.Exchange ex : chat.history()) {
            out.append("User: ").append(ex.user()).append("\n");
            out.append("Assistant: ").append(ex.assistant()).append("\n");
        }
        out.append("### Input:\n");
        chat.system().ifPresent(s -> out.append("System: ").append(s).append("\n"));
        ValidConversation.Exchange last = chat.last();
        out.append("User: ").append(last.user()).append("\n");
        if (last.answered()) {
            out.append("### Response:\n").append(last.assistant());
        } else if (addGenerationPrompt) {
            out.append("### Response:\n");
        }
        return out.build(List.of("### Instruction:", "### Input:", "\nUser:"));
    }
}
