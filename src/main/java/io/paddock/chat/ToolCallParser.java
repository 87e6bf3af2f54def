package io.paddock.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads tool calls out of a model's output as it arrives, for one choice: {@link #feed} each piece of text, then
 * {@link #finish}. It answers with {@link Piece}s: free text, the start of a call (its id and function name) and
 * fragments of the call's arguments (concatenated: the arguments JSON exactly as generated).
 *
 * <p>Text that may still be the start of a call is held back until it is known, so a free-text answer streams as
 * content and a call never leaks its markers as content. Output that does not follow the {@link CallSyntax} (possible
 * only without a grammar) is given back as text from where it stopped following it. Whitespace is free wherever JSON
 * allows it and around the markers; keys must come in the format's order (name, then arguments).
 */
public final class ToolCallParser {

    /** What the output turned out to be, piece by piece. */
    public sealed interface Piece {}

    /** Free text (the message's content). */
    public record Text(String text) implements Piece {}

    /** A call begins: {@code index} counts calls from 0 within the choice. */
    public record CallStart(int index, String id, String name) implements Piece {}

    /** More of call {@code index}'s arguments text. */
    public record Arguments(int index, String fragment) implements Piece {}

    private enum Mode { BETWEEN, NAME, BEFORE_ARGUMENTS, ARGUMENTS, CLOSER, TEXT }

    private final CallSyntax syntax;
    private final Set<String> names;
    private final Supplier<String> ids;
    private final StringBuilder buf = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private Mode mode = Mode.BETWEEN;
    private int pos;          // buf[0, pos) is consumed
    private int attemptStart; // where the call being read began (given back as text if it turns out not to be one)
    private String name;
    private String id;
    private boolean started;  // the current call's CallStart was sent
    private final StringBuilder arguments = new StringBuilder();
    private final JsonValueScanner scanner = new JsonValueScanner();
    private boolean broken;

    /**
     * @param names the functions that may be called (a call of any other is text)
     * @param ids   a new call id per call ({@code call_} and 24 random alphanumerics in the API)
     */
    public ToolCallParser(CallSyntax syntax, Set<String> names, Supplier<String> ids) {
        this.syntax = syntax;
        this.names = Set.copyOf(names);
        this.ids = ids;
    }

    public List<Piece> feed(String text) {
        buf.append(text);
        List<Piece> out = new ArrayList<>();
        advance(false, out);
        return out;
    }

    /** The end of the output: everything still held back is settled. */
    public List<Piece> finish() {
        List<Piece> out = new ArrayList<>();
        advance(true, out);
        return out;
    }

    /** The calls read completely so far, in order. */
    public List<ToolCall> calls() {
        return List.copyOf(calls);
    }

    /** Whether any call has begun (its {@link CallStart} was sent). */
    public boolean sawCall() {
        return !calls.isEmpty() || started;
    }

    /** Whether a call was begun and not completed (cut off, or it stopped following the syntax). */
    public boolean incomplete() {
        return started || broken;
    }

    private void advance(boolean end, List<Piece> out) {
        while (true) {
            switch (mode) {
                case BETWEEN -> {
                    attemptStart = pos;
                    int m = match(syntax.openerPattern());
                    if (m >= 0) {
                        pos = m;
                        mode = Mode.NAME;
                    } else if (m == MORE && !end) {
                        return;
                    } else if (m == MORE && !calls.isEmpty() && buf.substring(pos).isBlank()) {
                        pos = buf.length(); // trailing whitespace after the calls
                        return;
                    } else {
                        mode = Mode.TEXT;
                    }
                }
                case NAME -> {
                    int quote = buf.indexOf("\"", pos);
                    if (quote < 0) {
                        if (end) { giveBack(); continue; }
                        return;
                    }
                    name = buf.substring(pos, quote);
                    if (!names.contains(name)) { giveBack(); continue; }
                    pos = quote;
                    mode = Mode.BEFORE_ARGUMENTS;
                }
                case BEFORE_ARGUMENTS -> {
                    int m = match(syntax.beforeArgumentsPattern());
                    if (m == MORE && !end) return;
                    if (m < 0) { giveBack(); continue; }
                    pos = m;
                    started = true;
                    id = ids.get();
                    out.add(new CallStart(calls.size(), id, name));
                    arguments.setLength(0);
                    scanner.reset();
                    mode = Mode.ARGUMENTS;
                }
                case ARGUMENTS -> {
                    int done = scanner.scan(buf, pos);
                    if (scanner.failed()) { giveBack(); continue; }
                    int upTo = done >= 0 ? done : buf.length();
                    String fragment = buf.substring(pos, upTo);
                    if (arguments.isEmpty()) fragment = fragment.stripLeading(); // whitespace before the object
                    if (!fragment.isEmpty()) {
                        arguments.append(fragment);
                        out.add(new Arguments(calls.size(), fragment));
                    }
                    pos = upTo;
                    if (done < 0) {
                        if (end) { giveBack(); continue; }
                        return;
                    }
                    mode = Mode.CLOSER;
                }
                case CLOSER -> {
                    int m = match(syntax.closerPattern());
                    if (m == MORE && !end) return;
                    if (m < 0) { giveBack(); continue; }
                    pos = m;
                    calls.add(new ToolCall(id, name, arguments.toString()));
                    started = false;
                    mode = Mode.BETWEEN;
                }
                case TEXT -> {
                    if (pos < buf.length()) out.add(new Text(buf.substring(pos)));
                    pos = buf.length();
                    return;
                }
            }
        }
    }

    /**
     * The output stopped following the syntax: from where the attempt began (a call already announced stays
     * announced, and the text goes on from where it broke off) it is text.
     */
    private void giveBack() {
        if (started) broken = true;
        else pos = attemptStart;
        mode = Mode.TEXT;
    }

    private static final int MORE = -1;
    private static final int FAIL = -2;

    /** Matches a pattern at {@code pos} (a space: optional whitespace): the end of the match, {@link #MORE} or {@link #FAIL}. */
    private int match(String pattern) {
        int i = pos;
        for (int k = 0; k < pattern.length(); k++) {
            char c = pattern.charAt(k);
            if (c == ' ') {
                while (i < buf.length() && Character.isWhitespace(buf.charAt(i))) i++;
                if (i == buf.length() && k < pattern.length() - 1) return MORE;
                continue;
            }
            if (i == buf.length()) return MORE;
            if (buf.charAt(i) != c) return FAIL;
            i++;
        }
        return i;
    }

    /** Finds where a JSON object ends, across pieces of text: strings (with escapes) and nesting tracked. */
    static final class JsonValueScanner {
        private int depth;
        private boolean inString;
        private boolean escape;
        private boolean begun;
        private boolean failed;

        void reset() {
            depth = 0;
            inString = false;
            escape = false;
            begun = false;
            failed = false;
        }

        boolean failed() {
            return failed;
        }

        /** Scans {@code s} from {@code from}: the index just past the object's end, or -1 when it goes on. */
        int scan(CharSequence s, int from) {
            for (int i = from; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!begun) {
                    if (Character.isWhitespace(c)) continue;
                    if (c != '{') { failed = true; return -1; }
                    begun = true;
                    depth = 1;
                    continue;
                }
                if (inString) {
                    if (escape) escape = false;
                    else if (c == '\\') escape = true;
                    else if (c == '"') inString = false;
                    continue;
                }
                switch (c) {
                    case '"' -> inString = true;
                    case '{', '[' -> depth++;
                    case '}', ']' -> {
                        if (--depth == 0) return i + 1;
                    }
                    default -> {}
                }
            }
            return -1;
        }
    }
}
