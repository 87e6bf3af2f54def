package io.paddock.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Accepts generation requests from any thread and runs them, one at a time, on a single engine thread that
 * owns the model's runtime state. A bounded queue rejects excess work early instead of letting it pile up.
 * Cancelling the returned future stops the sequence at its next token.
 */
public final class GenerationService implements AutoCloseable {
    private final LoadedModel model;
    private final Generator generator;
    private final ThreadPoolExecutor engineThread;

    public GenerationService(LoadedModel model, int maxQueued) {
        this.model = model;
        this.generator = new Generator(model);
        this.engineThread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(maxQueued), r -> {
                    Thread t = new Thread(r, "paddock-engine");
                    t.setDaemon(true);
                    return t;
                });
    }

    public LoadedModel model() { return model; }

    /** Requests waiting for the engine thread. */
    public int queued() { return engineThread.getQueue().size(); }

    /**
     * Queues a request. The future fails with {@link QueueFullException} when the queue is full and with
     * {@link IllegalArgumentException} for a request the model cannot take (e.g. longer than its context).
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        AtomicBoolean cancelled = new AtomicBoolean();
        CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        result.whenComplete((r, e) -> { if (result.isCancelled()) cancelled.set(true); });
        try {
            engineThread.execute(() -> {
                if (cancelled.get()) return;
                try {
                    result.complete(generator.generate(request, text -> { }, cancelled::get));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new QueueFullException(engineThread.getQueue().size()));
        }
        return result;
    }

    @Override
    public void close() {
        engineThread.shutdownNow();
        try {
            engineThread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
    }

    /** The request queue is full; the client should retry later. */
    public static final class QueueFullException extends RuntimeException {
        public QueueFullException(int queued) {
            super("the server is busy: " + queued + " requests are already waiting; retry later");
        }
    }
}
