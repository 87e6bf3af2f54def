package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.paddock.testing.SharedModels;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** LangChain4j's OpenAI integration against the real server, on a GPTQ checkpoint. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models is absent")
class LangChain4jClientIT {
    private static final String MODEL = "stories260K-gptq-4bit-32g-actorder";

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve(MODEL).toString());
    }

    @Test
    void chatAndStreamingChatOnAGptqModel() throws Exception {
        String base = "http://localhost:" + port + "/v1";
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey("not-needed").modelName(MODEL)
                .temperature(0.0).maxTokens(16).maxRetries(0).build();
        String answer = chat.chat("Tell me a story.");
        assertThat(answer).isNotBlank();

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base).apiKey("not-needed")
                .modelName(MODEL).temperature(0.0).maxTokens(16).build();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        StringBuilder streamed = new StringBuilder();
        streaming.chat("Tell me a story.", new StreamingChatResponseHandler() {
            @Override public void onPartialResponse(String partial) { streamed.append(partial); }
            @Override public void onCompleteResponse(ChatResponse response) { done.complete(response); }
            @Override public void onError(Throwable error) { done.completeExceptionally(error); }
        });
        ChatResponse response = done.get(60, TimeUnit.SECONDS);
        assertThat(streamed.toString()).isEqualTo(answer);
        assertThat(response.aiMessage().text()).isEqualTo(answer);
    }
}
