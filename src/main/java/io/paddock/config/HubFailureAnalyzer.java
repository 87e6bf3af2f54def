package io.paddock.config;

import io.paddock.hub.HubException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A hub model that could not be pulled at start-up (not found, gated, unreachable): one message, no stack trace. */
class HubFailureAnalyzer extends AbstractFailureAnalyzer<HubException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, HubException cause) {
        return new FailureAnalysis("The hub model could not be pulled: " + cause.getMessage(),
                "Check --model ORG/NAME[:REVISION] and the HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE variables"
                        + " (docs/models.md), or pull it first with ./paddock pull.", cause);
    }
}
