package io.paddock.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * With a management port of its own (the settings docs/metrics.md gives), {@code /metrics} moves there and leaves
 * the API port, while the API port keeps its own {@code /health} and {@code /ready}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "management.server.port=0", "management.endpoints.web.base-path=/",
    "management.endpoints.web.path-mapping.prometheus=metrics"})
class ManagementPortMetricsIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsMoveToTheManagementPort() throws Exception {
        assertThat(managementPort).isNotEqualTo(port);
        var moved = get(managementPort, "/metrics");
        assertThat(moved.statusCode()).isEqualTo(200);
        assertThat(moved.body()).contains("paddock_kv_cache_blocks_total{", "paddock_requests_total{");
        assertThat(get(port, "/metrics").statusCode()).isEqualTo(404);
        assertThat(get(port, "/health").body()).contains("\"ok\"");
        assertThat(get(port, "/ready").statusCode()).isEqualTo(200);
        assertThat(get(managementPort, "/health").statusCode()).isEqualTo(200);
    }
}
