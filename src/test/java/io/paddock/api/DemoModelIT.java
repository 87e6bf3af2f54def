package io.paddock.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** With no model configured the server starts on the generated demo model and says its output is meaningless. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class DemoModelIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Test
    void servesTheDemoModel() throws Exception {
        JsonMapper json = JsonMapper.builder().build();
        JsonNode models = json.readTree(http.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + port + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString()).body());
        JsonNode card = models.get("data").get(0);
        assertThat(card.get("id").asString()).isEqualTo("paddock-demo-random");
        assertThat(card.get("description").asString()).contains("meaningless");

        var res = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hello there\",\"max_tokens\":8,\"seed\":1}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode usage = json.readTree(res.body()).get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isBetween(1, 8);
    }
}
