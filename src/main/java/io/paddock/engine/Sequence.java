package io.paddock.engine;

import io.paddock.kvcache.KvSequence;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * One generation stream as the scheduler sees it: tokens so far and how many of them have KV. Prefill, chunked
 * prefill, decode and recompute after preemption are all "compute tokens {@code [numComputedTokens, numTokens)}".
 * Mutable, owned by the engine thread; the scheduler changes it, everyone else reads.
 */
public final class Sequence implements KvSequence {
    private final long id;
    private final int[] promptIds;         // (promptLength)
    private int[] outputIds = new int[16]; // (capacity) generated ids, first numOutputTokens valid
    private int numOutputTokens;
    private final int maxTokens;
    private final Set<Integer> stopTokenIds;
    private final int contextLimit;

    private long arrival = -1;
    private int numComputedTokens;
    private SequenceStatus status = SequenceStatus.WAITING;
    private FinishReason finishReason;
    private int numPreemptions;
    private int numCachedPromptTokens;
    private ServedAdapter adapter; // null: the bare base model

    /**
     * @param stopTokenIds ids that end the sequence without being emitted: EOS unless ignore_eos, see
     *                     {@link #stopTokens(int, boolean, Collection)}
     * @param contextLimit most tokens (prompt + output) the sequence may reach; usually the model's context length
     */
    public Sequence(long id, int[] promptIds, int maxTokens, Set<Integer> stopTokenIds, int contextLimit) {
        if (promptIds.length == 0) throw new IllegalArgumentException("prompt has no tokens");
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        if (contextLimit <= promptIds.length) {
            throw new IllegalArgumentException("prompt of " + promptIds.length
                    + " tokens leaves no room in a context limit of " + contextLimit);
        }
        this.id = id;
        this.promptIds = promptIds.clone();
        this.maxTokens = maxTokens;
        this.stopTokenIds = Set.copyOf(stopTokenIds);
        this.contextLimit = contextLimit;
    }

    /** EOS (when {@code eosId >= 0} and not ignored) plus any extra stop ids. */
    public static Set<Integer> stopTokens(int eosId, boolean ignoreEos, Collection<Integer> extraStopIds) {
        Set<Integer> ids = new HashSet<>(extraStopIds);
        if (eosId >= 0 && !ignoreEos) ids.add(eosId);
        return Set.copyOf(ids);
    }

    /** Runs this sequence with {@code a} (null: the bare base); set before the scheduler sees it. */
    void setAdapter(ServedAdapter a) {
        if (arrival >= 0) throw new IllegalStateException("sequence " + id + " is already scheduled");
        this.adapter = a;
    }

    // ---- reads ----

    /** The LoRA adapter it runs with, or null for the bare base model. */
    public ServedAdapter adapter() { return adapter; }

    /** KV computed under an adapter is kept apart from every other adapter's and the base's. */
    @Override
    public long cacheSalt() { return adapter == null ? 0 : adapter.salt(); }

    @Override
    public long id() { return id; }

    /** Order in which the scheduler accepted it (-1 before {@link Scheduler#add}); preemption picks the largest. */
    public long arrival() { return arrival; }

    public int promptLength() { return promptIds.length; }

    public int[] promptIds() { return promptIds.clone(); }

    public int numOutputTokens() { return numOutputTokens; }

    public int[] outputIds() { return Arrays.copyOf(outputIds, numOutputTokens); }

    @Override
    public int numTokens() { return promptIds.length + numOutputTokens; }

    @Override
    public int numComputedTokens() { return numComputedTokens; }

    @Override
    public int tokenAt(int index) {
        if (index < 0 || index >= numTokens()) throw new IndexOutOfBoundsException(index);
        return index < promptIds.length ? promptIds[index] : outputIds[index - promptIds.length];
    }

    /** Prompt followed by output. */
    public int[] allTokens() {
        int[] all = Arrays.copyOf(promptIds, numTokens());
        System.arraycopy(outputIds, 0, all, promptIds.length, numOutputTokens);
        return all;
    }

    /** The most recent token (last output, or last prompt token before any output). */
    public int lastToken() { return tokenAt(numTokens() - 1); }

    public int maxTokens() { return maxTokens; }

    public Set<Integer> stopTokenIds() { return stopTokenIds; }

    public int contextLimit() { return contextLimit; }

    public SequenceStatus status() { return status; }

    public boolean isFinished() { return status == SequenceStatus.FINISHED; }

    /** Null until finished. */
    public FinishReason finishReason() { return finishReason; }

    public int numPreemptions() { return numPreemptions; }

    /** Prompt tokens served from the prefix cache at first admission (OpenAI's {@code cached_tokens}). */
    public int numCachedPromptTokens() { return numCachedPromptTokens; }

    @Override
    public String toString() {
        return "Sequence[id=" + id + ", " + status + ", computed " + numComputedTokens + "/" + numTokens() + "]";
    }

    // ---- scheduler-side changes ----

    void assignArrival(long order) { arrival = order; }

    void setNumComputedTokens(int n) {
        if (n < 0 || n > numTokens()) throw new IllegalArgumentException("numComputedTokens " + n);
        numComputedTokens = n;
    }

    void appendOutput(int token) {
        if (numOutputTokens == outputIds.length) outputIds = Arrays.copyOf(outputIds, outputIds.length * 2);
        outputIds[numOutputTokens++] = token;
    }

    void setStatus(SequenceStatus s) { status = s; }

    void setNumCachedPromptTokens(int n) { numCachedPromptTokens = n; }

    void preempted() {
        numComputedTokens = 0;
        status = SequenceStatus.PREEMPTED;
        numPreemptions++;
    }

    void finished(FinishReason reason) {
        status = SequenceStatus.FINISHED;
        finishReason = reason;
    }
}
