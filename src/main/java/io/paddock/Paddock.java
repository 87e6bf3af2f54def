package io.paddock;

import io.paddock.bench.MatVecBench;
import io.paddock.bench.ModelBench;
import io.paddock.cli.CliArgs;
import io.paddock.cli.GenerateCommand;
import io.paddock.cli.TokenizeCommand;
import io.paddock.format.ModelLoadException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The command line: {@code serve} starts the HTTP server; {@code generate}, {@code tokenize} and {@code bench}
 * run the engine directly, without Spring, and print results on stdout and everything else on stderr.
 */
public final class Paddock {
    private static final String USAGE = """
            usage: paddock <command> [options]
              serve     [--model DIR] [--port N] [--runtime auto|cpu|cuda]
                                                           start the OpenAI-compatible server (demo model if no --model)
              generate  --model DIR --prompt TEXT --max-tokens N [--temperature T] [--top-p P] [--top-k K]
                        [--min-p P] [--seed S] [--repetition-penalty R] [--stop TEXT] [--threads N]
              tokenize  --model DIR TEXT                   print the token ids (with BOS) as a JSON array
              synth     --shape llama-7b --bits 4 --group-size 128 [--act-order] [--layers N] [--dtype f16] --out DIR
                                                           write a synthetic GPTQ (or fp16) checkpoint for benchmarks
            legacy GPTQ files without quantize_config.json: add --gptq-bits B --gptq-group-size G [--gptq-act-order]
              bench     --model DIR [--concurrency 1,4,16] [--tokens N] [--json]
                                                           decode tokens/s vs the bandwidth ceiling measured in the same run
              bench     matvec [--threads N] [--seconds S] matrix-vector kernel vs measured read bandwidth
              bench     gptq-matvec [--threads N]          fused GPTQ kernels on LLaMA-7B layer shapes vs bandwidth
              bench     streaming --model DIR [--concurrency 1,16]  streaming clients' tokens/s vs the engine's
            """;

    private Paddock() {}

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(USAGE);
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (!args[0].equals("serve") && System.getProperty("logback.configurationFile") == null) {
            // Before the first logger exists: the tools print results on stdout, so logs go to stderr.
            System.setProperty("logback.configurationFile", "paddock-cli-logback.xml");
        }
        int code;
        try {
            code = switch (args[0]) {
                case "serve" -> serve(rest);
                case "generate" -> GenerateCommand.run(rest, out, err);
                case "tokenize" -> TokenizeCommand.run(rest, out);
                case "synth" -> io.paddock.bench.SyntheticCheckpoint.run(rest, out);
                case "bench" -> bench(rest, out, err);
                default -> throw new CliArgs.UsageException("unknown command '" + args[0] + "'\n" + USAGE);
            };
        } catch (CliArgs.UsageException e) {
            err.println("paddock: " + e.getMessage());
            code = 2;
        } catch (ModelLoadException | io.paddock.tokenizer.TokenizerLoadException e) {
            err.println("paddock: cannot load the model: " + e.getMessage());
            code = 1;
        } catch (RuntimeException e) {
            err.println("paddock: " + args[0] + " failed: " + e.getMessage());
            if (System.getenv("PADDOCK_DEBUG") != null) e.printStackTrace(err);
            code = 1;
        }
        if (code >= 0) System.exit(code);
    }

    /** Starts the server; a failed start was already explained by Spring's failure analysis, so no trace. */
    private static int serve(String[] args) {
        try {
            PaddockApplication.start(args);
            return -1;
        } catch (CliArgs.UsageException e) {
            throw e;
        } catch (RuntimeException e) {
            return 1;
        }
    }

    private static int bench(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) throw new CliArgs.UsageException("bench needs --model DIR, or a kernel benchmark: matvec");
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "matvec" -> MatVecBench.run(rest, out);
            case "gptq-matvec" -> io.paddock.bench.GptqMatVecBench.run(rest, out);
            case "streaming" -> StreamingBench.run(rest, out);
            default -> {
                if (!args[0].startsWith("--")) {
                    throw new CliArgs.UsageException("unknown benchmark '" + args[0] + "' (known: matvec, gptq-matvec, streaming, --model DIR)");
                }
                yield ModelBench.run(args, out, err);
            }
        };
    }
}
