package io.paddock.config;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationService;
import io.paddock.engine.ModelRegistry;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
import io.paddock.metrics.PaddockMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Loads the configured models at start-up (the demo model when none is configured), each behind its own engine,
 * whose events and state feed {@link PaddockMetrics} where metrics are on.
 */
@Configuration(proxyBeanMethods = false)
public class EngineConfiguration {

    @Bean(destroyMethod = "close")
    ModelRegistry modelRegistry(PaddockProperties props, ObjectProvider<PaddockMetrics> metricsProvider) {
        PaddockMetrics metrics = metricsProvider.getIfAvailable();
        EngineConfig config = props.engine().engineConfig();
        List<String> dirs = props.model().path() == null || props.model().path().isEmpty()
                ? Collections.singletonList(null) : props.model().path();
        List<GenerationService> services = new ArrayList<>();
        try {
            for (String dir : dirs) {
                LoadedModel model = ModelCatalog.open(dir, props.model().effectiveThreads(),
                        props.model().gptq().overrides(), props.runtime(), System.err);
                model.warmUp();
                EngineObserver observer = metrics == null ? EngineObserver.NONE : metrics.observer(model.id());
                GenerationService service = new GenerationService(model, config, observer);
                services.add(service);
                if (metrics != null) metrics.bind(service);
            }
        } catch (RuntimeException ex) {
            services.forEach(GenerationService::close);
            throw ex;
        }
        return new ModelRegistry(services);
    }
}
