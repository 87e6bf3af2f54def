package io.paddock.chat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Rewrites tool traffic as the plain system/user/assistant turns every built-in format renders: the shared walk
 * behind {@link ToolCallFormat#lower}; each format supplies its texts.
 */
final class Lowering {
    private Lowering() {}

    /**
     * @param systemBlock  appended to the system message (one is created first when there is none); null: none
     * @param lastUserWrap rewrites the last user message (Airoboros puts the functions there); null: unchanged
     * @param callsText    an assistant message with tool calls as the text the model would have written
     * @param resultText   a tool result (the function's name where known, else null; the content) as user text
     */
    static List<ChatMessage> lower(List<ChatMessage> messages, String systemBlock, UnaryOperator<String> lastUserWrap,
            Function<ChatMessage, String> callsText, BiFunction<String, String, String> resultText) {
        if (messages == null || messages.isEmpty()) return messages;
        boolean traffic = messages.stream().anyMatch(ChatMessage::isToolTraffic);
        if (!traffic && systemBlock == null && lastUserWrap == null) return messages;
        int lastUser = -1;
        for (int i = 0; i < messages.size(); i++) if (messages.get(i).role().equals(ChatMessage.USER)) lastUser = i;
        List<ChatMessage> out = new ArrayList<>();
        int start = 0;
        if (systemBlock != null) {
            ChatMessage first = messages.getFirst();
            if (first.role().equals(ChatMessage.SYSTEM)) {
                out.add(ChatMessage.system(first.text().isEmpty() ? systemBlock : first.text() + "\n\n" + systemBlock));
                start = 1;
            } else {
                out.add(ChatMessage.system(systemBlock));
            }
        }
        Map<String, String> namesById = new HashMap<>();
        boolean lastIsResults = false; // the last turn in out is a user turn holding tool results
        for (int i = start; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m.role().equals(ChatMessage.TOOL)) {
                String name = m.name() != null ? m.name() : namesById.get(m.toolCallId());
                String text = resultText.apply(name, m.text());
                if (lastIsUser(out)) mergeLast(out, lastIsResults ? "\n" : "\n\n", text);
                else out.add(ChatMessage.user(text));
                lastIsResults = true;
            } else if (!m.toolCalls().isEmpty()) {
                for (ToolCall c : m.toolCalls()) if (c.id() != null) namesById.put(c.id(), c.name());
                out.add(ChatMessage.assistant(callsText.apply(m)));
                lastIsResults = false;
            } else if (m.role().equals(ChatMessage.USER)) {
                String text = i == lastUser && lastUserWrap != null ? lastUserWrap.apply(m.text()) : m.text();
                if (lastIsResults && lastIsUser(out)) mergeLast(out, "\n\n", text);
                else out.add(ChatMessage.user(text));
                lastIsResults = false;
            } else {
                out.add(m);
                lastIsResults = false;
            }
        }
        return out;
    }

    private static boolean lastIsUser(List<ChatMessage> out) {
        return !out.isEmpty() && out.getLast().role().equals(ChatMessage.USER);
    }

    private static void mergeLast(List<ChatMessage> out, String joiner, String text) {
        ChatMessage last = out.removeLast();
        out.add(ChatMessage.user(last.text() + joiner + text));
    }
}
