package io.paddock.cli;

import java.util.Map;

/** The usage text: all commands ({@code paddock --help}), or one ({@code paddock <command> --help}). */
public final class Usage {
    private static final String SERVE = """
              serve     [--model DIR] [--port N] [--runtime auto|cpu|cuda]
                                                           start the OpenAI-compatible server (demo model if no --model)
            """;
    private static final String GENERATE = """
              generate  --model DIR --prompt TEXT --max-tokens N [--temperature T] [--top-p P] [--top-k K]
                        [--min-p P] [--seed S] [--repetition-penalty R] [--stop TEXT] [--threads N]
            """;
    private static final String TOKENIZE = """
              tokenize  --model DIR TEXT                   print the token ids (with BOS) as a JSON array
            """;
    private static final String SYNTH = """
              synth     --shape llama-7b --bits 4 --group-size 128 [--act-order] [--layers N] [--dtype f16] --out DIR
                                                           write a synthetic GPTQ (or fp16) checkpoint for benchmarks
            """;
    private static final String GPTQ = """
            legacy GPTQ files without quantize_config.json: add --gptq-bits B --gptq-group-size G [--gptq-act-order]
            """;
    private static final String BENCH = """
              bench     --model DIR [--concurrency 1,4,16] [--tokens N] [--json]
                                                           decode tokens/s vs the bandwidth ceiling measured in the same run
              bench     matvec [--threads N] [--seconds S] matrix-vector kernel vs measured read bandwidth
              bench     gptq-matvec [--threads N]          fused GPTQ kernels on LLaMA-7B layer shapes vs bandwidth
              bench     streaming --model DIR [--concurrency 1,16]  streaming clients' tokens/s vs the engine's
            """;

    /** Every command, as {@code paddock --help} prints it. */
    public static final String ALL = "usage: paddock <command> [options]\n" + SERVE + GENERATE + TOKENIZE + SYNTH + GPTQ
            + BENCH;

    private static final Map<String, String> BY_COMMAND = Map.of("serve", SERVE + GPTQ, "generate", GENERATE + GPTQ,
            "tokenize", TOKENIZE, "synth", SYNTH, "bench", BENCH + GPTQ);

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
