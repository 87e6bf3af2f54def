package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Guanaco (QLoRA). Expected strings follow artidoro/qlora: the OASST1 training text
 * (timdettmers/openassistant-guanaco) joins turns with no separator; paddock follows the product
 * specification and the QLoRA README: "### Human: {prompt} ### Assistant:", parts joined by single spaces.
 * TheBloke/guanaco-7B-GPTQ and guanaco-65B-GPTQ cards: "### Human: prompt" / "### Assistant:".
 */
class GuanacoTemplateTests {

    private final ChatTemplate guanaco = ChatTemplates.named("guanaco");
    private final ChatTemplate withPreamble = ChatTemplates.named("guanaco-preamble");

    @Test
    void oneTurn() {
        RenderedPrompt p = guanaco.render(Chats.ONE_TURN, true);
        assertThat(p.text()).isEqualTo("### Human: Hello? ### Assistant:");
        assertThat(p.stopStrings()).containsExactly("### Human:");
        assertThat(p.addBos()).isTrue();
        assertThat(p.parts()).containsExactly(new PromptPart.Text(p.text()));
    }

    @Test
    void oneTurnWithDefaultPreamble() {
        assertThat(withPreamble.render(Chats.ONE_TURN, true).text()).isEqualTo(
                "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful,"
                        + " detailed, and polite answers to the user's questions. ### Human: Hello? ### Assistant:");
    }

    @Test
    void systemMessageReplacesThePreamble() {
        String expected = "Be brief. ### Human: Hello? ### Assistant:";
        assertThat(guanaco.render(Chats.ONE_TURN_SYSTEM, true).text()).isEqualTo(expected);
        assertThat(withPreamble.render(Chats.ONE_TURN_SYSTEM, true).text()).isEqualTo(expected);
    }

    @Test
    void multiTurnJoinsTurnsWithoutSeparator() {
        assertThat(guanaco.render(Chats.MULTI_TURN, true).text()).isEqualTo(
                "### Human: Hi ### Assistant: Hello! How can I help? ### Human: Tell me a joke. ### Assistant:");
        assertThat(guanaco.render(Chats.MULTI_TURN_SYSTEM, true).text()).isEqualTo(
                "Be brief. ### Human: Hi ### Assistant: Hello! How can I help? ### Human: Tell me a joke. ### Assistant:");
    }

    @Test
    void withoutGenerationPrompt() {
        assertThat(guanaco.render(Chats.ENDS_WITH_ANSWER, false).text()).isEqualTo("### Human: Hi ### Assistant: Hello!");
        assertThat(guanaco.render(Chats.ONE_TURN, false).text()).isEqualTo("### Human: Hello?");
    }

    @Test
    void namesAreConfigurable() {
        assertThat(guanaco.name()).isEqualTo("guanaco");
        assertThat(withPreamble.name()).isEqualTo("guanaco-preamble");
        assertThat(ChatTemplates.names()).contains("guanaco", "guanaco-preamble");
        assertThat(guanaco.render(List.of(ChatMessage.user("x")), true).parts()).hasSize(1);
    }
}
