package io.paddock.api;

import io.paddock.chat.ToolDefinition;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A request's validated tool fields: the functions (from {@code tools}, or the legacy {@code functions}), what
 * {@code tool_choice} / {@code function_call} asks, and whether several calls may come in one answer.
 *
 * @param tools    the functions, in request order (empty: none)
 * @param choice   what the model may or must do
 * @param forced   the one function it must call ({@link Choice#NAMED}); else null
 * @param parallel several calls per answer ({@code parallel_tool_calls}, default true; always false for legacy)
 * @param legacy   the request used {@code functions}: the answer is a {@code function_call}
 */
record ToolUse(List<ToolDefinition> tools, Choice choice, String forced, boolean parallel, boolean legacy) {
    static final ToolUse NONE = new ToolUse(List.of(), Choice.NONE, null, true, false);

    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    ToolUse {
        tools = List.copyOf(tools);
    }

    /** Whether the output is read (and constrained) as possible calls: tools given and the choice is not none. */
    boolean active() {
        return !tools.isEmpty() && choice != Choice.NONE;
    }

    /** The functions a call may name. */
    List<ToolDefinition> callable() {
        return choice == Choice.NAMED ? tools.stream().filter(t -> t.name().equals(forced)).toList() : tools;
    }

    Set<String> callableNames() {
        return callable().stream().map(ToolDefinition::name).collect(Collectors.toUnmodifiableSet());
    }

    /** The request field that holds tool {@code i}'s parameters, for error messages. */
    String parametersParam(int i) {
        return legacy ? "functions[" + i + "].parameters" : "tools[" + i + "].function.parameters";
    }
}
