package io.paddock.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.paddock.metrics.PaddockMetrics;
import org.springframework.boot.actuate.autoconfigure.web.server.ConditionalOnManagementPort;
import org.springframework.boot.actuate.autoconfigure.web.server.ManagementPortType;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * paddock's engine meters on the application's Micrometer registry, and {@code GET /metrics}: the Prometheus scrape
 * at the path vLLM and TGI use, beside actuator's {@code /actuator/prometheus} (the same registry). Both are open
 * (no API key), as scrapers expect. With {@code management.server.port} set to another port, {@code /metrics} leaves
 * the API port; map actuator's endpoint there with {@code management.endpoints.web.base-path=/} and
 * {@code management.endpoints.web.path-mapping.prometheus=metrics} (docs/metrics.md).
 */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {
    /** The Prometheus client's exposition formats (its writers' CONTENT_TYPE, a runtime-only dependency). */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /** On the application's registry (actuator's); in memory only where a context has none. */
    @Bean
    PaddockMetrics paddockMetrics(ObjectProvider<MeterRegistry> registry) {
        return new PaddockMetrics(registry.getIfAvailable(SimpleMeterRegistry::new));
    }

    /**
     * {@code GET /metrics} on the API port, unless the management server has a port of its own; 404 where Prometheus
     * export is off ({@code management.prometheus.metrics.export.enabled=false}). The registry is looked up per
     * scrape because actuator's auto-configuration defines it after this class.
     */
    @Bean
    @ConditionalOnManagementPort(ManagementPortType.SAME)
    RouterFunction<ServerResponse> prometheusMetricsRoute(ObjectProvider<PrometheusMeterRegistry> registries) {
        return RouterFunctions.route().GET("/metrics", request -> {
            PrometheusMeterRegistry registry = registries.getIfAvailable();
            if (registry == null) return ServerResponse.notFound().build();
            boolean openMetrics = request.headers().accept().stream()
                    .anyMatch(t -> "application".equals(t.getType()) && "openmetrics-text".equals(t.getSubtype()));
            String contentType = openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
            // Rendering walks every meter: off the event loop.
            return Mono.fromCallable(() -> registry.scrape(contentType)).subscribeOn(Schedulers.boundedElastic())
                    .flatMap(body -> ServerResponse.ok().header(HttpHeaders.CONTENT_TYPE, contentType)
                            .bodyValue(body));
        }).build();
    }
}
