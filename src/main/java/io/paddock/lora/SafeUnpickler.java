package io.paddock.lora;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader for the state dicts {@code torch.save} writes, that never executes anything: it knows a fixed list
 * of opcodes and a fixed list of globals ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2} and
 * the float storage types), builds plain Java values from them, and refuses everything else by name.
 *
 * <p>Values: Python str → String, int → Long, float → Double, bool → Boolean, None → null, list → ArrayList,
 * tuple → {@link Tuple}, dict and OrderedDict → LinkedHashMap, a persistent storage id → {@link StorageRef},
 * a rebuilt tensor → {@link TensorRef}.
 */
final class SafeUnpickler {
    /** A Python tuple. */
    record Tuple(List<Object> items) {}

    /** An allowed global, e.g. {@code torch._utils._rebuild_tensor_v2}. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }
    }

    /** A tensor storage in the zip: {@code data/<key>}, {@code numel} elements of {@code dtype}. */
    record StorageRef(String dtype, String key, long numel) {}

    /** A tensor over a storage: {@code offset}, {@code size} and {@code stride} in elements. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** The storage globals and the safetensors names of their element types. */
    static final Map<String, String> STORAGES = Map.of(
            "torch.FloatStorage", "F32", "torch.HalfStorage", "F16", "torch.BFloat16Storage", "BF16");
    private static final String ORDERED_DICT = "collections.OrderedDict";
    private static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
    private static final Set<String> ALLOWED = Set.of(ORDERED_DICT, REBUILD_TENSOR, "torch.FloatStorage",
            "torch.HalfStorage", "torch.BFloat16Storage");

    private static final Object MARK = new Object();

    private final byte[] data;
    private final String source;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private SafeUnpickler(byte[] data, String source) {
        this.data = data;
        this.source = source;
    }

    /** The object {@code data} pickles; {@code source} names the file in errors. */
    static Object load(byte[] data, String source) {
        return new SafeUnpickler(data, source).run();
    }

    private Object run() {
        while (true) {
            int at = pos;
            int op = u8(at, -1);
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8(at, op);
                    if (proto > 5) throw error(at, "pickle protocol " + proto + " is not supported");
                }
                case 0x95 -> bytes(at, op, 8); // FRAME: a length prefix only
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case '(' -> { // MARK
                    marks.add(stack.size());
                    push(MARK);
                }
                case 't' -> push(new Tuple(popMark(at, op))); // TUPLE
                case 0x85 -> push(new Tuple(popN(at, op, 1))); // TUPLE1
                case 0x86 -> push(new Tuple(popN(at, op, 2)));
                case 0x87 -> push(new Tuple(popN(at, op, 3)));
                case 'X' -> push(string(at, op, u32(at, op))); // BINUNICODE
                case 0x8c -> push(string(at, op, u8(at, op))); // SHORT_BINUNICODE
                case 0x8d -> push(string(at, op, u64(at, op))); // BINUNICODE8
                case 'J' -> push((long) (int) le(bytes(at, op, 4))); // BININT
                case 'K' -> push((long) u8(at, op)); // BININT1
                case 'M' -> push(le(bytes(at, op, 2))); // BININT2
                case 0x8a -> push(long1(at, op)); // LONG1
                case 'G' -> { // BINFLOAT, big-endian
                    byte[] b = bytes(at, op, 8);
                    long bits = 0;
                    for (byte x : b) bits = (bits << 8) | (x & 0xFF);
                    push(Double.longBitsToDouble(bits));
                }
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                case 'q' -> memo.put((long) u8(at, op), peek(at, op)); // BINPUT
                case 'r' -> memo.put(u32(at, op), peek(at, op)); // LONG_BINPUT
                case 'h' -> push(memoGet(at, op, u8(at, op))); // BINGET
                case 'j' -> push(memoGet(at, op, u32(at, op))); // LONG_BINGET
                case 0x94 -> memo.put((long) memo.size(), peek(at, op)); // MEMOIZE
                case 's' -> { // SETITEM
                    Object v = pop(at, op), k = pop(at, op);
                    dict(at, op).put(k, v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at, op);
                    if (items.size() % 2 != 0) throw error(at, "SETITEMS with an odd number of items");
                    Map<Object, Object> d = dict(at, op);
                    for (int i = 0; i < items.size(); i += 2) d.put(items.get(i), items.get(i + 1));
                }
                case 'a' -> { // APPEND
                    Object v = pop(at, op);
                    list(at, op).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at, op);
                    list(at, op).addAll(items);
                }
                case 'c' -> push(global(at, line(at, op), line(at, op))); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at, op), module = pop(at, op);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error(at, "STACK_GLOBAL needs two strings");
                    }
                    push(global(at, m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(at, op), callable = pop(at, op);
                    push(reduce(at, callable, args));
                }
                case 'b' -> { // BUILD: only an OrderedDict's (empty) state, which is ignored
                    pop(at, op);
                    if (!(peek(at, op) instanceof LinkedHashMap<?, ?>)) {
                        throw error(at, "opcode BUILD is only allowed on an OrderedDict");
                    }
                }
                case 'Q' -> push(persistent(at, pop(at, op))); // BINPERSID
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) throw error(at, "STOP with " + stack.size() + " values on the stack");
                    return stack.getFirst();
                }
                default -> throw error(at, "opcode " + opName(op) + " is not allowed (a tensor state dict does not need it)");
            }
        }
    }

    private Object global(int at, String module, String name) {
        String q = module + "." + name;
        if (!ALLOWED.contains(q)) {
            throw error(at, "global '" + q + "' is not allowed (only collections.OrderedDict, "
                    + "torch._utils._rebuild_tensor_v2 and the float storage types); refusing to load it");
        }
        return new Global(module, name);
    }

    private Object reduce(int at, Object callable, Object args) {
        if (!(callable instanceof Global g)) throw error(at, "REDUCE on " + describe(callable) + ", not an allowed global");
        if (!(args instanceof Tuple t)) throw error(at, "REDUCE with arguments " + describe(args) + ", not a tuple");
        List<Object> a = t.items();
        switch (g.qualified()) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw error(at, "collections.OrderedDict called with arguments");
                return new LinkedHashMap<>();
            }
            case REBUILD_TENSOR -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.size() != 6 && a.size() != 7) throw error(at, REBUILD_TENSOR + " with " + a.size() + " arguments, not 6 or 7");
                if (!(a.get(0) instanceof StorageRef s)) throw error(at, REBUILD_TENSOR + ": first argument is not a storage");
                if (!(a.get(1) instanceof Long offset)) throw error(at, REBUILD_TENSOR + ": storage offset is not an int");
                return new TensorRef(s, offset, longs(at, a.get(2), "size"), longs(at, a.get(3), "stride"));
            }
            default -> throw error(at, "global '" + g.qualified() + "' cannot be called");
        }
    }

    private long[] longs(int at, Object o, String what) {
        if (!(o instanceof Tuple t)) throw error(at, REBUILD_TENSOR + ": " + what + " is not a tuple");
        long[] out = new long[t.items().size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items().get(i) instanceof Long v) || v < 0) throw error(at, REBUILD_TENSOR + ": " + what + " holds " + describe(t.items().get(i)));
            out[i] = v;
        }
        return out;
    }

    private Object persistent(int at, Object pid) {
        // ('storage', storage_type, key, location, numel)
        if (pid instanceof Tuple t && t.items().size() == 5 && "storage".equals(t.items().get(0))
                && t.items().get(1) instanceof Global g && STORAGES.containsKey(g.qualified())
                && t.items().get(2) instanceof String key && t.items().get(3) instanceof String
                && t.items().get(4) instanceof Long numel && numel >= 0) {
            return new StorageRef(STORAGES.get(g.qualified()), key, numel);
        }
        throw error(at, "persistent id " + describe(pid) + " is not ('storage', <float storage type>, key, location, numel)");
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(int at, int op) {
        if (stack.isEmpty() || stack.getLast() == MARK) {
            throw error(at, opName(op) + " on an empty stack");
        }
        return stack.removeLast();
    }

    private Object peek(int at, int op) {
        if (stack.isEmpty() || stack.getLast() == MARK) throw error(at, opName(op) + " on an empty stack");
        return stack.getLast();
    }

    private List<Object> popN(int at, int op, int n) {
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.addFirst(pop(at, op));
        return out;
    }

    private List<Object> popMark(int at, int op) {
        if (marks.isEmpty()) throw error(at, opName(op) + " without a MARK");
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(int at, int op) {
        if (peek(at, op) instanceof LinkedHashMap<?, ?> d) return (Map<Object, Object>) d;
        throw error(at, opName(op) + " on " + describe(stack.getLast()) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(int at, int op) {
        if (peek(at, op) instanceof ArrayList<?> l) return (List<Object>) l;
        throw error(at, opName(op) + " on " + describe(stack.getLast()) + ", not a list");
    }

    private Object memoGet(int at, int op, long index) {
        if (!memo.containsKey(index)) throw error(at, opName(op) + " of memo " + index + ", which was never stored");
        return memo.get(index);
    }

    private int u8(int at, int op) {
        if (pos >= data.length) throw truncated(at, op);
        return data[pos++] & 0xFF;
    }

    private long u32(int at, int op) {
        return le(bytes(at, op, 4)) & 0xFFFFFFFFL;
    }

    private long u64(int at, int op) {
        long v = le(bytes(at, op, 8));
        if (v < 0) throw error(at, opName(op) + " length " + Long.toUnsignedString(v) + " is too large");
        return v;
    }

    private byte[] bytes(int at, int op, long n) {
        if (n > data.length - pos) throw truncated(at, op);
        byte[] b = new byte[(int) n];
        System.arraycopy(data, pos, b, 0, (int) n);
        pos += (int) n;
        return b;
    }

    /** Little-endian unsigned bytes (at most 8) as a long. */
    private static long le(byte[] b) {
        long v = 0;
        for (int i = b.length - 1; i >= 0; i--) v = (v << 8) | (b[i] & 0xFF);
        return v;
    }

    private Long long1(int at, int op) {
        int n = u8(at, op);
        if (n > 8) throw error(at, "LONG1 of " + n + " bytes does not fit in 64 bits");
        byte[] b = bytes(at, op, n);
        if (n == 0) return 0L;
        long v = le(b);
        if (n < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement
        return v;
    }

    private String string(int at, int op, long n) {
        return new String(bytes(at, op, n), StandardCharsets.UTF_8);
    }

    private String line(int at, int op) {
        int start = pos;
        while (pos < data.length && data[pos] != '\n') pos++;
        if (pos >= data.length) throw truncated(at, op);
        String s = new String(data, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private AdapterLoadException truncated(int at, int op) {
        return new AdapterLoadException(source + ": pickle truncated: " + (op < 0 ? "no STOP opcode before the end"
                : opName(op) + " at byte " + at + " runs past the end") + " (" + data.length + " bytes; file truncated?)");
    }

    private AdapterLoadException error(int at, String problem) {
        return new AdapterLoadException(source + ": byte " + at + ": " + problem);
    }

    private static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return g.qualified();
        if (o instanceof String s) return "'" + s + "'";
        return o.getClass().getSimpleName();
    }

    /** An opcode's name as Python's pickletools prints it. */
    static String opName(int op) {
        String name = switch (op) {
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 0x81 -> "NEWOBJ";
            case 0x92 -> "NEWOBJ_EX";
            case 'c' -> "GLOBAL";
            case 0x93 -> "STACK_GLOBAL";
            case 'R' -> "REDUCE";
            case 'b' -> "BUILD";
            case 'P' -> "PERSID";
            case 'Q' -> "BINPERSID";
            case 0x82 -> "EXT1";
            case 0x83 -> "EXT2";
            case 0x84 -> "EXT4";
            case 'I' -> "INT";
            case 'L' -> "LONG";
            case 'F' -> "FLOAT";
            case 'S' -> "STRING";
            case 'V' -> "UNICODE";
            case 'T' -> "BINSTRING";
            case 'U' -> "SHORT_BINSTRING";
            case 'B' -> "BINBYTES";
            case 'C' -> "SHORT_BINBYTES";
            case 0x8e -> "BINBYTES8";
            case 0x96 -> "BYTEARRAY8";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            case 0x8b -> "LONG4";
            case 0x8f -> "EMPTY_SET";
            case 0x90 -> "ADDITEMS";
            case 0x91 -> "FROZENSET";
            case 'd' -> "DICT";
            case 'l' -> "LIST";
            case 'p' -> "PUT";
            case 'g' -> "GET";
            case '0' -> "POP";
            case '1' -> "POP_MARK";
            case '2' -> "DUP";
            case 's' -> "SETITEM";
            case 'u' -> "SETITEMS";
            case 'a' -> "APPEND";
            case 'e' -> "APPENDS";
            case 't' -> "TUPLE";
            case 'X' -> "BINUNICODE";
            case 0x8c -> "SHORT_BINUNICODE";
            case 0x8d -> "BINUNICODE8";
            case 'J' -> "BININT";
            case 'K' -> "BININT1";
            case 'M' -> "BININT2";
            case 0x8a -> "LONG1";
            case 'G' -> "BINFLOAT";
            case 'q' -> "BINPUT";
            case 'r' -> "LONG_BINPUT";
            case 'h' -> "BINGET";
            case 'j' -> "LONG_BINGET";
            case 0x94 -> "MEMOIZE";
            case 0x80 -> "PROTO";
            case 0x95 -> "FRAME";
            case '(' -> "MARK";
            case '.' -> "STOP";
            case 0x85 -> "TUPLE1";
            case 0x86 -> "TUPLE2";
            case 0x87 -> "TUPLE3";
            default -> null;
        };
        String hex = String.format("0x%02x", op);
        return name == null ? hex + " (unknown)" : name + " (" + hex + ")";
    }
}
