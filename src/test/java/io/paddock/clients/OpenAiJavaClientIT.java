package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.paddock.testing.SharedModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The official OpenAI Java SDK ({@code com.openai:openai-java}) against the real server, unchanged. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models/stories260K is absent")
class OpenAiJavaClientIT {
    @LocalServerPort
    int port;

    private OpenAIClient client;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve("stories260K").toString());
    }

    @BeforeEach
    void client() {
        client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1").apiKey("not-needed")
                .maxRetries(0).build();
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return ChatCompletionCreateParams.builder().model("stories260K").addUserMessage("Tell me a story.")
                .maxCompletionTokens(12).temperature(0.0);
    }

    @Test
    void chatStreamingAndNot() {
        ChatCompletion whole = client.chat().completions().create(chat().build());
        String text = whole.choices().getFirst().message().content().orElseThrow();
        assertThat(whole.usage().orElseThrow().completionTokens()).isBetween(1L, 12L);

        StringBuilder streamed = new StringBuilder();
        long[] usage = {-1};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                chat().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(c -> {
                c.usage().ifPresent(u -> usage[0] = u.completionTokens());
                c.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append));
            });
        }
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(usage[0]).isEqualTo(whole.usage().orElseThrow().completionTokens());
    }

    @Test
    void legacyCompletionsAndModels() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("stories260K")
                .prompt("Once upon a time").maxTokens(8).temperature(0.0).build());
        assertThat(c.choices().getFirst().text()).startsWith(", there was");
        assertThat(client.models().list().data()).anyMatch(m -> m.id().equals("stories260K"));
    }

    @Test
    void stopStringsSeveralChoicesSeedsAndLogprobs() {
        Completion stopped = client.completions().create(CompletionCreateParams.builder().model("stories260K")
                .prompt("Once upon a time").maxTokens(40).temperature(0.0).stop("Lily").build());
        assertThat(stopped.choices().getFirst().text()).isEqualTo(", there was a little girl named ");
        assertThat(stopped.choices().getFirst().finishReason().asString()).isEqualTo("stop");

        ChatCompletionCreateParams sampled = chat().temperature(1.0).seed(42L).n(3L).logprobs(true).topLogprobs(2L).build();
        ChatCompletion a = client.chat().completions().create(sampled);
        ChatCompletion b = client.chat().completions().create(sampled);
        assertThat(a.choices()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(a.choices().get(i).message().content()).isEqualTo(b.choices().get(i).message().content());
            var lp = a.choices().get(i).logprobs().orElseThrow().content().orElseThrow();
            assertThat(lp).isNotEmpty();
            assertThat(lp.getFirst().logprob()).isLessThanOrEqualTo(0.0);
            assertThat(lp.getFirst().topLogprobs()).hasSize(2);
        }
    }

    @Test
    void errorsParse() {
        assertThatThrownBy(() -> client.chat().completions().create(chat().temperature(7.0).build()))
                .isInstanceOfSatisfying(BadRequestException.class,
                        e -> assertThat(e.param()).hasValue("temperature"));
        assertThatThrownBy(() -> client.chat().completions().create(chat().model("gpt-4o").build()))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).hasValue("model_not_found"));
    }
}
