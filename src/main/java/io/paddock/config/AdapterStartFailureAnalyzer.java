package io.paddock.config;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A configured LoRA adapter that cannot be served is reported as one message naming it, not a stack trace. */
class AdapterStartFailureAnalyzer extends AbstractFailureAnalyzer<AdapterStartException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, AdapterStartException cause) {
        return new FailureAnalysis("The LoRA adapter could not be served: " + cause.getMessage(),
                "Check paddock.lora.adapters (--lora NAME=DIR): DIR must be a PEFT adapter directory"
                        + " (adapter_config.json and adapter_model.safetensors or .bin) trained for the default model,"
                        + " NAME must differ from every model id, and its rank must not exceed paddock.lora.max-rank.",
                cause);
    }
}
