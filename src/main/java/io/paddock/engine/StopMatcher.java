package io.paddock.engine;

import java.util.List;

/**
 * Watches generated text for stop strings. Text is released only once it can no longer be the start of a stop
 * string, so a stop string that spans several tokens never leaks to the client.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder(); // all accepted text, stop string excluded
    private int released;                                    // chars of text already handed out
    private boolean stopped;

    StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds newly decoded text; returns the text that is now safe to emit. */
    String append(String piece) {
        if (stopped) return "";
        int searchFrom = Math.max(0, text.length() - maxStopLength() + 1);
        text.append(piece);
        int cut = -1;
        for (String s : stops) {
            int at = text.indexOf(s, searchFrom);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
            text.setLength(cut);
            stopped = true;
            return release(text.length());
        }
        return release(text.length() - heldBack());
    }

    /** End of generation: everything not yet released goes out. */
    String finish(String tail) {
        String s = append(tail);
        return stopped ? s : s + release(text.length());
    }

    boolean stopped() { return stopped; }

    String text() { return text.toString(); }

    private String release(int upTo) {
        if (upTo <= released) return "";
        String s = text.substring(released, upTo);
        released = upTo;
        return s;
    }

    /** Length of the longest suffix of the text that is a proper prefix of some stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length() - released); len > best; len--) {
                if (endsWithPrefix(s, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    private boolean endsWithPrefix(String s, int len) {
        int base = text.length() - len;
        for (int i = 0; i < len; i++) if (text.charAt(base + i) != s.charAt(i)) return false;
        return true;
    }

    private int maxStopLength() {
        int m = 1;
        for (String s : stops) m = Math.max(m, s.length());
        return m;
    }
}
