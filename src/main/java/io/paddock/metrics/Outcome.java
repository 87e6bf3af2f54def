package io.paddock.metrics;

import io.paddock.engine.FinishReason;

/** How a request ended, as the {@code finish_reason} tag says it. */
enum Outcome {
    STOP("stop"), LENGTH("length"), CANCELLED("cancelled"), ERROR("error"), REJECTED("rejected");

    final String tag;

    Outcome(String tag) { this.tag = tag; }

    static Outcome of(FinishReason reason) {
        return switch (reason) {
            case STOP -> STOP;
            case LENGTH -> LENGTH;
            case CANCELLED -> CANCELLED;
        };
    }
}
