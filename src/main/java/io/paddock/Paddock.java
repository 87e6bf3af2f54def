package io.paddock;

import io.paddock.cli.BenchCommand;
import io.paddock.cli.CliArgs;
import io.paddock.cli.GenerateCommand;
import io.paddock.cli.LoraCommand;
import io.paddock.cli.PullCommand;
import io.paddock.cli.SynthCommand;
import io.paddock.cli.TokenizeCommand;
import io.paddock.cli.Usage;
import io.paddock.format.ModelLoadException;
import io.paddock.hub.HubException;
import io.paddock.lora.AdapterLoadException;
import io.paddock.tokenizer.TokenizerLoadException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The command line: {@code serve} starts the HTTP server; {@code pull} downloads a hub model; {@code lora merge} merges an adapter; {@code generate}, {@code tokenize} and {@code bench}
 * run the engine directly, without Spring, and print results on stdout and everything else on stderr.
 */
public final class Paddock {
    private Paddock() {}

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(Usage.ALL);
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Usage.of(args[0]) != null && Usage.asksForHelp(rest)) {
            out.print(Usage.of(args[0]));
            return;
        }
        if (!args[0].equals("serve") && System.getProperty("logback.configurationFile") == null) {
            // Before the first logger exists: the tools print results on stdout, so logs go to stderr.
            System.setProperty("logback.configurationFile", "paddock-cli-logback.xml");
        }
        int code;
        try {
            code = switch (args[0]) {
                case "serve" -> serve(rest);
                case "generate" -> GenerateCommand.run(rest, out, err);
                case "pull" -> PullCommand.run(rest, out, err);
                case "tokenize" -> TokenizeCommand.run(rest, out);
                case "synth" -> SynthCommand.run(rest, out);
                case "lora" -> LoraCommand.run(rest, out);
                case "bench" -> BenchCommand.run(rest, out, err, PaddockApplication::benchServer);
                default -> throw new CliArgs.UsageException("unknown command '" + args[0] + "'\n" + Usage.ALL);
            };
        } catch (CliArgs.UsageException e) {
            err.println("paddock: " + e.getMessage());
            code = 2;
        } catch (HubException e) {
            err.println("paddock: " + e.getMessage());
            if (System.getenv("PADDOCK_DEBUG") != null) e.printStackTrace(err);
            code = 1;
        } catch (AdapterLoadException e) {
            err.println("paddock: cannot load the adapter: " + e.getMessage());
            code = 1;
        } catch (ModelLoadException | TokenizerLoadException e) {
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
}
