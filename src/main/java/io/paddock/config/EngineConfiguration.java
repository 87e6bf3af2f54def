package io.paddock.config;

import io.paddock.engine.EngineConfig;
import io.paddock.engine.GenerationService;
import io.paddock.engine.LoadedModel;
import io.paddock.engine.ModelCatalog;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Loads the configured model at start-up and puts the engine in front of it. */
@Configuration(proxyBeanMethods = false)
public class EngineConfiguration {

    @Bean(destroyMethod = "close")
    GenerationService generationService(PaddockProperties props) {
        LoadedModel model = ModelCatalog.open(props.model().path(), props.model().effectiveThreads(),
                props.model().gptq().overrides(), System.err);
        model.warmUp();
        var e = props.engine();
        return new GenerationService(model, new EngineConfig(e.blockSize(), e.kvCacheMemory().toBytes(),
                e.maxNumSeqs(), e.maxNumBatchedTokens(), e.prefixCaching(), e.maxQueued()));
    }
}
