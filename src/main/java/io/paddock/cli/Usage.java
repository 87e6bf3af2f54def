package io.paddock.cli;

import java.util.Map;

/** The usage text: all commands ({@code paddock --help}), or one ({@code paddock <command> --help}). */
public final class Usage {
    private static final String SERVE = """
              serve     [--model DIR|ORG/NAME[:REVISION]] [--port N] [--runtime auto|cpu|cuda]
                        [--lora NAME=DIR]...               start the OpenAI-compatible server (demo model if no --model);
                                                           --lora serves a PEFT adapter on the first model as NAME
            """;
    private static final String PULL = """
              pull      ORG/NAME[:REVISION] [--include GLOB]... [--dir DIR]
                                                           download a model from the Hugging Face hub into its cache
                                                           (default --include *.json *.safetensors tokenizer.model);
                                                           prints the snapshot directory, or DIR with the files in it
            """;
    private static final String HUB = """
            --model ORG/NAME[:REVISION] (not an existing directory) is a hub model, from the cache or pulled;
            HF_TOKEN, HF_ENDPOINT, HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE=1 as in huggingface_hub (docs/models.md)
            """;
    private static final String GENERATE = """
              generate  --model DIR|ORG/NAME[:REVISION] --prompt TEXT --max-tokens N [--temperature T] [--top-p P] [--top-k K]
                        [--min-p P] [--seed S] [--repetition-penalty R] [--stop TEXT] [--threads N]
            """;
    private static final String TOKENIZE = """
              tokenize  --model DIR TEXT                   print the token ids (with BOS) as a JSON array
            """;
    private static final String SYNTH = """
              synth     --shape llama-7b --bits 4 --group-size 128 [--act-order] [--layers N] [--dtype f16] --out DIR
                                                           write a synthetic GPTQ (or fp16) checkpoint for benchmarks
            """;
    private static final String LORA = """
              lora      merge --base DIR --adapter DIR --out DIR [--dtype f16|bf16|f32]
                                                           merge a PEFT LoRA adapter into its base model (dense or
                                                           GPTQ) and write a dense model directory (docs/adapters.md)
            """;
    private static final String GPTQ = """
            legacy GPTQ files without quantize_config.json: add --gptq-bits B --gptq-group-size G [--gptq-act-order]
            """;
    private static final String BENCH = """
              bench     --model DIR [--concurrency 1,4,16] [--tokens N] [--json]
                                                           decode tokens/s vs the bandwidth ceiling measured in the same run
                        [--prompt-tokens N] [--kv-cache-dtype auto|f16|bf16|f32] [--kv-cache-memory-mb M]
                        [--grammar json_object|SCHEMA.json]  every request constrained (structured output)
              bench     matvec [--threads N] [--seconds S] matrix-vector kernel vs measured read bandwidth
                        [--rows R --cols C] [--dtypes F32,F16,BF16] [--batch B] [--bandwidth-mb M] [--misalign BYTES]
              bench     gptq-matvec [--threads N]          fused GPTQ kernels on LLaMA-7B layer shapes vs bandwidth
                        [--seconds S] [--batches 1,4,16] [--variants 4g128act,4g128,3g128act,2g128,8g128]
                        [--shapes 11008x4096,4096x11008,4096x4096] [--bandwidth-mb M]
              bench     streaming --model DIR [--concurrency 1,16]  streaming clients' tokens/s vs the engine's
              bench     load (--url URL | --model DIR) [--requests 200] [--disconnect 0.2] [--burst 300]
                        [--max-tokens 64] [--seed S] [--api-key KEY]
                                                           overload a server: streams, disconnects, a burst; checks
                                                           it refuses by design (429/503), no 5xx, KV freed after
              bench     lora --model DIR [--adapters 4] [--rank 64] [--concurrency 16]
                                                           decode tokens/s: bare base vs 1 vs N LoRA adapters per batch
            """;

    /** {@code paddock bench lora --help}, and the tail of its usage errors. */
    static final String BENCH_LORA = """
            usage: paddock bench lora --model DIR [--threads N] [--adapters 4] [--rank 64] [--concurrency 16]
                                      [--tokens 32] [--prompt-tokens 16] [--seconds 30]
              decode tokens/s of --concurrency streams on the bare base, on one adapter, and spread over --adapters
              different adapters in every step; seeded random adapters of --rank on all seven linears per layer.
              Rounds of the three modes alternate; medians are reported with the ratio to the base.
            """;

    /** {@code paddock bench matvec --help}, and the tail of its usage errors. */
    static final String BENCH_MATVEC = """
            usage: paddock bench matvec [--threads N] [--rows R --cols C] [--seconds S] [--dtypes F32,F16,BF16]
                                        [--batch B] [--bandwidth-mb M] [--misalign BYTES]
              batch-1 (or --batch B) matvec throughput against read bandwidth measured in the same run.
              defaults: all cores, shapes 11008x4096 and 4096x11008 (out x in), 2 s per point, F32,F16,BF16,
              batch 1, a 512 MB bandwidth buffer, misalign 0 (0..63 bytes past a 64-byte boundary)
            """;

    /** {@code paddock bench gptq-matvec --help}, and the tail of its usage errors. */
    static final String BENCH_GPTQ_MATVEC = """
            usage: paddock bench gptq-matvec [--threads N] [--seconds S] [--batches 1,4,16]
                                             [--variants 4g128act,4g128,...] [--shapes 11008x4096,...] [--bandwidth-mb M]
                                             [--int8 off,native]
              fused GPTQ matvec on LLaMA-7B layer shapes against read bandwidth measured in the same run.
              a variant is bits (2, 3, 4, 8), "g" and a group size (or -1), optional "act": e.g. 4g128act, 8g-1.
              defaults: all cores, 1 s per point, batches 1,4,16, variants 4g128act,4g128,3g128act,2g128,8g128,
              shapes 11008x4096,4096x11008,4096x4096 (out x in), a 512 MB bandwidth buffer.
              --int8 times each listed mode of the int8 path (auto, native, java, off) side by side, interleaved;
              default the start-up mode (-Dpaddock.cpu.int8, auto)
            """;

    /** Every command, as {@code paddock --help} prints it. */
    public static final String ALL = "usage: paddock <command> [options]\n" + SERVE + GENERATE + PULL + TOKENIZE + SYNTH + LORA
            + GPTQ + HUB + BENCH;

    private static final Map<String, String> BY_COMMAND = Map.of("serve", SERVE + GPTQ + HUB, "generate", GENERATE + GPTQ + HUB,
            "pull", PULL + HUB,
            "tokenize", TOKENIZE, "synth", SYNTH, "lora", LORA, "bench", BENCH + GPTQ);

    private Usage() {}

    /** The usage of one command, or null for an unknown one. */
    public static String of(String command) {
        String u = BY_COMMAND.get(command);
        return u == null ? null : "usage: paddock " + command + " [options]\n" + u;
    }

    /** True where the arguments ask for help ({@code --help} or {@code -h}) rather than a run. */
    public static boolean asksForHelp(String[] args) {
        for (String a : args) if (a.equals("--help") || a.equals("-h")) return true;
        return false;
    }
}
