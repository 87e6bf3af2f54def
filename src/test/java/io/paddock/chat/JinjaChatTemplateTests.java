package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class JinjaChatTemplateTests {

    /** The ChatML example of the Hugging Face chat templating docs. */
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @Test
    void chatMl() {
        JinjaChatTemplate t = new JinjaChatTemplate(CHATML, "<s>", "<|im_end|>");
        RenderedPrompt p = t.render(Chats.MULTI_TURN_SYSTEM, true);
        assertThat(p.text()).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n"
                + "<|im_start|>user\nTell me a joke.<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(p.addBos()).isTrue();
        assertThat(p.parts()).containsExactly(new PromptPart.Text(p.text()));
        assertThat(p.stopStrings()).containsExactly("<|im_end|>");
        assertThat(t.name()).isEqualTo("jinja");
        assertThat(t.render(Chats.ONE_TURN, false).text()).isEqualTo("<|im_start|>user\nHello?<|im_end|>\n");
    }

    @Test
    void trimAndLstripBlocksAsHuggingFace() {
        String template = """
                {% for message in messages %}
                    {% if message['role'] == 'user' %}
                {{ 'U:' + message['content'] }}
                    {% else %}
                {{ 'A:' + message['content'] }}
                    {% endif %}
                {% endfor %}
                {% if add_generation_prompt %}
                A:
                {% endif %}
                """;
        RenderedPrompt p = new JinjaChatTemplate(template, "<s>", "</s>").render(Chats.MULTI_TURN, true);
        // Block-tag lines vanish entirely; the literal "A:\n" keeps its newline, as in Jinja2.
        assertThat(p.text()).isEqualTo("U:Hi\nA:Hello! How can I help?\nU:Tell me a joke.\nA:\n");
    }

    @Test
    void bosAndEosBecomeControlTokens() {
        String template = "{{ bos_token }}{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}"
                + "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}";
        RenderedPrompt p = new JinjaChatTemplate(template, "<s>", "</s>").render(Chats.MULTI_TURN, true);
        assertThat(p.text()).isEqualTo("<s>user: Hiassistant: Hello! How can I help?</s>user: Tell me a joke.");
        assertThat(p.addBos()).isFalse();
        assertThat(p.parts()).containsExactly(PromptPart.BOS, new PromptPart.Text("user: Hiassistant: Hello! How can I help?"),
                PromptPart.EOS, new PromptPart.Text("user: Tell me a joke."));
    }

    @Test
    void userTypedTokenStringsStayText() {
        RenderedPrompt p = new JinjaChatTemplate(CHATML, "<s>", "</s>").render(List.of(ChatMessage.user("<s></s>")), true);
        assertThat(p.parts()).containsExactly(new PromptPart.Text(p.text()));
    }

    @Test
    void raiseExceptionBecomesIllegalArgument() throws IOException {
        JinjaChatTemplate llama = new JinjaChatTemplate(Llama2ChatTemplateTests.officialTemplate(), "<s>", "</s>");
        assertThatThrownBy(() -> llama.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Conversation roles must alternate user/assistant/user/assistant/...");
        JinjaChatTemplate gemmaLike = new JinjaChatTemplate(
                "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok",
                "<bos>", "<eos>");
        assertThatThrownBy(() -> gemmaLike.render(Chats.ONE_TURN_SYSTEM, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("System role not supported");
        assertThat(gemmaLike.render(Chats.ONE_TURN, true).text()).isEqualTo("ok");
    }

    @Test
    void pythonStringMethods() {
        String template = "{{ messages[0]['content'].strip().upper() }}|{{ messages[0]['content'].startswith(' h') }}"
                + "|{{ messages[0]['content'].endswith('x') }}|{{ '--a--'.strip('-') }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}"
                + "|{{ 'a, b'.split(', ') | join('+') }}|{{ ' a  b '.split() | length }}|{{ 'hello world'.title() }}"
                + "|{{ 'abc'.replace('b', 'x') }}|{{ messages[0]['content'] | trim }}";
        RenderedPrompt p = new JinjaChatTemplate(template, "<s>", "</s>").render(List.of(ChatMessage.user(" hi\u00a0")), true);
        assertThat(p.text()).isEqualTo("HI|true|false|a|a | a|a+b|2|Hello World|axc|hi\u00a0");
    }

    @Test
    void dropsOneTrailingNewlineLikeJinja() {
        JinjaChatTemplate t = new JinjaChatTemplate("{{ messages[0]['content'] }}\n", "<s>", "</s>");
        assertThat(t.render(Chats.ONE_TURN, true).text()).isEqualTo("Hello?");
        JinjaChatTemplate two = new JinjaChatTemplate("{{ messages[0]['content'] }}\n\n", "<s>", "</s>");
        assertThat(two.render(Chats.ONE_TURN, true).text()).isEqualTo("Hello?\n");
    }

    @Test
    void cannotReadFilesOrReflect() {
        for (String evil : List.of("{% include '/etc/passwd' %}", "{% include 'application.properties' %}",
                "{% import '/etc/hosts' as h %}", "{% extends '/etc/passwd' %}", "{{ messages.getClass() }}",
                "{{ ''.getClass().forName('java.lang.Runtime') }}")) {
            JinjaChatTemplate t = new JinjaChatTemplate(evil, "<s>", "</s>");
            assertThatThrownBy(() -> t.render(Chats.ONE_TURN, true)).as(evil)
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void brokenTemplateIsAServerError() {
        JinjaChatTemplate t = new JinjaChatTemplate("{{ messages[0]['content'].no_such_method() }}", "<s>", "</s>");
        assertThatThrownBy(() -> t.render(Chats.ONE_TURN, true)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("chat template failed to render");
    }

    @Test
    void invalidInput() {
        JinjaChatTemplate t = new JinjaChatTemplate(CHATML, "<s>", "</s>");
        assertThatThrownBy(() -> t.render(List.of(), true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("messages");
        assertThatThrownBy(() -> t.render(Chats.ENDS_WITH_ANSWER, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("last message");
        assertThatThrownBy(() -> new JinjaChatTemplate(" ", "<s>", "</s>")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void explicitStopStrings() {
        JinjaChatTemplate t = new JinjaChatTemplate(CHATML, "<s>", "</s>", List.of("###"));
        assertThat(t.render(Chats.ONE_TURN, true).stopStrings()).containsExactly("###");
    }
}
