package io.paddock.config;

import io.paddock.engine.EngineConfig;
import io.paddock.runtime.KvCacheDtype;
import io.paddock.engine.LoraConfig;
import io.paddock.model.GptqOverrides;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code paddock.*} settings.
 *
 * @param model  what to serve and with how many threads
 * @param engine admission limits and request defaults
 * @param runtime      backend: auto (CUDA where a usable device and driver exist, else the CPU), cpu or cuda
 * @param chatTemplate per model id, the chat template to use instead of the detected one: a built-in name
 *                     (guanaco, vicuna-v1.1, airoboros, alpaca, llama-2-chat, ...) or "jinja:" + template text
 * @param drainTimeout on shutdown (SIGTERM), how long queued and running requests may take to finish while new
 *                     ones get 503; what is left then ends with an error naming the shutdown
 * @param lora         LoRA adapters: served at start-up, loaded and unloaded at run time, and the engine's limits
 */
@ConfigurationProperties("paddock")
public record PaddockProperties(@DefaultValue Model model, @DefaultValue Engine engine,
        Map<String, String> chatTemplate, @DefaultValue("auto") String runtime,
        @DefaultValue("30s") Duration drainTimeout, @DefaultValue Lora lora) {

    /**
     * {@code paddock.lora.*} (vLLM's {@code --max-loras}, {@code --max-lora-rank}, {@code --max-cpu-loras},
     * {@code --lora-modules} and {@code VLLM_ALLOW_RUNTIME_LORA_UPDATING}).
     *
     * @param maxLoras       adapter slots per engine: most distinct adapters in one step; 0 turns adapters off
     * @param maxRank        highest adapter rank accepted
     * @param maxCpuLoras    adapters whose weights stay read in memory (least recently used ones are read again from
     *                       their directory when next needed); at least max-loras
     * @param adapters       {@code NAME=DIR} entries served on the default (first) model from start-up
     * @param runtimeUpdates whether {@code POST /v1/load_lora_adapter} and {@code /v1/unload_lora_adapter} exist
     * @param unloadTimeout  how long an unload waits for the adapter's requests in flight before answering 409 (the
     *                       adapter still goes once they finish)
     */
    public record Lora(@DefaultValue("" + LoraConfig.DEFAULT_MAX_LORAS) int maxLoras,
            @DefaultValue("" + LoraConfig.DEFAULT_MAX_LORA_RANK) int maxRank,
            @DefaultValue("" + LoraConfig.DEFAULT_MAX_CPU_LORAS) int maxCpuLoras,
            List<String> adapters, @DefaultValue("true") boolean runtimeUpdates,
            @DefaultValue("60s") Duration unloadTimeout) {

        public Lora {
            adapters = adapters == null ? List.of() : List.copyOf(adapters);
        }

        /** The engine's adapter limits. */
        public LoraConfig loraConfig() {
            return new LoraConfig(maxLoras, maxRank, Math.max(maxCpuLoras, maxLoras));
        }

        /** One {@code NAME=DIR} entry of {@link #adapters}. */
        public record Entry(String name, String dir) {}

        /** The configured adapters, parsed; throws naming the entry that is not {@code NAME=DIR}. */
        public List<Entry> entries() {
            return adapters.stream().map(Lora::entry).toList();
        }

        static Entry entry(String spec) {
            int eq = spec.indexOf('=');
            String name = eq < 0 ? "" : spec.substring(0, eq).trim();
            String dir = eq < 0 ? "" : spec.substring(eq + 1).trim();
            if (name.isEmpty() || dir.isEmpty()) {
                throw new IllegalArgumentException("paddock.lora.adapters: '" + spec + "' is not NAME=DIR");
            }
            return new Entry(name, dir);
        }
    }

    /**
     * @param path    Hugging Face model directories (comma-separated); each is served under its directory name, the
     *                first is the default; empty serves the embedded demo model
     * @param threads compute threads for the CPU runtime; 0 means one per available core
     * @param gptq    GPTQ settings for legacy checkpoints without quantize_config.json (override the files' own)
     * @param preparedCache where the CPU runtime caches GPTQ layers repacked for its kernels (a directory, or
     *                {@code off}); unset: {@code $PADDOCK_CACHE/prepared} (docs/model-loading.md)
     */
    public record Model(List<String> path, @DefaultValue("0") int threads, @DefaultValue Gptq gptq,
            String preparedCache) {
        public int effectiveThreads() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }
    }

    /**
     * @param bits      2, 3, 4 or 8
     * @param groupSize -1 (none), 32, 64 or 128
     * @param actOrder  whether the checkpoint was quantized with act-order (desc_act)
     */
    public record Gptq(Integer bits, Integer groupSize, Boolean actOrder) {
        public GptqOverrides overrides() {
            return new GptqOverrides(bits, groupSize, actOrder);
        }
    }

    /**
     * @param maxQueued           requests allowed to wait for admission before new ones are refused (503)
     * @param defaultMaxTokens    completion length when a request gives no max_tokens (OpenAI's default is 16)
     * @param blockSize           tokens per KV-cache block
     * @param kvCacheMemory       memory for the KV-cache pool; 0 sizes it automatically (max-num-seqs full contexts,
     *                            at most half the memory available after the weights, at least one context)
     * @param kvCacheDtype        KV-cache element type: auto (f16), f16, bf16 (CPU only) or f32
     * @param maxNumSeqs          most sequences decoding together in one batch
     * @param maxNumBatchedTokens per-step token budget: longer prompts are prefilled in chunks of this size
     * @param prefixCaching       reuse the KV cache of identical prompt prefixes across requests
     * @param maxQueuedPromptTokens prompt tokens allowed to wait before new requests are refused (503)
     * @param maxQueueWait        how long a request may wait to start before it is dropped with a 503
     *                            <p>The engine settings' defaults are {@link EngineConfig}'s {@code DEFAULT_*}
     *                            constants (the one place they are defined).
     */
    public record Engine(@DefaultValue("" + EngineConfig.DEFAULT_MAX_QUEUED) int maxQueued,
            @DefaultValue("16") int defaultMaxTokens,
            @DefaultValue("" + EngineConfig.DEFAULT_BLOCK_SIZE) int blockSize,
            @DefaultValue("" + EngineConfig.DEFAULT_KV_CACHE_BYTES) DataSize kvCacheMemory,
            @DefaultValue("" + EngineConfig.DEFAULT_MAX_NUM_SEQS) int maxNumSeqs,
            @DefaultValue("" + EngineConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS) int maxNumBatchedTokens,
            @DefaultValue("" + EngineConfig.DEFAULT_PREFIX_CACHING) boolean prefixCaching,
            @DefaultValue("" + EngineConfig.DEFAULT_MAX_QUEUED_PROMPT_TOKENS) long maxQueuedPromptTokens,
            @DefaultValue(EngineConfig.DEFAULT_MAX_QUEUE_WAIT_SECONDS + "s") Duration maxQueueWait,
            @DefaultValue(EngineConfig.DEFAULT_KV_CACHE_DTYPE) String kvCacheDtype) {

        /** The engine settings these properties give (defaults: {@link EngineConfig}'s). */
        public EngineConfig engineConfig() {
            return new EngineConfig(blockSize, kvCacheMemory.toBytes(), maxNumSeqs, maxNumBatchedTokens,
                    prefixCaching, maxQueued, maxQueuedPromptTokens, maxQueueWait, KvCacheDtype.parse(kvCacheDtype));
        }
    }
}
