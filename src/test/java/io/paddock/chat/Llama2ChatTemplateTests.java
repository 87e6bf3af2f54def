package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Llama-2-chat. Expected strings from Meta's llama/generation.py chat_completion
 * ("[INST] {user.strip()} [/INST] {answer.strip()} " per exchange, each wrapped in BOS/EOS;
 * B_SYS "<<SYS>>\n", E_SYS "\n<</SYS>>\n\n") and the official chat_template of
 * meta-llama/Llama-2-7b-chat-hf (src/test/resources/chat/llama-2-chat.jinja), which must agree.
 */
class Llama2ChatTemplateTests {

    private final ChatTemplate builtIn = ChatTemplates.named("llama-2-chat");

    static String officialTemplate() throws IOException {
        try (InputStream in = Llama2ChatTemplateTests.class.getResourceAsStream("/chat/llama-2-chat.jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void oneTurn() {
        RenderedPrompt p = builtIn.render(Chats.ONE_TURN, true);
        assertThat(p.text()).isEqualTo("<s>[INST] Hello? [/INST]");
        assertThat(p.addBos()).isFalse();
        assertThat(p.parts()).containsExactly(PromptPart.BOS, new PromptPart.Text("[INST] Hello? [/INST]"));
        assertThat(p.stopStrings()).isEmpty();
    }

    @Test
    void systemFoldsIntoFirstUserMessage() {
        assertThat(builtIn.render(Chats.ONE_TURN_SYSTEM, true).text())
                .isEqualTo("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHello? [/INST]");
    }

    @Test
    void multiTurnWrapsEachExchangeInBosEos() {
        RenderedPrompt p = builtIn.render(Chats.MULTI_TURN_SYSTEM, true);
        assertThat(p.text()).isEqualTo("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! How can I help? </s>"
                + "<s>[INST] Tell me a joke. [/INST]");
        assertThat(p.parts()).containsExactly(
                PromptPart.BOS,
                new PromptPart.Text("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! How can I help? "),
                PromptPart.EOS,
                PromptPart.BOS,
                new PromptPart.Text("[INST] Tell me a joke. [/INST]"));
        assertThat(builtIn.render(Chats.MULTI_TURN, true).text())
                .isEqualTo("<s>[INST] Hi [/INST] Hello! How can I help? </s><s>[INST] Tell me a joke. [/INST]");
    }

    @Test
    void stripsMessagesAsMetaDoes() {
        List<ChatMessage> chat = List.of(ChatMessage.user("  Hi \n"), ChatMessage.assistant("\tHello!  "));
        assertThat(builtIn.render(chat, false).text()).isEqualTo("<s>[INST] Hi [/INST] Hello! </s>");
    }

    @Test
    void officialJinjaTemplateRendersTheSame() throws IOException {
        JinjaChatTemplate official = new JinjaChatTemplate(officialTemplate(), "<s>", "</s>");
        for (List<ChatMessage> chat : List.of(Chats.ONE_TURN, Chats.ONE_TURN_SYSTEM, Chats.MULTI_TURN,
                Chats.MULTI_TURN_SYSTEM, List.of(ChatMessage.user("  Hi \n"), ChatMessage.assistant("\tHello!  ")))) {
            boolean gen = chat.getLast().role().equals("user");
            RenderedPrompt expected = builtIn.render(chat, gen);
            RenderedPrompt actual = official.render(chat, gen);
            assertThat(actual.text()).as("%s", chat).isEqualTo(expected.text());
            assertThat(actual.parts()).as("%s", chat).isEqualTo(expected.parts());
            assertThat(actual.addBos()).isFalse();
        }
    }
}
