package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.paddock.testing.SharedModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** One server, two model directories (fp32 and GPTQ), chosen by the request's {@code model} field. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@EnabledIf(value = "io.paddock.testing.SharedModels#stories260KAvailable", disabledReason = "../shared/models is absent")
class MultiModelIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void models(DynamicPropertyRegistry r) {
        r.add("paddock.model.path", () -> SharedModels.root().resolve("stories260K") + ","
                + SharedModels.root().resolve("stories260K-gptq-8bit-nogroup"));
    }

    private JsonNode complete(String model) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}";
        return JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    @Test
    void eachModelAnswersUnderItsOwnId() throws Exception {
        JsonNode list = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/models"))
                .build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(list.get("data").findValuesAsString("id")).containsExactly("stories260K", "stories260K-gptq-8bit-nogroup");
        for (String id : new String[] {"stories260K", "stories260K-gptq-8bit-nogroup"}) {
            JsonNode r = complete(id);
            assertThat(r.get("model").asString()).isEqualTo(id);
            assertThat(r.get("choices").get(0).get("text").asString()).startsWith(", there was a little girl");
        }
    }
}
