package io.paddock.cli;

import io.paddock.tokenizer.Tokenizer;
import io.paddock.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/** {@code paddock tokenize --model DIR TEXT}: the token ids, BOS first, as one JSON array. */
public final class TokenizeCommand {
    private TokenizeCommand() {}

    public static int run(String[] argv, PrintStream out) {
        CliArgs a = new CliArgs(argv, Set.of("model"), Set.of("no-bos"));
        String dir = a.string("model", null);
        if (dir == null) throw new CliArgs.UsageException("tokenize needs --model DIR (a directory with tokenizer.model or tokenizer.json)");
        if (a.positional().size() != 1) throw new CliArgs.UsageException("tokenize takes exactly one TEXT argument (quote it)");
        Tokenizer t = Tokenizers.load(Path.of(dir));
        int[] ids = t.encode(a.positional().getFirst(), !a.flag("no-bos"), false);
        out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]")));
        return 0;
    }
}
