package io.paddock.config;

import io.paddock.loading.EngineStartException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** An engine that cannot start as configured is reported as one message, not a stack trace. */
class EngineStartFailureAnalyzer extends AbstractFailureAnalyzer<EngineStartException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, EngineStartException cause) {
        return new FailureAnalysis("The engine could not start: " + cause.getMessage(),
                "Check paddock.runtime (auto, cpu or cuda) and the paddock.engine.* settings.", cause);
    }
}
