package io.paddock.engine;

import io.paddock.loading.LoadedModel;
import io.paddock.runtime.DeviceMemoryReport;
import io.paddock.sampling.Sample;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * The engine's front door for any thread: a model with its {@link EngineCore}. Offers a listener-based stream, a
 * future, and a blocking call for command-line use; all three are the same continuous-batching path.
 */
public final class GenerationService implements AutoCloseable {
    private final LoadedModel model;
    private final EngineCore core;

    public GenerationService(LoadedModel model, EngineConfig config) {
        this(model, config, EngineObserver.NONE);
    }

    /** A service whose engine reports its requests, steps and refusals to {@code observer}. */
    public GenerationService(LoadedModel model, EngineConfig config, EngineObserver observer) {
        this(model, config, observer, null);
    }

    /** A service that also serves the LoRA adapters of {@code adapters} (null: none). */
    public GenerationService(LoadedModel model, EngineConfig config, EngineObserver observer,
            AdapterRegistry adapters) {
        this.model = model;
        try {
            this.core = adapters == null ? new EngineCore(model, config, observer)
                    : new EngineCore(model, config, observer, adapters);
        } catch (RuntimeException | OutOfMemoryError e) {
            model.close();
            throw e;
        }
    }

    public LoadedModel model() { return model; }

    public EngineStats stats() { return core.stats(); }

    /** The LoRA adapters served on this model (each is a model of its own to clients). */
    public AdapterRegistry adapters() { return core.adapters(); }

    /** See {@link EngineCore#unloadAdapter}. */
    public CompletableFuture<Void> unloadAdapter(String name) { return core.unloadAdapter(name); }

    /** Bytes the model's weights take in its runtime. */
    public long weightsBytes() { return core.weightsBytes(); }

    /** Bytes of the engine's KV pool. */
    public long kvCacheBytes() { return core.kvCacheBytes(); }

    /** The accelerator's memory and the engine's share, sampled about once a second; empty on the CPU. */
    public Optional<DeviceMemoryReport> deviceMemory() { return core.deviceMemory(); }

    /** Requests submitted and not yet finished. */
    public int pending() { return core.pending(); }

    /** Prompt tokens of the requests that have not started yet (the admission limit's measure). */
    public long queuedPromptTokens() { return core.queuedPromptTokens(); }

    /** Whether it takes new requests: not draining, and the runtime not failing step after step. */
    public boolean ready() { return core.ready(); }

    /** The state of the breaker around the runtime's steps: CLOSED, OPEN or HALF_OPEN. */
    public String breakerState() { return core.breakerState(); }

    /**
     * Starts a graceful shutdown: new requests are refused with a 503 naming {@code reason}; queued and running
     * ones go on. {@link #close()} later cuts off whatever is left, each with an error naming the shutdown.
     */
    public void drain(String reason) {
        core.drain(reason);
    }

    /** Takes new requests again after {@link #drain}. */
    public void resume() {
        core.resume();
    }

    /** Waits up to {@code timeout} for every submitted request to finish; says whether they all did. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (core.pending() > 0) {
            if (System.nanoTime() - deadline >= 0) return false;
            Thread.sleep(20);
        }
        return true;
    }

    /**
     * Streams a request's outputs to {@code listener} (called on the engine thread). Throws
     * {@link RequestRejectedException} at once for a request that can never fit (CONTEXT_LENGTH_EXCEEDED) or when
     * the queue is full (OVERLOADED).
     */
    public RequestHandle stream(GenerationRequest request, EngineListener listener) {
        return core.submit(request, listener);
    }

    /** Throws {@link RequestRejectedException} for a request the engine could never take (see {@link Admission}). */
    public void validate(GenerationRequest request) {
        core.validate(request);
    }

    /** The context and KV pool requests are admitted against (see {@link Admission}). */
    public Admission.Capacity capacity() {
        return core.capacity();
    }

    /** Several samples of one prompt (OpenAI's {@code n}); they share the prompt's KV blocks. */
    public List<RequestHandle> streamSamples(List<GenerationRequest> samples,
            List<EngineListener> listeners) {
        return samples.size() == 1 ? List.of(core.submit(samples.getFirst(), listeners.getFirst()))
                : core.submitSamples(samples, listeners);
    }

    /** The whole result when done; cancelling the future cancels the request and frees its blocks. */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        RequestHandle handle = core.submit(request, new EngineListener() {
            @Override public void onText(String delta, int[] tokenIds, List<Sample> samples) { }
            @Override public void onFinish(GenerationResult r) { result.complete(r); }
            @Override public void onError(RuntimeException e) { result.completeExceptionally(e); }
        });
        result.whenComplete((r, e) -> { if (e instanceof CancellationException) handle.cancel(); });
        return result;
    }

    /** Runs a request to completion on the calling thread's behalf, handing text to {@code onText} as it comes. */
    public GenerationResult generate(GenerationRequest request, Consumer<String> onText) {
        CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        core.submit(request, new EngineListener() {
            @Override public void onText(String delta, int[] tokenIds, List<Sample> samples) { onText.accept(delta); }
            @Override public void onFinish(GenerationResult r) { result.complete(r); }
            @Override public void onError(RuntimeException e) { result.completeExceptionally(e); }
        });
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Stops the engine, then closes the model. */
    @Override
    public void close() {
        core.close();
        model.close();
    }
}
