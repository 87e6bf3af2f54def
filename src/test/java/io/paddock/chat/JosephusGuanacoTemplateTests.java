package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Guanaco by JosephusCheung; expected strings from the JosephusCheung/Guanaco model card:
 * "### Instruction:\nUser: History User Input\nAssistant: History Assistant Answer\n### Input:\n
 * System: Knowledge\nUser: New User Input\n### Response:\nNew Assistant Answer".
 */
class JosephusGuanacoTemplateTests {

    private final ChatTemplate t = ChatTemplates.named("guanaco-josephus");

    @Test
    void oneTurn() {
        RenderedPrompt p = t.render(Chats.ONE_TURN, true);
        assertThat(p.text()).isEqualTo("### Instruction:\n### Input:\nUser: Hello?\n### Response:\n");
        assertThat(p.stopStrings()).containsExactly("### Instruction:", "### Input:", "\nUser:");
    }

    @Test
    void systemIsKnowledgeUnderInput() {
        assertThat(t.render(Chats.ONE_TURN_SYSTEM, true).text())
                .isEqualTo("### Instruction:\n### Input:\nSystem: Be brief.\nUser: Hello?\n### Response:\n");
    }

    @Test
    void historyGoesUnderInstruction() {
        assertThat(t.render(Chats.MULTI_TURN_SYSTEM, true).text()).isEqualTo("### Instruction:\n"
                + "User: Hi\n"
                + "Assistant: Hello! How can I help?\n"
                + "### Input:\n"
                + "System: Be brief.\n"
                + "User: Tell me a joke.\n"
                + "### Response:\n");
        assertThat(t.render(Chats.MULTI_TURN, true).text()).isEqualTo(
                "### Instruction:\nUser: Hi\nAssistant: Hello! How can I help?\n### Input:\nUser: Tell me a joke.\n### Response:\n");
    }

    @Test
    void answeredLastTurnIsTheResponse() {
        assertThat(t.render(Chats.ENDS_WITH_ANSWER, false).text())
                .isEqualTo("### Instruction:\n### Input:\nUser: Hi\n### Response:\nHello!");
        assertThat(t.render(List.of(ChatMessage.user("Hi")), false).text()).isEqualTo("### Instruction:\n### Input:\nUser: Hi\n");
    }
}
