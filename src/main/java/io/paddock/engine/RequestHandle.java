package io.paddock.engine;

/** A submitted request, as its submitter sees it: {@link #cancel()} ends it at the next step and frees its KV blocks. */
public interface RequestHandle {
    long id();

    /** Ends the request at the engine's next step; the listener gets a CANCELLED finish. Idempotent. */
    void cancel();
}
