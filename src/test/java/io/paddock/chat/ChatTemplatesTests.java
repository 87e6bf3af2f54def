package io.paddock.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class ChatTemplatesTests {

    @TempDir
    Path tmp;

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void namedAndNames() {
        assertThat(ChatTemplates.names()).containsExactly("airoboros", "alpaca", "guanaco", "guanaco-josephus",
                "guanaco-preamble", "llama-2-chat", "plain", "vicuna-v1.1");
        for (String name : ChatTemplates.names()) {
            assertThat(ChatTemplates.named(name).name()).isEqualTo(name);
        }
        assertThatThrownBy(() -> ChatTemplates.named("chatml")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown chat template 'chatml'").hasMessageContaining("guanaco, guanaco-josephus")
                .hasMessageContaining("jinja:");
        assertThatThrownBy(() -> ChatTemplates.named(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({
        "guanaco-7B-GPTQ, guanaco",
        "guanaco-65B-GPTQ, guanaco",
        "llama-2-70b-Guanaco-QLoRA-GPTQ, guanaco",
        "JosephusCheung_Guanaco, guanaco-josephus",
        "GuanacoOnConsumerHardware, guanaco-josephus",
        "airoboros-65B-gpt4-1.4-GPTQ, airoboros",
        "vicuna-13b-v1.1, vicuna-v1.1",
        "Wizard-Vicuna-7B-Uncensored-GPTQ, vicuna-v1.1",
        "alpaca-7b-native, alpaca",
        "Llama-2-7b-chat-hf, llama-2-chat",
        "llama2_13b_chat, llama-2-chat",
        "stories260K, plain",
        "Llama-2-7b-hf, plain",
    })
    void detectsFamilyFromDirectoryName(String dirName, String expected) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(dirName));
        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        assertThat(d.template().name()).isEqualTo(expected);
        assertThat(d.reason()).isNotBlank();
        if (expected.equals("plain")) assertThat(d.reason()).startsWith("fallback");
    }

    @Test
    void detectsFamilyFromConfigNameOrPath() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(dir.resolve("config.json"), "{\"_name_or_path\": \"JosephusCheung/Guanaco\", \"model_type\": \"llama\"}");
        assertThat(ChatTemplates.detect(dir, null).template().name()).isEqualTo("guanaco-josephus");
        Files.writeString(dir.resolve("config.json"), "{\"_name_or_path\": \"TheBloke/airoboros-65B-gpt4-1.4-GPTQ\"}");
        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        assertThat(d.template().name()).isEqualTo("airoboros");
        assertThat(d.reason()).contains("airoboros-65b-gpt4-1.4-gptq");
    }

    @Test
    void tokenizerConfigChatTemplateWinsOverName() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("vicuna-7b"));
        // As meta-llama/Llama-2-7b-chat-hf ships it: special tokens as serialized AddedTokens.
        ObjectNode config = json.createObjectNode();
        config.putObject("bos_token").put("__type", "AddedToken").put("content", "<s>");
        config.putObject("eos_token").put("__type", "AddedToken").put("content", "</s>");
        config.put("chat_template", Llama2ChatTemplateTests.officialTemplate());
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(config));

        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        assertThat(d.template()).isInstanceOf(JinjaChatTemplate.class);
        assertThat(d.reason()).isEqualTo("tokenizer_config.json chat_template");
        assertThat(d.template().render(Chats.MULTI_TURN, true).text())
                .isEqualTo("<s>[INST] Hi [/INST] Hello! How can I help? </s><s>[INST] Tell me a joke. [/INST]");
    }

    @Test
    void tokenizerConfigListOfNamedTemplatesTakesDefault() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": "<|begin|>", "eos_token": "<|im_end|>",
                 "chat_template": [
                   {"name": "tool_use", "template": "TOOLS"},
                   {"name": "default", "template": "{{ bos_token }}%s"}]}
                """.formatted(JinjaChatTemplateTests.CHATML));
        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        RenderedPrompt p = d.template().render(Chats.ONE_TURN, true);
        assertThat(p.text()).isEqualTo("<|begin|><|im_start|>user\nHello?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(p.addBos()).isFalse();
        assertThat(p.stopStrings()).containsExactly("<|im_end|>");
    }

    @Test
    void chatTemplateJinjaFile() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("chat_template.jinja"), JinjaChatTemplateTests.CHATML + "\n");
        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        assertThat(d.reason()).isEqualTo("chat_template.jinja");
        assertThat(d.template().render(Chats.ONE_TURN, false).text()).isEqualTo("<|im_start|>user\nHello?<|im_end|>\n");
    }

    @Test
    void overrideWins() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("vicuna-7b"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"X\"}");
        ChatTemplates.Detected d = ChatTemplates.detect(dir, "alpaca");
        assertThat(d.template().name()).isEqualTo("alpaca");
        assertThat(d.reason()).isEqualTo("override: alpaca");

        ChatTemplates.Detected jinja = ChatTemplates.detect(dir, "jinja:{{ bos_token }}{{ messages[-1]['content'] }}");
        assertThat(jinja.template()).isInstanceOf(JinjaChatTemplate.class);
        assertThat(jinja.template().render(Chats.MULTI_TURN, true).text()).isEqualTo("<s>Tell me a joke.");
        assertThat(ChatTemplates.detect(null, "vicuna-v1.1").template().name()).isEqualTo("vicuna-v1.1");

        assertThatThrownBy(() -> ChatTemplates.detect(dir, "nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("known: airoboros, alpaca");
    }

    @Test
    void malformedConfigIsReported() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{not json");
        assertThatThrownBy(() -> ChatTemplates.detect(dir, null)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("tokenizer_config.json");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}");
        assertThatThrownBy(() -> ChatTemplates.detect(dir, null)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("default");
    }

    @Test
    void realFixtureWithoutChatTemplateFallsBackToPlain() {
        Path dir = SharedModels.require("stories260K");
        ChatTemplates.Detected d = ChatTemplates.detect(dir, null);
        assertThat(d.template().name()).isEqualTo("plain");
        RenderedPrompt p = d.template().render(Chats.MULTI_TURN_SYSTEM, true);
        assertThat(p.text()).isEqualTo("Be brief.\nUser: Hi\nAssistant: Hello! How can I help?\nUser: Tell me a joke.\nAssistant:");
        assertThat(p.stopStrings()).containsExactly("\nUser:");
        assertThat(p.addBos()).isTrue();
    }

    @Test
    void renderedPromptConvenienceConstructor() {
        RenderedPrompt p = new RenderedPrompt("abc", List.of("x"), true);
        assertThat(p.parts()).containsExactly(new PromptPart.Text("abc"));
        assertThat(new RenderedPrompt("", List.of(), true).parts()).isEmpty();
    }
}
