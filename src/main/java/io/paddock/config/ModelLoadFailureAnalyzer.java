package io.paddock.config;

import io.paddock.format.ModelLoadException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a bad model directory at start-up into one clear message instead of a stack trace. */
class ModelLoadFailureAnalyzer extends AbstractFailureAnalyzer<ModelLoadException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ModelLoadException cause) {
        return new FailureAnalysis("The model could not be loaded: " + cause.getMessage(),
                "Check paddock.model.path (--model DIR): it must be a Hugging Face LLaMA model directory with"
                        + " config.json, safetensors weights and tokenizer.model or tokenizer.json.", cause);
    }
}
