package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Alpaca: tatsu-lab/stanford_alpaca PROMPT_DICT (prompt_no_input / prompt_input), "\n" after Response as in alpaca-lora. */
class AlpacaTemplateTests {

    private static final String NO_INPUT = "Below is an instruction that describes a task."
            + " Write a response that appropriately completes the request.\n\n";
    private static final String WITH_INPUT = "Below is an instruction that describes a task, paired with an input"
            + " that provides further context. Write a response that appropriately completes the request.\n\n";

    private final ChatTemplate t = ChatTemplates.named("alpaca");

    @Test
    void oneTurn() {
        RenderedPrompt p = t.render(List.of(ChatMessage.user("Name three colors.")), true);
        assertThat(p.text()).isEqualTo(NO_INPUT + "### Instruction:\nName three colors.\n\n### Response:\n");
        assertThat(p.stopStrings()).containsExactly("### Instruction:");
    }

    @Test
    void systemIsTheInstructionAndUserTheInput() {
        List<ChatMessage> chat = List.of(ChatMessage.system("Translate to French."), ChatMessage.user("Good morning"));
        assertThat(t.render(chat, true).text()).isEqualTo(
                WITH_INPUT + "### Instruction:\nTranslate to French.\n\n### Input:\nGood morning\n\n### Response:\n");
    }

    @Test
    void multiTurnRepeatsTheBlock() {
        assertThat(t.render(Chats.MULTI_TURN, true).text()).isEqualTo(NO_INPUT
                + "### Instruction:\nHi\n\n### Response:\nHello! How can I help?\n\n"
                + "### Instruction:\nTell me a joke.\n\n### Response:\n");
        assertThat(t.render(Chats.MULTI_TURN_SYSTEM, true).text()).isEqualTo(WITH_INPUT
                + "### Instruction:\nBe brief.\n\n### Input:\nHi\n\n### Response:\nHello! How can I help?\n\n"
                + "### Instruction:\nBe brief.\n\n### Input:\nTell me a joke.\n\n### Response:\n");
    }

    @Test
    void withoutGenerationPrompt() {
        assertThat(t.render(Chats.ENDS_WITH_ANSWER, false).text())
                .isEqualTo(NO_INPUT + "### Instruction:\nHi\n\n### Response:\nHello!");
    }
}
