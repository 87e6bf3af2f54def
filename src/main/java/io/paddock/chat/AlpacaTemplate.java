package io.paddock.chat;

import java.util.List;

/**
 * Stanford Alpaca's prompt ({@code tatsu-lab/stanford_alpaca}, {@code PROMPT_DICT}).
 *
 * <p>Without a system message the "no input" form:
 * {@code Below is an instruction that describes a task. Write a response that appropriately
 * completes the request.\n\n### Instruction:\n{prompt}\n\n### Response:\n}. With one, the "input"
 * form: the system message is the instruction and the user message the input
 * ({@code ### Instruction:\n{system}\n\n### Input:\n{prompt}\n\n### Response:\n}).
 *
 * <p>Alpaca was trained single-turn. For a multi-turn chat we repeat the Instruction(/Input)/
 * Response block per exchange, separated by a blank line, under one preamble — the common
 * extension, not something Alpaca saw in training.
 */
final class AlpacaTemplate implements ChatTemplate {

    static final String NO_INPUT_PREAMBLE = "Below is an instruction that describes a task."
            + " Write a response that appropriately completes the request.";
    static final String INPUT_PREAMBLE = "Below is an instruction that describes a task, paired with an input"
            + " that provides further context. Write a response that appropriately completes the request.";

    @Override
    public String name() {
        return "alpaca";
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ValidConversation chat = ValidConversation.of(toolCallFormat().lower(messages, List.of()), addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        out.append(chat.system().isPresent() ? INPUT_PREAMBLE : NO_INPUT_PREAMBLE).append("\n\n");
        boolean first = true;
        for (ValidConversation.Exchange ex : chat.exchanges()) {
            if (!first) out.append("\n\n");
            first = false;
            out.append("### Instruction:\n");
            if (chat.system().isPresent()) {
                out.append(chat.system().get()).append("\n\n### Input:\n");
            }
            out.append(ex.user());
            if (ex.answered()) {
                out.append("\n\n### Response:\n").append(ex.assistant());
            } else if (addGenerationPrompt) {
                out.append("\n\n### Response:\n");
            }
        }
        return out.build(List.of("### Instruction:"));
    }
}
