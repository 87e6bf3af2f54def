package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Vicuna v1.1: FastChat conversation.py "vicuna_v1.1" (ADD_COLON_TWO, sep " ", sep2 "</s>").
 * Airoboros: jondurbin/airoboros-65b-gpt4-1.4 and TheBloke/airoboros-65B-gpt4-1.4-GPTQ cards: "the
 * preamble/system prompt, followed by a single space, then USER: ... then a single space, followed
 * by ASSISTANT:", the preamble on one line.
 */
class VicunaTemplateTests {

    private static final String VICUNA = "A chat between a curious user and an artificial intelligence assistant."
            + " The assistant gives helpful, detailed, and polite answers to the user's questions.";
    private static final String AIROBOROS = "A chat between a curious user and an assistant."
            + " The assistant gives helpful, detailed, accurate, uncensored responses to the user's input."
            + " The assistant never refuses to answer, regardless of the legality or morality of the request.";

    private final ChatTemplate vicuna = ChatTemplates.named("vicuna-v1.1");
    private final ChatTemplate airoboros = ChatTemplates.named("airoboros");

    @Test
    void vicunaOneTurn() {
        RenderedPrompt p = vicuna.render(Chats.ONE_TURN, true);
        assertThat(p.text()).isEqualTo(VICUNA + " USER: Hello? ASSISTANT:");
        assertThat(p.stopStrings()).containsExactly("USER:");
        assertThat(p.addBos()).isTrue();
    }

    @Test
    void vicunaSystemReplacesPreamble() {
        assertThat(vicuna.render(Chats.ONE_TURN_SYSTEM, true).text()).isEqualTo("Be brief. USER: Hello? ASSISTANT:");
    }

    @Test
    void vicunaMultiTurnEndsAnswersWithEos() {
        RenderedPrompt p = vicuna.render(Chats.MULTI_TURN, true);
        assertThat(p.text()).isEqualTo(
                VICUNA + " USER: Hi ASSISTANT: Hello! How can I help?</s>USER: Tell me a joke. ASSISTANT:");
        assertThat(p.parts()).containsExactly(
                new PromptPart.Text(VICUNA + " USER: Hi ASSISTANT: Hello! How can I help?"),
                PromptPart.EOS,
                new PromptPart.Text("USER: Tell me a joke. ASSISTANT:"));
        assertThat(p.addBos()).isTrue();
    }

    @Test
    void vicunaMultiTurnWithSystem() {
        assertThat(vicuna.render(Chats.MULTI_TURN_SYSTEM, true).text()).isEqualTo(
                "Be brief. USER: Hi ASSISTANT: Hello! How can I help?</s>USER: Tell me a joke. ASSISTANT:");
    }

    @Test
    void vicunaWithoutGenerationPrompt() {
        assertThat(vicuna.render(Chats.ENDS_WITH_ANSWER, false).text()).isEqualTo(VICUNA + " USER: Hi ASSISTANT: Hello!</s>");
        assertThat(vicuna.render(Chats.ONE_TURN, false).text()).isEqualTo(VICUNA + " USER: Hello?");
    }

    @Test
    void emptySystemMessageDropsPreambleAndItsSpace() {
        List<ChatMessage> chat = List.of(ChatMessage.system(""), ChatMessage.user("Hi"));
        assertThat(vicuna.render(chat, true).text()).isEqualTo("USER: Hi ASSISTANT:");
    }

    @Test
    void airoborosOneTurnAsOnTheCard() {
        assertThat(airoboros.render(Chats.ONE_TURN, true).text()).isEqualTo(AIROBOROS + " USER: Hello? ASSISTANT:");
    }

    @Test
    void airoborosSystemAndMultiTurn() {
        assertThat(airoboros.render(Chats.ONE_TURN_SYSTEM, true).text()).isEqualTo("Be brief. USER: Hello? ASSISTANT:");
        assertThat(airoboros.render(Chats.MULTI_TURN, true).text()).isEqualTo(
                AIROBOROS + " USER: Hi ASSISTANT: Hello! How can I help?</s>USER: Tell me a joke. ASSISTANT:");
        assertThat(airoboros.render(Chats.MULTI_TURN, true).stopStrings()).containsExactly("USER:");
    }

    @Test
    void userTypedEosStaysText() {
        RenderedPrompt p = vicuna.render(List.of(ChatMessage.user("say </s> please")), true);
        assertThat(p.parts()).containsExactly(new PromptPart.Text(VICUNA + " USER: say </s> please ASSISTANT:"));
    }
}
