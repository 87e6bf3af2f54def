package io.paddock.chat;

import java.util.List;

/**
 * How a model is told about functions and how its calls look: the tools block of the prompt, past calls and results
 * written back as text for formats that have no place for them, and the {@link CallSyntax} a call is generated in
 * (from which the API builds the call's grammar and {@link ToolCallParser} reads calls back out of the output).
 *
 * <p>{@link #DEFAULT} ({@code <tool_call>} blocks, tools listed as JSON in the system prompt) serves every built-in
 * format but Airoboros, which has its own ({@link #AIROBOROS}, from its model card). A Jinja {@code chat_template}
 * that handles {@code tools} itself gets {@link #JINJA}: the template renders tools, calls and results; calls are
 * read in the default syntax. See docs/tool-calling.md.
 */
public sealed interface ToolCallFormat permits TaggedToolCallFormat, AiroborosToolCallFormat {

    /** {@code <tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>}, tools in the system prompt. */
    ToolCallFormat DEFAULT = TaggedToolCallFormat.RENDERED;
    /** Airoboros' "Available functions:" list and {@code {"function": ..., "params": ...}} answers. */
    ToolCallFormat AIROBOROS = new AiroborosToolCallFormat();
    /** A Jinja template renders the tools itself; calls are parsed in the default syntax. */
    ToolCallFormat JINJA = TaggedToolCallFormat.NATIVE;

    /** {@code default}, {@code airoboros} or {@code jinja}. */
    String name();

    /** The shape of one call in the output. */
    CallSyntax syntax();

    /**
     * The conversation as plain system/user/assistant messages: the tools (when any) added to the prompt, assistant
     * tool calls written as the format writes a call, tool results as user turns (merged with a user message next
     * to them, since no built-in format has two user turns in a row). A conversation without tools and tool traffic
     * comes back unchanged; {@link #JINJA} changes nothing (the template sees it all).
     */
    List<ChatMessage> lower(List<ChatMessage> messages, List<ToolDefinition> tools);
}
