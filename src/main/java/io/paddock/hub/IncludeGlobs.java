package io.paddock.hub;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which files of a revision to download: {@code fnmatch} globs as {@code huggingface_hub}'s {@code allow_patterns}
 * ({@code *} and {@code ?} also match {@code /}, so {@code *.json} takes {@code sub/x.json} too; {@code [abc]} classes).
 */
public record IncludeGlobs(List<String> globs) {
    /**
     * What paddock reads from a model: the configs and tokenizer files ({@code *.json}), the weights
     * ({@code *.safetensors}) and the SentencePiece model. Pickled weights ({@code *.bin}, {@code *.pt}) are left.
     */
    public static final IncludeGlobs DEFAULT = new IncludeGlobs(List.of("*.json", "*.safetensors", "tokenizer.model"));

    public IncludeGlobs {
        globs = List.copyOf(globs);
        if (globs.isEmpty()) throw new IllegalArgumentException("no globs");
    }

    public static IncludeGlobs of(List<String> globs) { return globs.isEmpty() ? DEFAULT : new IncludeGlobs(globs); }

    public boolean matches(String path) {
        for (String g : globs) if (toRegex(g).matcher(path).matches()) return true;
        return false;
    }

    static Pattern toRegex(String glob) {
        StringBuilder r = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> r.append(".*");
                case '?' -> r.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 1);
                    if (end < 0) {
                        r.append("\\[");
                    } else {
                        String body = glob.substring(i + 1, end);
                        if (body.startsWith("!")) body = "^" + body.substring(1);
                        r.append('[').append(body.replace("\\", "\\\\")).append(']');
                        i = end;
                    }
                }
                default -> r.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(r.toString(), Pattern.DOTALL);
    }

    @Override
    public String toString() { return String.join(" ", globs); }
}
