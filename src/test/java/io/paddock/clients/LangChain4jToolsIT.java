package io.paddock.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.jdk.JdkHttpClient;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A LangChain4j AiService with a {@code @Tool} against the real server on the embedded demo model: the model's tool
 * call runs the tool, the tool's result goes back as a {@code role: tool} message with the call's id, and the service
 * returns the model's final answer. A random model never chooses a tool under {@code auto}, so the chat model here
 * insists: {@code tool_choice: required} on a turn that ends with the user's message, {@code none} on the turn that
 * ends with the tool's result.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class LangChain4jToolsIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    interface Assistant {
        String chat(String userMessage);
    }

    interface StreamingAssistant {
        TokenStream chat(String userMessage);
    }

    public static class Calculator {
        final List<List<Long>> calls = new CopyOnWriteArrayList<>();

        /** {@code long}: the grammar allows integers of up to 16 digits, and a random model uses them. */
        @Tool("Adds two integers")
        public long add(long a, long b) {
            calls.add(List.of(a, b));
            return a + b;
        }
    }

    /** The request bodies a LangChain4j model sent, as they went on the wire. */
    static final class RecordingHttp implements HttpClientBuilder {
        final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
        private final HttpClientBuilder inner = JdkHttpClient.builder();

        @Override public Duration connectTimeout() { return inner.connectTimeout(); }
        @Override public HttpClientBuilder connectTimeout(Duration d) { inner.connectTimeout(d); return this; }
        @Override public Duration readTimeout() { return inner.readTimeout(); }
        @Override public HttpClientBuilder readTimeout(Duration d) { inner.readTimeout(d); return this; }

        @Override
        public HttpClient build() {
            HttpClient client = inner.build();
            return new HttpClient() {
                @Override
                public SuccessfulHttpResponse execute(HttpRequest request) {
                    bodies.add(JSON.readTree(request.body()));
                    return client.execute(request);
                }

                @Override
                public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
                    bodies.add(JSON.readTree(request.body()));
                    client.execute(request, parser, listener);
                }
            };
        }
    }

    /** The client's side of the bargain: a tool call first, then an answer. */
    private static ChatRequest insist(ChatRequest request) {
        boolean afterTool = request.messages().getLast() instanceof ToolExecutionResultMessage;
        ChatRequestParameters turn = ChatRequestParameters.builder()
                .toolChoice(afterTool ? ToolChoice.NONE : ToolChoice.REQUIRED)
                .maxOutputTokens(afterTool ? 8 : 200)
                .build();
        return ChatRequest.builder().messages(request.messages())
                .parameters(request.parameters().overrideWith(turn)).build();
    }

    record InsistingChatModel(ChatModel delegate) implements ChatModel {
        @Override
        public ChatResponse doChat(ChatRequest request) {
            return delegate.chat(insist(request));
        }
    }

    record InsistingStreamingChatModel(StreamingChatModel delegate) implements StreamingChatModel {
        @Override
        public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
            delegate.chat(insist(request), handler);
        }
    }

    private String base() {
        return "http://localhost:" + port + "/v1";
    }

    /** Checks the two requests on the wire: the second carries the tool's result under the first call's id. */
    private static void assertRoundTrip(List<JsonNode> bodies, List<ToolExecutionRequest> calls, Calculator calc) {
        assertThat(calc.calls).as("the tool ran once, with integer arguments").hasSize(1);
        assertThat(calls).hasSize(1);
        ToolExecutionRequest call = calls.getFirst();
        assertThat(call.name()).isEqualTo("add");
        assertThat(call.id()).isNotBlank();
        JsonNode args = JSON.readTree(call.arguments());
        assertThat(args.get("a").isIntegralNumber()).as(call.arguments()).isTrue();
        assertThat(args.get("b").isIntegralNumber()).as(call.arguments()).isTrue();
        assertThat(calc.calls.getFirst()).containsExactly(args.get("a").asLong(), args.get("b").asLong());

        assertThat(bodies).hasSize(2);
        assertThat(bodies.get(0).get("tool_choice").asString()).isEqualTo("required");
        assertThat(bodies.get(0).get("parallel_tool_calls").asBoolean()).isFalse();
        assertThat(bodies.get(0).get("tools").get(0).get("function").get("name").asString()).isEqualTo("add");
        JsonNode second = bodies.get(1);
        assertThat(second.get("tool_choice").asString()).isEqualTo("none");
        JsonNode messages = second.get("messages");
        JsonNode assistant = messages.get(messages.size() - 2);
        assertThat(assistant.get("role").asString()).isEqualTo("assistant");
        assertThat(assistant.get("tool_calls").get(0).get("id").asString()).isEqualTo(call.id());
        JsonNode tool = messages.get(messages.size() - 1);
        assertThat(tool.get("role").asString()).isEqualTo("tool");
        assertThat(tool.get("tool_call_id").asString()).isEqualTo(call.id());
        assertThat(tool.get("content").asString()).isEqualTo(String.valueOf(calc.calls.getFirst().get(0)
                + calc.calls.getFirst().get(1)));
    }

    /** A listener that adds every tool call the model answers with to {@code calls}. */
    private static ChatModelListener recordingToolCalls(List<ToolExecutionRequest> calls) {
        return new ChatModelListener() {
            @Override
            public void onResponse(ChatModelResponseContext ctx) {
                if (ctx.chatResponse().aiMessage().hasToolExecutionRequests()) {
                    calls.addAll(ctx.chatResponse().aiMessage().toolExecutionRequests());
                }
            }
        };
    }

    @Test
    void aiServiceCallsTheToolAndAnswersWithItsResult() {
        RecordingHttp http = new RecordingHttp();
        List<ToolExecutionRequest> calls = new CopyOnWriteArrayList<>();
        ChatModelListener listener = recordingToolCalls(calls);
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(base()).apiKey("not-needed")
                .modelName(StructuredOutputClientsIT.MODEL).temperature(1.0).seed(3).maxRetries(0)
                .parallelToolCalls(false).httpClientBuilder(http).listeners(List.of(listener)).build();
        Calculator calc = new Calculator();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(new InsistingChatModel(model))
                .tools(calc).build();

        String answer = assistant.chat("What is 2 + 3?");

        assertThat(answer).isNotNull();
        assertRoundTrip(http.bodies, calls, calc);
    }

    @Test
    void streamingAiServiceCallsTheToolAndAnswersWithItsResult() throws Exception {
        RecordingHttp http = new RecordingHttp();
        List<ToolExecutionRequest> calls = new CopyOnWriteArrayList<>();
        ChatModelListener listener = recordingToolCalls(calls);
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(base()).apiKey("not-needed")
                .modelName(StructuredOutputClientsIT.MODEL).temperature(1.0).seed(3).parallelToolCalls(false)
                .httpClientBuilder(http).listeners(List.of(listener)).build();
        Calculator calc = new Calculator();
        StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class)
                .streamingChatModel(new InsistingStreamingChatModel(model)).tools(calc).build();

        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        StringBuilder streamed = new StringBuilder();
        assistant.chat("What is 2 + 3?")
                .onPartialResponse(streamed::append)
                .onCompleteResponse(done::complete)
                .onError(done::completeExceptionally)
                .start();
        ChatResponse response = done.get(60, TimeUnit.SECONDS);

        assertThat(response.aiMessage().hasToolExecutionRequests()).isFalse();
        assertThat(streamed.toString()).isEqualTo(response.aiMessage().text() == null ? "" : response.aiMessage().text());
        assertRoundTrip(http.bodies, calls, calc);
    }
}
