package io.paddock.engine;

import io.paddock.kvcache.KvCacheManager;
import io.paddock.loading.EngineStartException;
import io.paddock.loading.LoadedModel;
import io.paddock.runtime.DeviceMemoryReport;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.StepChunk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving loop. ONE thread owns the scheduler, the KV-cache manager, the KV memory and the runtime, and loops
 * schedule → one batched forward pass → update (sample, stop checks, free). Other threads talk to it only through
 * a queue of commands; outputs leave through each request's {@link EngineListener}. Sequences join and leave the
 * batch between steps (continuous batching), and long prompts are prefilled in budget-sized chunks. The output side
 * of each request (sampling bookkeeping, detokenizing, stop strings, text deltas, finishing) is the
 * {@link OutputProcessor}'s; this loop calls it after each step. An {@link EngineObserver} hears each request's
 * progress and each step, for metrics.
 */
public final class EngineCore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EngineCore.class);

    /** A submitted request; {@link #cancel()} ends it at the next step and frees its KV blocks at once. */
    private final class Handle implements RequestHandle {
        private final long id;

        private Handle(long id) { this.id = id; }

        @Override
        public long id() { return id; }

        @Override
        public void cancel() {
            inbox.add(new Cancel(id));
            LockSupport.unpark(thread);
        }
    }

    private sealed interface Command permits Submit, SubmitSamples, Cancel, Evict {}

    /**
     * {@code queuedPromptTokens}: what this submission added to the waiting prompt tokens (0 for extra samples);
     * {@code adapter}: the LoRA adapter it runs with (taken for it), or null.
     */
    private record Submit(long id, GenerationRequest request, EngineListener listener, long arrivalNanos,
            long queuedPromptTokens, ServedAdapter adapter) implements Command {}

    /** Empties the runtime slot of an adapter that was unloaded and has drained. */
    private record Evict(ServedAdapter adapter, CompletableFuture<Void> done) implements Command {}

    /** Several samples of one prompt (OpenAI's {@code n}): the first computes the prompt, the others reuse it. */
    private record SubmitSamples(List<Submit> samples) implements Command {}

    private record Cancel(long id) implements Command {}

    private final LoadedModel model;
    private final EngineConfig config;
    private final KvCacheManager kvManager;
    private final Scheduler scheduler;
    private final KvStore kv;
    private final AdapterRegistry adapters;
    private final AdapterSlots slots; // null where adapters are off
    private final ConcurrentLinkedQueue<Command> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger(); // submitted, not yet finished
    private final AtomicLong queuedPromptTokens = new AtomicLong(); // prompt tokens of requests not yet started
    private final StepBreaker breaker;
    private volatile String refusal; // non-null while draining: why new requests are refused
    private long nextDeadlineSweep;
    private final AtomicLong nextId = new AtomicLong(1);
    private final OutputProcessor output;
    private final EngineObserver observer;
    private final long weightsBytes;
    private final Map<Long, OutputProcessor.RequestState> active = new HashMap<>(); // engine thread only
    private final Map<Long, List<Submit>> deferred = new HashMap<>(); // leader id -> samples waiting on its prompt
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineStats stats;
    private volatile Optional<DeviceMemoryReport> deviceMemory; // sampled by the engine thread, about once a second
    private long deviceMemorySampled;                           // nanoTime of the last sample
    private long computedTokens;
    private long steps;

    public EngineCore(LoadedModel model, EngineConfig config) {
        this(model, config, EngineObserver.NONE);
    }

    /** An engine whose requests, steps and refusals {@code observer} hears (see {@link EngineObserver}). */
    public EngineCore(LoadedModel model, EngineConfig config, EngineObserver observer) {
        this(model, config, observer, new AdapterRegistry(LoraConfig.NONE, (name, dir) -> {
            throw new IllegalStateException("LoRA adapters are off");
        }));
    }

    /**
     * An engine that also serves the LoRA adapters of {@code adapters} (reserving the runtime's adapter slots its
     * configuration asks for before the KV pool is sized).
     */
    public EngineCore(LoadedModel model, EngineConfig config, EngineObserver observer, AdapterRegistry adapters) {
        this.model = model;
        this.config = config;
        this.observer = observer;
        this.adapters = adapters;
        LoraConfig lora = adapters.config();
        int budget = config.stepTokenBudget();
        int numBlocks;
        try {
            model.runtime().reserveStep(budget, config.maxNumSeqs(), config.blockSize());
            if (lora.enabled()) model.runtime().reserveAdapters(lora.maxLoras(), lora.maxLoraRank());
            model.runtime().useKvCacheDtype(config.kvCacheDtype());
            numBlocks = config.numBlocks(model.runtime().kvBytesPerToken(), model.contextLength(),
                    model.runtime().defaultKvBudgetBytes());
            this.kv = model.runtime().newKvStore(numBlocks, config.blockSize());
        } catch (IllegalStateException | OutOfMemoryError e) {
            throw new EngineStartException(e.getMessage(), e);
        }
        try {
            this.kvManager = new KvCacheManager(numBlocks, config.blockSize(), config.prefixCaching());
            this.scheduler = new Scheduler(config.schedulerConfig(model.contextLength(), numBlocks), kvManager,
                    lora.maxLoras());
            this.slots = lora.enabled() ? new AdapterSlots(model.runtime(), adapters) : null;
            this.output = OutputProcessor.of(model);
            this.breaker = new StepBreaker(model.id());
            this.stats = snapshot();
            this.weightsBytes = model.runtime().weightsBytes();
            this.deviceMemory = model.runtime().deviceMemory();
            this.deviceMemorySampled = System.nanoTime();
            this.thread = new Thread(this::loop, "paddock-engine");
            thread.setDaemon(true);
            thread.start();
        } catch (RuntimeException | Error e) {
            kv.close(); // the loop that would close it never started
            throw e;
        }
        log.info("engine: {} KV blocks of {} tokens ({} MB, {}), batch up to {} sequences / {} tokens per step",
                numBlocks, config.blockSize(), kv.bytes() >> 20, kv.dtype().label(), config.maxNumSeqs(), budget);
    }

    public LoadedModel model() { return model; }

    /** The LoRA adapters this engine serves (empty and refusing additions where adapters are off). */
    public AdapterRegistry adapters() { return adapters; }

    /**
     * Stops serving adapter {@code name}: new requests naming it are refused at once (404, as an unknown model); the
     * future completes once the requests already in flight with it have finished and its runtime slot is empty.
     * Throws {@link RequestRejectedException} (not found) where no such adapter is served.
     */
    public CompletableFuture<Void> unloadAdapter(String name) {
        ServedAdapter a = adapters.retire(name).orElseThrow(() -> RequestRejectedException.notFound("lora_name",
                "The lora adapter '" + name + "' cannot be found.", "lora_adapter_not_found"));
        CompletableFuture<Void> done = new CompletableFuture<>();
        a.retire().thenRun(() -> {
            if (closed) {
                done.complete(null);
            } else {
                inbox.add(new Evict(a, done));
                LockSupport.unpark(thread);
            }
        });
        return done;
    }

    public EngineStats stats() { return stats; }

    /** Bytes the model's weights take in the runtime (see {@code ModelRuntime.weightsBytes}). */
    public long weightsBytes() { return weightsBytes; }

    /** Bytes of the KV pool, allocated once at start. */
    public long kvCacheBytes() { return kv.bytes(); }

    /**
     * The accelerator's memory and this engine's share of it, as the engine thread last sampled it (about once a
     * second); empty on the CPU.
     */
    public Optional<DeviceMemoryReport> deviceMemory() { return deviceMemory; }

    /** Requests submitted and not yet finished. */
    public int pending() { return pending.get(); }

    /**
     * Queues a request. Refuses at once (on the caller's thread) one that can never fit: longer than the context
     * or needing more KV blocks than the whole pool; and one that would overflow the queue.
     */
    public RequestHandle submit(GenerationRequest request, EngineListener listener) {
        long now = System.nanoTime();
        ServedAdapter adapter = check(request, 1);
        long id = nextId.getAndIncrement();
        inbox.add(new Submit(id, request, listener, now, request.promptIds().length, adapter));
        observer.queued(request);
        LockSupport.unpark(thread);
        return new Handle(id);
    }

    /**
     * Queues several samples of the same prompt. The first is admitted at once; the others wait until its prompt
     * is computed and then find the prompt's full KV blocks in the prefix cache, so the prompt is computed once
     * and its blocks are shared (reference-counted) by all samples.
     */
    public List<RequestHandle> submitSamples(List<GenerationRequest> samples, List<EngineListener> listeners) {
        if (samples.isEmpty() || samples.size() != listeners.size()) {
            throw new IllegalArgumentException("need one listener per sample");
        }
        for (GenerationRequest r : samples) {
            if (!Arrays.equals(r.promptIds(), samples.getFirst().promptIds())) {
                throw new IllegalArgumentException("samples of one request must share the prompt");
            }
        }
        long now = System.nanoTime();
        ServedAdapter adapter = check(samples.getFirst(), samples.size());
        List<Submit> submits = new ArrayList<>();
        List<RequestHandle> handles = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            long id = nextId.getAndIncrement();
            long queued = i == 0 ? samples.getFirst().promptIds().length : 0; // the prompt is computed once
            submits.add(new Submit(id, samples.get(i), listeners.get(i), now, queued, adapter));
            handles.add(new Handle(id));
        }
        inbox.add(new SubmitSamples(List.copyOf(submits)));
        samples.forEach(observer::queued);
        LockSupport.unpark(thread);
        return handles;
    }

    /**
     * Refuses at once (on the caller's thread) a request that can never fit — longer than the context or needing
     * more KV blocks than the whole pool — and, as OVERLOADED (503, retry later), one that arrives while the engine
     * drains or its step breaker is open, or that would overflow the queue: more than {@code maxQueued} requests or
     * {@code maxQueuedPromptTokens} prompt tokens waiting. Counts {@code count} as pending and the prompt as waiting.
     * The observer hears each refused sample.
     */
    private ServedAdapter check(GenerationRequest request, int count) {
        ServedAdapter adapter = null;
        int taken = 0;
        try {
            if (request.adapter() != null) {
                adapter = adapters.find(request.adapter()).orElseThrow(() -> RequestRejectedException.notFound("model",
                        "The model '" + request.adapter() + "' does not exist", "model_not_found"));
                for (; taken < count; taken++) {
                    if (!adapter.acquire()) {
                        throw RequestRejectedException.notFound("model", "The model '" + request.adapter()
                                + "' is being unloaded", "model_not_found");
                    }
                }
            }
            admissible(request, count);
            return adapter;
        } catch (RequestRejectedException e) {
            for (int i = 0; i < taken; i++) adapter.release();
            for (int i = 0; i < count; i++) observer.rejected(request, e);
            throw e;
        }
    }

    /** A request leaves the engine (finished, failed, cancelled): it no longer counts as pending or as its adapter's. */
    private void left(ServedAdapter adapter) {
        pending.decrementAndGet();
        if (adapter != null) adapter.release();
    }

    private void admissible(GenerationRequest request, int count) {
        validate(request);
        String refused = refusal;
        if (refused != null) throw RequestRejectedException.overloaded(refused, "server_shutting_down");
        if (!breaker.admits()) {
            throw RequestRejectedException.overloaded("the engine of model '" + model.id() + "' failed its last "
                    + "steps and is recovering; retry in a few seconds");
        }
        if (pending.addAndGet(count) > config.maxQueued() + config.maxNumSeqs()) {
            pending.addAndGet(-count);
            throw RequestRejectedException.overloaded("the server is busy: " + config.maxQueued()
                    + " requests are already waiting; retry later");
        }
        long tokens = request.promptIds().length;
        long queued = queuedPromptTokens.addAndGet(tokens);
        if (queued > config.maxQueuedPromptTokens() && queued > tokens) { // one request always fits an empty queue
            queuedPromptTokens.addAndGet(-tokens);
            pending.addAndGet(-count);
            throw RequestRejectedException.overloaded("the server is busy: " + (queued - tokens) + " prompt tokens"
                    + " are already waiting (limit " + config.maxQueuedPromptTokens() + "); retry later");
        }
    }

    /** Prompt tokens of the requests that have not started yet. */
    public long queuedPromptTokens() {
        return queuedPromptTokens.get();
    }

    /**
     * Refuses every new request from now on with {@code reason} (503); what is queued or running goes on. For a
     * graceful shutdown: call, wait for {@link #pending()} to reach 0, then {@link #close()}.
     */
    public void drain(String reason) {
        refusal = reason;
    }

    /** Takes new requests again after {@link #drain} (a stopped application context that is started again). */
    public void resume() {
        refusal = null;
    }

    /** Whether the engine takes new requests: not draining, and its step breaker not open. */
    public boolean ready() {
        return refusal == null && breaker.admits();
    }

    /** The step breaker's state (CLOSED, OPEN, HALF_OPEN), for readiness reports. */
    public String breakerState() {
        return breaker.state();
    }

    /**
     * Whether the engine could take this request at all (see {@link Admission}): not longer than the context, not
     * needing more KV blocks than the whole pool. Throws {@link RequestRejectedException} with the reason, or
     * {@link IllegalStateException} when the engine is shut down.
     */
    public void validate(GenerationRequest request) {
        if (closed) throw new IllegalStateException("the engine is shut down");
        Admission.check(capacity(), request, Admission.Entry.ENGINE);
    }

    /** The context and KV pool every request is admitted against. */
    public Admission.Capacity capacity() {
        return new Admission.Capacity(model.contextLength(), kvManager.numBlocks(), kvManager.blockSize());
    }

    // ---- the engine thread ----

    private void loop() {
        while (!closed) {
            drainInbox();
            releaseDeferred();
            dropExpired();
            if (!scheduler.hasUnfinished()) {
                stats = snapshot();
                sampleDeviceMemory();
                LockSupport.parkNanos(50_000_000L); // woken by submit/cancel; the timeout guards a lost wake-up
                continue;
            }
            try {
                step();
            } catch (RuntimeException | Error e) {
                // Outside the forward pass (scheduling, sampling, bookkeeping): the engine's state is suspect.
                log.error("engine bookkeeping failed; failing every request in flight", e);
                failAll(e instanceof RuntimeException re ? re : new IllegalStateException(e));
            }
            stats = snapshot();
            sampleDeviceMemory();
        }
        String refused = refusal;
        try {
            failAll(refused == null ? new IllegalStateException("the engine shut down")
                    : RequestRejectedException.overloaded(refused + "; this request was cut off at the end of the drain",
                            "server_shutting_down"));
        } finally {
            kv.close(); // off-heap (or device) memory: freed here, on the thread that used it, once no step can run
        }
    }

    private void drainInbox() {
        Command c;
        while ((c = inbox.poll()) != null) {
            switch (c) {
                case Submit s -> admit(s);
                case SubmitSamples g -> {
                    admit(g.samples().getFirst());
                    List<Submit> rest = g.samples().subList(1, g.samples().size());
                    if (!rest.isEmpty()) deferred.put(g.samples().getFirst().id(), new ArrayList<>(rest));
                }
                case Cancel x -> cancel(x.id());
                case Evict e -> {
                    try {
                        slots.evict(e.adapter());
                    } finally {
                        e.done().complete(null);
                    }
                }
            }
        }
    }

    private void cancel(long id) {
        OutputProcessor.RequestState a = active.get(id);
        if (a != null) {
            end(a, FinishReason.CANCELLED);
            return;
        }
        for (List<Submit> waiting : deferred.values()) {
            for (Submit s : waiting) {
                if (s.id() == id) {
                    waiting.remove(s);
                    queuedPromptTokens.addAndGet(-s.queuedPromptTokens());
                    left(s.adapter());
                    OutputProcessor.finishEmpty(s.listener(), s.request(), FinishReason.CANCELLED);
                    observer.finished(s.request(), FinishReason.CANCELLED, s.request().promptIds().length, 0,
                            System.nanoTime() - s.arrivalNanos());
                    return;
                }
            }
        }
    }

    /** Admits samples whose leader has computed the shared prompt (or is gone). */
    private void releaseDeferred() {
        if (deferred.isEmpty()) return;
        var it = deferred.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            OutputProcessor.RequestState leader = active.get(e.getKey());
            if (leader == null || leader.seq().numComputedTokens() >= leader.seq().promptLength()) {
                it.remove();
                e.getValue().forEach(this::admit);
            }
        }
    }

    private void admit(Submit s) {
        GenerationRequest r = s.request();
        try {
            OutputProcessor.RequestState a = output.open(s.id(), r, s.listener());
            a.arrivalNanos = s.arrivalNanos();
            a.queuedPromptTokens = s.queuedPromptTokens();
            a.seq().setAdapter(s.adapter());
            if (r.maxTokens() == 0) {
                queuedPromptTokens.addAndGet(-s.queuedPromptTokens());
                left(s.adapter());
                OutputProcessor.finishEmpty(s.listener(), r, FinishReason.LENGTH);
                observer.finished(r, FinishReason.LENGTH, r.promptIds().length, 0,
                        System.nanoTime() - s.arrivalNanos());
                return;
            }
            scheduler.add(a.seq());
            active.put(s.id(), a);
        } catch (RuntimeException e) {
            queuedPromptTokens.addAndGet(-s.queuedPromptTokens());
            left(s.adapter());
            s.listener().onError(e);
            observer.failed(r, e, r.promptIds().length, 0, System.nanoTime() - s.arrivalNanos());
        }
    }

    private void step() {
        long stepStart = System.nanoTime();
        SchedulerOutput out = scheduler.schedule();
        if (out.isEmpty()) {
            LockSupport.parkNanos(1_000_000L);
            return;
        }
        if (!out.preempted().isEmpty()) observer.preempted(out.preempted().size());
        for (ScheduledChunk c : out.chunks()) start(active.get(c.seq().id()), stepStart);
        List<StepChunk> chunks;
        try {
            chunks = stepChunks(out);
        } catch (AdapterUnavailable e) {
            // Its requests fail; the others' plan is dropped unrun (nothing was computed) and made again next step.
            log.error("cannot load {} into the runtime; failing its requests", e.adapter, e.getCause());
            RuntimeException error = new IllegalStateException("the LoRA adapter '" + e.adapter.name()
                    + "' could not be loaded: " + e.getCause().getMessage(), e.getCause());
            for (OutputProcessor.RequestState a : List.copyOf(active.values())) {
                if (a.seq().adapter() == e.adapter) fail(a, error);
            }
            return;
        }
        float[][] logits;
        long t0 = System.nanoTime();
        try {
            logits = model.runtime().forward(kv, chunks);
        } catch (RuntimeException | Error e) {
            // A failed forward pass fails the requests in this step only; their blocks are freed and nothing of the
            // step was published to the prefix cache. Repeated failures open the breaker (503 until it recovers).
            breaker.failed(System.nanoTime() - t0, e);
            log.error("forward step over {} sequences failed; failing them, the engine goes on", out.chunks().size(), e);
            RuntimeException error = e instanceof RuntimeException re ? re : new IllegalStateException(e);
            for (ScheduledChunk c : out.chunks()) {
                OutputProcessor.RequestState a = active.get(c.seq().id());
                if (a != null) fail(a, error);
            }
            return;
        }
        breaker.succeeded(System.nanoTime() - t0);
        computedTokens += out.totalTokens();
        steps++;
        Map<Long, Integer> sampled = new HashMap<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == null) continue;
            long id = out.chunks().get(i).seq().id();
            OutputProcessor.RequestState a = active.get(id);
            try {
                sampled.put(id, output.sample(a, logits[i]));
            } catch (OutputProcessor.GrammarDeadEnd e) {
                log.warn("request {}: {}", id, e.getMessage());
                fail(a, e); // its sequence is finished, so the scheduler's update skips it
            }
        }
        List<Sequence> finished = scheduler.update(out, s -> sampled.get(s.id()));
        for (ScheduledChunk c : out.chunks()) {
            OutputProcessor.RequestState a = active.get(c.seq().id());
            // A stop string, or a grammar that is complete and allows nothing more.
            if (a != null && c.wantLogits() && (emit(a) || OutputProcessor.grammarComplete(a))) end(a, FinishReason.STOP);
        }
        for (Sequence s : finished) {
            OutputProcessor.RequestState a = active.get(s.id());
            if (a != null) end(a, s.finishReason());
        }
        observer.step(System.nanoTime() - stepStart, out.batchSize(), out.totalTokens());
    }

    /** The runtime's view of a step, with each chunk's adapter slot (adapters missing from the slots are loaded). */
    private List<StepChunk> stepChunks(SchedulerOutput out) {
        Set<ServedAdapter> inStep = new HashSet<>();
        for (ScheduledChunk c : out.chunks()) if (c.seq().adapter() != null) inStep.add(c.seq().adapter());
        List<StepChunk> chunks = new ArrayList<>(out.chunks().size());
        for (ScheduledChunk c : out.chunks()) {
            int slot;
            try {
                slot = inStep.isEmpty() ? StepChunk.NO_ADAPTER : slots.slotFor(c.seq().adapter(), inStep);
            } catch (RuntimeException e) {
                throw new AdapterUnavailable(c.seq().adapter(), e);
            }
            chunks.add(new StepChunk(c.blockTable(), c.tokens(), c.startPos(), c.wantLogits(), slot));
        }
        return chunks;
    }

    /** An adapter a step needs could not be put into a runtime slot (its directory could not be read again, ...). */
    private static final class AdapterUnavailable extends RuntimeException {
        final transient ServedAdapter adapter;

        AdapterUnavailable(ServedAdapter adapter, RuntimeException cause) {
            super(cause);
            this.adapter = adapter;
        }
    }

    /** {@link OutputProcessor#emit}, telling the observer how many tokens went out and when. */
    private boolean emit(OutputProcessor.RequestState a) {
        int before = a.emitted();
        boolean stopped = output.emit(a);
        int count = a.emitted() - before;
        if (count > 0) {
            long now = System.nanoTime();
            if (before == 0) observer.firstToken(a.request, count, now - a.arrivalNanos);
            else observer.tokens(a.request, count, now - a.lastEmitNanos);
            a.lastEmitNanos = now;
        }
        return stopped;
    }

    /** A request leaves the queue: its prompt tokens no longer count as waiting. */
    private void start(OutputProcessor.RequestState a, long now) {
        if (a == null || a.started) return;
        a.started = true;
        queuedPromptTokens.addAndGet(-a.queuedPromptTokens);
        a.queuedPromptTokens = 0;
        observer.scheduled(a.request, now - a.arrivalNanos);
    }

    /** Drops requests that waited longer than {@code maxQueueWait} without starting (checked every 100 ms). */
    private void dropExpired() {
        long now = System.nanoTime();
        if (now - nextDeadlineSweep < 0 || active.isEmpty()) return;
        nextDeadlineSweep = now + 100_000_000L;
        long limit = config.maxQueueWait().toNanos();
        for (OutputProcessor.RequestState a : List.copyOf(active.values())) {
            if (!a.started && now - a.arrivalNanos > limit) {
                Duration wait = config.maxQueueWait();
                fail(a, RequestRejectedException.overloaded("the server is busy: the request waited "
                        + (wait.toMillis() % 1000 == 0 ? wait.toSeconds() + " s" : wait.toMillis() + " ms")
                        + " without starting; retry later"));
            }
        }
    }

    /** Finishes a request: frees its blocks at once and tells the listener. */
    private void end(OutputProcessor.RequestState a, FinishReason reason) {
        retire(a, reason);
        output.finish(a, reason);
        observer.finished(a.request, reason, a.seq().promptLength(), a.emitted(),
                System.nanoTime() - a.arrivalNanos);
    }

    /** Fails a request (and the samples of it still waiting on its prompt): frees its blocks, tells the listeners. */
    private void fail(OutputProcessor.RequestState a, RuntimeException error) {
        retire(a, FinishReason.CANCELLED);
        output.fail(a, error);
        observer.failed(a.request, error, a.seq().promptLength(), a.emitted(), System.nanoTime() - a.arrivalNanos);
        List<Submit> samples = deferred.remove(a.seq().id());
        if (samples != null) samples.forEach(s -> fail(s, error));
    }

    private void fail(Submit s, RuntimeException error) {
        queuedPromptTokens.addAndGet(-s.queuedPromptTokens());
        left(s.adapter());
        try {
            s.listener().onError(error);
        } catch (RuntimeException e) {
            log.warn("listener of request {} failed", s.id(), e);
        }
        observer.failed(s.request(), error, s.request().promptIds().length, 0, System.nanoTime() - s.arrivalNanos());
    }

    private void retire(OutputProcessor.RequestState a, FinishReason reason) {
        scheduler.finish(a.seq(), reason);
        active.remove(a.seq().id());
        queuedPromptTokens.addAndGet(-a.queuedPromptTokens);
        a.queuedPromptTokens = 0;
        left(a.seq().adapter());
    }

    private void failAll(RuntimeException error) {
        for (OutputProcessor.RequestState a : List.copyOf(active.values())) fail(a, error);
        List<Submit> orphans = new ArrayList<>();
        deferred.values().forEach(orphans::addAll);
        deferred.clear();
        Command c;
        while ((c = inbox.poll()) != null) {
            if (c instanceof Submit s) orphans.add(s);
            if (c instanceof SubmitSamples g) orphans.addAll(g.samples());
            if (c instanceof Evict e) e.done().complete(null);
        }
        for (Submit s : orphans) fail(s, error);
    }

    /** Refreshes {@link #deviceMemory()} when the last sample is a second old (the driver call is not free). */
    private void sampleDeviceMemory() {
        long now = System.nanoTime();
        if (now - deviceMemorySampled < 1_000_000_000L) return;
        deviceMemorySampled = now;
        try {
            deviceMemory = model.runtime().deviceMemory();
        } catch (RuntimeException e) {
            log.debug("device memory report failed", e);
        }
    }

    private EngineStats snapshot() {
        long kvTokens = 0;
        for (Sequence s : scheduler.running()) kvTokens += s.numComputedTokens();
        return new EngineStats(scheduler.waitingCount(), scheduler.runningCount(), kvManager.numBlocks(),
                kvManager.usedBlocks(), kvManager.cachedBlocks(), scheduler.preemptionsTotal(),
                kvManager.prefixHitTokens(), computedTokens, steps, scheduler.lastBatchSize(),
                scheduler.lastBatchTokens(), kvTokens, kvManager.blockSize());
    }

    /**
     * Stops the loop; requests still in flight fail with a clear error and the KV pool is freed (by the engine thread
     * as its loop ends). Does not close the model.
     */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
