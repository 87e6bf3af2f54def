package io.paddock.chat;

import java.util.List;

/**
 * Llama-2-chat, as Meta's reference code ({@code llama/generation.py}, {@code chat_completion}) and
 * the official Jinja {@code chat_template} build it: every exchange is
 * {@code <s>[INST] {user.strip()} [/INST] {answer.strip()} </s>}, the open one
 * {@code <s>[INST] {user.strip()} [/INST]}; a system message is folded into the first user message
 * as {@code <<SYS>>\n{system}\n<</SYS>>\n\n{user}} (and stripped with it).
 *
 * <p>Meta encodes each exchange separately with BOS/EOS as control tokens; {@link PromptPart}s
 * carry exactly that split. The {@code [/INST]} cue is part of every user turn, so
 * {@code addGenerationPrompt} changes nothing here (as in the official template).
 */
final class Llama2ChatTemplate implements ChatTemplate {

    @Override
    public String name() {
        return "llama-2-chat";
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ValidConversation chat = ValidConversation.of(toolCallFormat().lower(messages, List.of()), addGenerationPrompt);
        PromptBuilder out = PromptBuilder.llama();
        boolean first = true;
        for (ValidConversation.Exchange ex : chat.exchanges()) {
            String user = ex.user();
            if (first && chat.system().isPresent()) {
                user = "<<SYS>>\n" + chat.system().get() + "\n<</SYS>>\n\n" + user;
            }
            first = false;
            out.bos().append("[INST] ").append(PyStrings.strip(user)).append(" [/INST]");
            if (ex.answered()) {
                out.append(" ").append(PyStrings.strip(ex.assistant())).append(" ").eos();
            }
        }
        return out.build(List.of());
    }
}
