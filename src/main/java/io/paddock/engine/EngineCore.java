package io.paddock.engine;

import io.paddock.kvcache.KvCacheManager;
import io.paddock.loading.EngineStartException;
import io.paddock.loading.LoadedModel;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.StepChunk;
import io.paddock.sampling.Sampler;
import io.paddock.tokenizer.IncrementalDetokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * batch between steps (continuous batching), and long prompts are prefilled in budget-sized chunks.
 */
public final class EngineCore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EngineCore.class);

    /** A submitted request; {@link #cancel()} ends it at the next step and frees its KV blocks at once. */
    public final class Handle {
        private final long id;

        private Handle(long id) { this.id = id; }

        public long id() { return id; }

        public void cancel() {
            inbox.add(new Cancel(id));
            LockSupport.unpark(thread);
        }
    }

    private sealed interface Command permits Submit, SubmitSamples, Cancel {}

    private record Submit(long id, GenerationRequest request, EngineListener listener) implements Command {}

    /** Several samples of one prompt (OpenAI's {@code n}): the first computes the prompt, the others reuse it. */
    private record SubmitSamples(List<Submit> samples) implements Command {}

    private record Cancel(long id) implements Command {}

    /** Per-request state the engine thread keeps beside the scheduler's Sequence. */
    private static final class Active {
        final Sequence seq;
        final EngineListener listener;
        final Sampler sampler;
        final IncrementalDetokenizer detokenizer;
        final StopMatcher stops;
        final List<io.paddock.sampling.Sample> samples = new ArrayList<>(); // (output tokens), kept until emitted
        final boolean logprobs;
        int emitted; // output tokens already turned into text

        Active(Sequence seq, EngineListener listener, Sampler sampler, IncrementalDetokenizer detokenizer,
                StopMatcher stops) {
            this.seq = seq;
            this.listener = listener;
            this.sampler = sampler;
            this.detokenizer = detokenizer;
            this.stops = stops;
            this.logprobs = sampler.params().logprobs() >= 0;
        }
    }

    private final LoadedModel model;
    private final EngineConfig config;
    private final KvCacheManager kvManager;
    private final Scheduler scheduler;
    private final KvStore kv;
    private final ConcurrentLinkedQueue<Command> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger(); // submitted, not yet finished
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, Active> active = new HashMap<>(); // engine thread only
    private final Map<Long, List<Submit>> deferred = new HashMap<>(); // leader id -> samples waiting on its prompt
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineStats stats;
    private long computedTokens;
    private long steps;

    public EngineCore(LoadedModel model, EngineConfig config) {
        this.model = model;
        this.config = config;
        int budget = Math.max(config.maxNumBatchedTokens(), config.maxNumSeqs());
        int numBlocks;
        try {
            model.runtime().reserveStep(budget, config.maxNumSeqs(), config.blockSize());
            numBlocks = config.numBlocks(model.runtime().kvBytesPerToken(), model.contextLength(),
                    model.runtime().defaultKvBudgetBytes());
            this.kv = model.runtime().newKvStore(numBlocks, config.blockSize());
        } catch (IllegalStateException | OutOfMemoryError e) {
            throw new EngineStartException(e.getMessage(), e);
        }
        this.kvManager = new KvCacheManager(numBlocks, config.blockSize(), config.prefixCaching());
        this.scheduler = new Scheduler(new SchedulerConfig(config.maxNumSeqs(), budget, config.blockSize(),
                model.contextLength(), config.prefixCaching(), numBlocks), kvManager);
        this.stats = snapshot();
        this.thread = new Thread(this::loop, "paddock-engine");
        thread.setDaemon(true);
        thread.start();
        log.info("engine: {} KV blocks of {} tokens ({} MB), batch up to {} sequences / {} tokens per step",
                numBlocks, config.blockSize(), kv.bytes() >> 20, config.maxNumSeqs(), budget);
    }

    public LoadedModel model() { return model; }

    public EngineStats stats() { return stats; }

    /** Requests submitted and not yet finished. */
    public int pending() { return pending.get(); }

    /**
     * Queues a request. Refuses at once (on the caller's thread) one that can never fit: longer than the context
     * or needing more KV blocks than the whole pool; and one that would overflow the queue.
     */
    public Handle submit(GenerationRequest request, EngineListener listener) {
        check(request, 1);
        long id = nextId.getAndIncrement();
        inbox.add(new Submit(id, request, listener));
        LockSupport.unpark(thread);
        return new Handle(id);
    }

    /**
     * Queues several samples of the same prompt. The first is admitted at once; the others wait until its prompt
     * is computed and then find the prompt's full KV blocks in the prefix cache, so the prompt is computed once
     * and its blocks are shared (reference-counted) by all samples.
     */
    public List<Handle> submitSamples(List<GenerationRequest> samples, List<EngineListener> listeners) {
        if (samples.isEmpty() || samples.size() != listeners.size()) {
            throw new IllegalArgumentException("need one listener per sample");
        }
        for (GenerationRequest r : samples) {
            if (!java.util.Arrays.equals(r.promptIds(), samples.getFirst().promptIds())) {
                throw new IllegalArgumentException("samples of one request must share the prompt");
            }
        }
        check(samples.getFirst(), samples.size());
        List<Submit> submits = new ArrayList<>();
        List<Handle> handles = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            long id = nextId.getAndIncrement();
            submits.add(new Submit(id, samples.get(i), listeners.get(i)));
            handles.add(new Handle(id));
        }
        inbox.add(new SubmitSamples(List.copyOf(submits)));
        LockSupport.unpark(thread);
        return handles;
    }

    /**
     * Refuses at once (on the caller's thread) a request that can never fit — longer than the context or needing
     * more KV blocks than the whole pool — and one that would overflow the queue; counts {@code count} as pending.
     */
    private void check(GenerationRequest request, int count) {
        validate(request);
        if (pending.addAndGet(count) > config.maxQueued() + config.maxNumSeqs()) {
            pending.addAndGet(-count);
            throw new GenerationService.QueueFullException(config.maxQueued());
        }
    }

    /**
     * Whether the engine could take this request at all: not longer than the context, not needing more KV blocks
     * than the whole pool, engine running. Throws {@link IllegalArgumentException} with the reason.
     */
    public void validate(GenerationRequest request) {
        if (closed) throw new IllegalStateException("the engine is shut down");
        int total = request.promptIds().length + request.maxTokens();
        if (total > model.contextLength()) {
            throw new IllegalArgumentException("prompt (" + request.promptIds().length + " tokens) + max_tokens ("
                    + request.maxTokens() + ") exceeds the context length of " + model.contextLength() + " tokens");
        }
        if (kvManager.blocksNeeded(total) > kvManager.numBlocks()) {
            throw new IllegalArgumentException("prompt + max_tokens need " + kvManager.blocksNeeded(total)
                    + " KV blocks but the cache holds only " + kvManager.numBlocks());
        }
    }

    // ---- the engine thread ----

    private void loop() {
        while (!closed) {
            drainInbox();
            releaseDeferred();
            if (!scheduler.hasUnfinished()) {
                stats = snapshot();
                LockSupport.parkNanos(50_000_000L); // woken by submit/cancel; the timeout guards a lost wake-up
                continue;
            }
            try {
                step();
            } catch (RuntimeException | Error e) {
                log.error("engine step failed; failing the requests in flight", e);
                failAll(e instanceof RuntimeException re ? re : new IllegalStateException(e));
            }
            stats = snapshot();
        }
        failAll(new IllegalStateException("the engine shut down"));
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
            }
        }
    }

    private void cancel(long id) {
        Active a = active.get(id);
        if (a != null) {
            end(a, FinishReason.CANCELLED);
            return;
        }
        for (List<Submit> waiting : deferred.values()) {
            for (Submit s : waiting) {
                if (s.id() == id) {
                    waiting.remove(s);
                    pending.decrementAndGet();
                    s.listener().onFinish(new GenerationResult(new int[0], "", FinishReason.CANCELLED,
                            s.request().promptIds().length));
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
            Active leader = active.get(e.getKey());
            if (leader == null || leader.seq.numComputedTokens() >= leader.seq.promptLength()) {
                it.remove();
                e.getValue().forEach(this::admit);
            }
        }
    }

    private void admit(Submit s) {
        GenerationRequest r = s.request();
        try {
            Sequence seq = new Sequence(s.id(), r.promptIds(), r.maxTokens(),
                    r.ignoreEos() ? java.util.Set.of() : model.eosIds(), model.contextLength());
            Sampler sampler = new Sampler(r.sampling(), model.checkpoint().config().vocabSize());
            sampler.acceptPrompt(r.promptIds());
            Active a = new Active(seq, s.listener(), sampler, new IncrementalDetokenizer(model.tokenizer()),
                    new StopMatcher(r.stop()));
            if (r.maxTokens() == 0) {
                pending.decrementAndGet();
                s.listener().onFinish(new GenerationResult(new int[0], "", FinishReason.LENGTH, r.promptIds().length));
                return;
            }
            scheduler.add(seq);
            active.put(s.id(), a);
        } catch (RuntimeException e) {
            pending.decrementAndGet();
            s.listener().onError(e);
        }
    }

    private void step() {
        SchedulerOutput out = scheduler.schedule();
        if (out.isEmpty()) {
            LockSupport.parkNanos(1_000_000L);
            return;
        }
        List<StepChunk> chunks = new ArrayList<>(out.chunks().size());
        for (ScheduledChunk c : out.chunks()) {
            chunks.add(new StepChunk(c.blockTable(), c.tokens(), c.startPos(), c.wantLogits()));
        }
        float[][] logits = model.runtime().forward(kv, chunks);
        computedTokens += out.totalTokens();
        steps++;
        Map<Long, Integer> sampled = new HashMap<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] == null) continue;
            Active a = active.get(out.chunks().get(i).seq().id());
            io.paddock.sampling.Sample sample = a.logprobs ? a.sampler.sampleWithLogprobs(logits[i])
                    : io.paddock.sampling.Sample.of(a.sampler.sample(logits[i]));
            a.samples.add(sample);
            sampled.put(a.seq.id(), sample.token());
        }
        List<Sequence> finished = scheduler.update(out, s -> sampled.get(s.id()));
        for (ScheduledChunk c : out.chunks()) {
            Active a = active.get(c.seq().id());
            if (a != null && c.wantLogits()) emitNewTokens(a);
        }
        for (Sequence s : finished) {
            Active a = active.get(s.id());
            if (a != null) end(a, s.finishReason());
        }
    }

    /** Turns output tokens not yet shown into text; a stop string ends the sequence here. */
    private void emitNewTokens(Active a) {
        // Only the tokens added since the last call: copying the whole output every step would be quadratic.
        int total = a.seq.numOutputTokens();
        if (a.emitted == total) return;
        int from = a.emitted, promptLength = a.seq.promptLength();
        int[] fresh = new int[total - from];
        for (int i = 0; i < fresh.length; i++) fresh[i] = a.seq.tokenAt(promptLength + from + i);
        StringBuilder text = new StringBuilder();
        int tokenizerSize = model.tokenizer().vocabSize();
        for (int i = 0; i < fresh.length && !a.stops.stopped(); i++) {
            // Ids past the tokenizer (a model's padded embedding rows) have no text.
            if (fresh[i] < tokenizerSize) text.append(a.stops.append(a.detokenizer.push(fresh[i])));
            a.emitted = from + i + 1;
        }
        // Called for every accepted token, even when its text is held back (or it has none), so listeners can count.
        List<io.paddock.sampling.Sample> samples = List.copyOf(a.samples.subList(0, a.emitted - from));
        a.samples.subList(0, a.samples.size()).clear();
        a.listener.onText(text.toString(), java.util.Arrays.copyOf(fresh, a.emitted - from), samples);
        if (a.stops.stopped()) end(a, FinishReason.STOP);
    }

    /** Finishes a request: frees its blocks at once and tells the listener. */
    private void end(Active a, FinishReason reason) {
        scheduler.finish(a.seq, reason);
        active.remove(a.seq.id());
        pending.decrementAndGet();
        if (!a.stops.stopped() && reason != FinishReason.CANCELLED) {
            String rest = a.stops.finish(a.detokenizer.flush());
            if (!rest.isEmpty()) a.listener.onText(rest, new int[0], List.of());
        }
        int[] tokens = java.util.Arrays.copyOf(a.seq.outputIds(), a.emitted);
        try {
            a.listener.onFinish(new GenerationResult(tokens, a.stops.text(), reason, a.seq.promptLength()));
        } catch (RuntimeException e) {
            log.warn("listener of request {} failed", a.seq.id(), e);
        }
    }

    private void failAll(RuntimeException error) {
        for (Active a : List.copyOf(active.values())) {
            scheduler.finish(a.seq, FinishReason.CANCELLED);
            active.remove(a.seq.id());
            pending.decrementAndGet();
            try {
                a.listener.onError(error);
            } catch (RuntimeException e) {
                log.warn("listener of request {} failed", a.seq.id(), e);
            }
        }
        List<Submit> orphans = new ArrayList<>();
        deferred.values().forEach(orphans::addAll);
        deferred.clear();
        Command c;
        while ((c = inbox.poll()) != null) {
            if (c instanceof Submit s) orphans.add(s);
            if (c instanceof SubmitSamples g) orphans.addAll(g.samples());
        }
        for (Submit s : orphans) {
            pending.decrementAndGet();
            s.listener().onError(error);
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

    /** Stops the loop; requests still in flight fail with a clear error. Does not close the model. */
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
