package io.paddock.config;

import io.paddock.engine.AdapterRegistry;
import io.paddock.engine.EngineConfig;
import io.paddock.engine.EngineObserver;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoraConfig;
import io.paddock.engine.ModelRegistry;
import io.paddock.hub.HubSettings;
import io.paddock.loading.LoadedModel;
import io.paddock.loading.ModelCatalog;
import io.paddock.lora.PeftAdapters;
import io.paddock.metrics.PaddockMetrics;
import io.paddock.model.LlamaConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Loads the configured models at start-up (the demo model when none is configured), each behind its own engine with
 * its LoRA adapter registry, serves the configured adapters on the default model, and feeds {@link PaddockMetrics}
 * with every engine's events and state where metrics are on.
 */
@Configuration(proxyBeanMethods = false)
public class EngineConfiguration {

    @Bean(destroyMethod = "close")
    ModelRegistry modelRegistry(PaddockProperties props, ObjectProvider<PaddockMetrics> metricsProvider) {
        PaddockMetrics metrics = metricsProvider.getIfAvailable();
        EngineConfig config = props.engine().engineConfig();
        LoraConfig lora = props.lora().loraConfig();
        List<PaddockProperties.Lora.Entry> adapters = props.lora().entries();
        List<String> dirs = props.model().path() == null || props.model().path().isEmpty()
                ? Collections.singletonList(null) : props.model().path();
        List<GenerationService> services = new ArrayList<>();
        try {
            for (String dir : dirs) {
                LoadedModel model = ModelCatalog.open(dir, props.model().effectiveThreads(),
                        props.model().gptq().overrides(), props.runtime(), System.err, HubSettings::fromEnvironment,
                        props.model().preparedCache());
                model.warmUp();
                EngineObserver observer = metrics == null ? EngineObserver.NONE : metrics.observer(model.id());
                GenerationService service = new GenerationService(model, config, observer,
                        new AdapterRegistry(lora, peftReader(model.checkpoint().config())));
                services.add(service);
                if (metrics != null) metrics.bind(service);
            }
            GenerationService first = services.getFirst();
            for (PaddockProperties.Lora.Entry a : adapters) {
                try {
                    first.adapters().add(a.name(), Path.of(a.dir()));
                } catch (RuntimeException e) {
                    throw new AdapterStartException("'" + a.name() + "' from " + a.dir() + ": " + e.getMessage(), e);
                }
            }
        } catch (RuntimeException ex) {
            services.forEach(GenerationService::close);
            throw ex;
        }
        try {
            return new ModelRegistry(services);
        } catch (IllegalArgumentException e) {
            if (adapters.isEmpty()) throw e;
            throw new AdapterStartException(e.getMessage(), e);
        }
    }

    /** Reads PEFT adapter directories for a base model of shape {@code base} (the one place that reads them). */
    static AdapterRegistry.Reader peftReader(LlamaConfig base) {
        return (name, dir) -> PeftAdapters.load(dir, name, base);
    }
}
