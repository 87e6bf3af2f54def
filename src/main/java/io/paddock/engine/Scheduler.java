package io.paddock.engine;

import io.paddock.kvcache.KvCacheManager;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Continuous batching: decides which sequences run in each step and how many tokens each computes. Every sequence
 * has {@code numComputedTokens} catching up to {@code numTokens}; prefill, chunked prefill, decode and recompute
 * after preemption are the same step with different counts. Only decides — it never sees logits or tensors.
 * Single-threaded: the engine loop calls {@link #schedule()}, runs the model, then {@link #update}.
 */
public final class Scheduler {
    private static final Comparator<Sequence> BY_ARRIVAL = Comparator.comparingLong(Sequence::arrival);

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    private final int maxLoras;
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>(); // preempted ones at the front
    private final List<Sequence> running = new ArrayList<>();        // sorted by arrival
    private final Map<Long, Sequence> live = new HashMap<>();        // added and not finished, by id
    private long nextArrival;
    private long preemptionsTotal;
    private int lastBatchSize;
    private int lastBatchTokens;

    public Scheduler(SchedulerConfig config, KvCacheManager kv) {
        this(config, kv, Integer.MAX_VALUE);
    }

    /**
     * A scheduler that keeps at most {@code maxLoras} distinct LoRA adapters among the running sequences (so every
     * step fits the runtime's adapter slots): a waiting sequence with another adapter waits until one drains, while
     * later arrivals on the base or on a running adapter go ahead of it.
     */
    public Scheduler(SchedulerConfig config, KvCacheManager kv, int maxLoras) {
        if (maxLoras < 0) throw new IllegalArgumentException("maxLoras must be >= 0, got " + maxLoras);
        this.maxLoras = maxLoras;
        if (config.blockSize() != kv.blockSize() || config.numBlocks() != kv.numBlocks()
                || config.prefixCaching() != kv.prefixCaching()) {
            throw new IllegalArgumentException("scheduler config " + config + " does not match the KV cache ("
                    + kv.numBlocks() + " blocks of " + kv.blockSize() + ", prefix caching " + kv.prefixCaching()
                    + ")");
        }
        this.config = config;
        this.kv = kv;
    }

    /**
     * Queues a sequence. One that could never run even alone was refused by {@link Admission} before it got here;
     * meeting one is an engine bug ({@link IllegalStateException}), checked so that admission can always make
     * progress.
     */
    public void add(Sequence s) {
        if (s.status() != SequenceStatus.WAITING || s.arrival() >= 0) {
            throw new IllegalArgumentException("sequence " + s.id() + " was already added (" + s.status() + ")");
        }
        if (live.containsKey(s.id())) throw new IllegalArgumentException("duplicate sequence id " + s.id());
        long total = (long) s.promptLength() + s.maxTokens();
        if (total > config.maxModelLen()) {
            throw new IllegalStateException("not admitted: prompt (" + s.promptLength() + " tokens) + max_tokens ("
                    + s.maxTokens() + ") = " + total + " exceeds the maximum context length of "
                    + config.maxModelLen() + " tokens");
        }
        int blocks = kv.blocksNeeded((int) total);
        if (blocks > kv.numBlocks()) {
            throw new IllegalStateException("not admitted: prompt (" + s.promptLength() + " tokens) + max_tokens ("
                    + s.maxTokens() + ") needs " + blocks + " KV blocks of " + kv.blockSize()
                    + " tokens but the cache has only " + kv.numBlocks());
        }
        s.assignArrival(nextArrival++);
        live.put(s.id(), s);
        waiting.addLast(s);
    }

    /** Plans one step. Never returns a chunk for a finished sequence; empty when there is nothing to do. */
    public SchedulerOutput schedule() {
        List<ScheduledChunk> chunks = new ArrayList<>();
        List<Sequence> preempted = new ArrayList<>();
        int budget = config.maxNumBatchedTokens();

        // Running sequences first, oldest first: decodes get their token before any new prompt is admitted.
        int i = 0;
        while (i < running.size() && budget > 0) {
            Sequence s = running.get(i);
            int n = Math.min(s.numTokens() - s.numComputedTokens(), budget);
            if (n <= 0) throw new IllegalStateException(s + " is running with nothing to compute");
            boolean gotBlocks = true;
            while (!kv.allocateSlots(s, n)) {
                Sequence victim = running.removeLast(); // newest; never one already scheduled this step
                preempt(victim);
                preempted.add(victim);
                if (victim == s) {
                    gotBlocks = false;
                    break;
                }
            }
            if (!gotBlocks) break;
            chunks.add(chunk(s, n));
            budget -= n;
            i++;
        }

        // Admit from the queue in order; skipped in a step that preempted, which would only thrash.
        if (preempted.isEmpty()) {
            Set<ServedAdapter> adapters = new HashSet<>();
            for (Sequence s : running) if (s.adapter() != null) adapters.add(s.adapter());
            Iterator<Sequence> queue = waiting.iterator();
            while (budget > 0 && running.size() < config.maxNumSeqs() && queue.hasNext()) {
                Sequence s = queue.next();
                if (s.adapter() != null && !adapters.contains(s.adapter()) && adapters.size() >= maxLoras) {
                    continue; // every adapter slot is taken by running sequences
                }
                int cached = kv.findCachedPrefixTokens(s);
                int n = Math.min(s.numTokens() - cached, budget);
                if (!kv.allocateSlots(s, n)) break; // head-of-line: later arrivals do not jump the queue
                queue.remove();
                if (s.adapter() != null) adapters.add(s.adapter());
                if (s.status() == SequenceStatus.WAITING) {
                    s.setNumCachedPromptTokens(Math.min(cached, s.promptLength()));
                }
                s.setNumComputedTokens(cached);
                s.setStatus(SequenceStatus.RUNNING);
                insertByArrival(s);
                chunks.add(chunk(s, n));
                budget -= n;
            }
        }

        int total = config.maxNumBatchedTokens() - budget;
        lastBatchSize = chunks.size();
        lastBatchTokens = total;
        return new SchedulerOutput(chunks, preempted, total);
    }

    /**
     * Applies a finished step: advances computed counts, appends the sampled token of every chunk that wanted
     * logits, publishes newly full blocks to the prefix cache and finishes sequences on a stop token (STOP, the
     * token is not appended), {@code maxTokens} or the context limit (LENGTH). Chunks of sequences finished in the
     * meantime (cancelled) are skipped. Returns the sequences finished by this call, in chunk order.
     *
     * @param sampled the next token for a chunk's sequence; called once per chunk with {@code wantLogits}
     */
    public List<Sequence> update(SchedulerOutput out, ToIntFunction<Sequence> sampled) {
        List<Sequence> finished = new ArrayList<>();
        for (ScheduledChunk c : out.chunks()) {
            Sequence s = c.seq();
            if (s.status() != SequenceStatus.RUNNING) continue;
            if (s.numComputedTokens() != c.startPos()) {
                throw new IllegalStateException("stale scheduler output for " + s + ": chunk starts at "
                        + c.startPos());
            }
            s.setNumComputedTokens(c.startPos() + c.numTokens());
            FinishReason reason = c.wantLogits() ? accept(s, sampled) : null;
            kv.cacheFullBlocks(s);
            if (reason != null) {
                finish(s, reason);
                finished.add(s);
            }
        }
        return finished;
    }

    /**
     * Ends a sequence now (stop string, cancellation, error): frees its blocks and removes it from whichever queue
     * holds it. Idempotent; a chunk already handed out for it is ignored by {@link #update}.
     */
    public void finish(Sequence s, FinishReason reason) {
        if (s.isFinished()) return;
        if (live.get(s.id()) == s) { // never free blocks of another sequence that reuses the id
            live.remove(s.id());
            if (!running.remove(s)) waiting.remove(s);
            kv.free(s);
        }
        s.finished(reason);
    }

    // ---- introspection ----

    public Optional<Sequence> get(long id) { return Optional.ofNullable(live.get(id)); }

    public int waitingCount() { return waiting.size(); }

    public int runningCount() { return running.size(); }

    public boolean hasUnfinished() { return !live.isEmpty(); }

    public long preemptionsTotal() { return preemptionsTotal; }

    public int lastBatchSize() { return lastBatchSize; }

    public int lastBatchTokens() { return lastBatchTokens; }

    /** Running sequences in arrival order (read-only view). */
    public List<Sequence> running() { return Collections.unmodifiableList(running); }

    public SchedulerConfig config() { return config; }

    public KvCacheManager kvCache() { return kv; }

    // ---- internals ----

    private FinishReason accept(Sequence s, ToIntFunction<Sequence> sampled) {
        if (s.numOutputTokens() >= s.maxTokens()) return FinishReason.LENGTH; // max_tokens = 0: prompt only
        int token = sampled.applyAsInt(s);
        if (s.stopTokenIds().contains(token)) return FinishReason.STOP;
        s.appendOutput(token);
        if (s.numOutputTokens() >= s.maxTokens()) return FinishReason.LENGTH;
        if (s.numTokens() >= Math.min(s.contextLimit(), config.maxModelLen())) return FinishReason.LENGTH;
        return null;
    }

    private void preempt(Sequence victim) {
        kv.free(victim);
        victim.preempted();
        waiting.addFirst(victim);
        preemptionsTotal++;
    }

    private void insertByArrival(Sequence s) {
        int at = Collections.binarySearch(running, s, BY_ARRIVAL);
        running.add(at < 0 ? -at - 1 : at, s);
    }

    private ScheduledChunk chunk(Sequence s, int n) {
        int start = s.numComputedTokens();
        int[] tokens = new int[n];
        for (int j = 0; j < n; j++) tokens[j] = s.tokenAt(start + j);
        return new ScheduledChunk(s, start, n, tokens, kv.blockTable(s.id()), start + n == s.numTokens());
    }
}
