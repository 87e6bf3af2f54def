package io.paddock.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Gives strings the Python {@code str} methods that Hugging Face chat templates call
 * ({@code content.strip()}, {@code role.startswith('sys')}, ...). Jinjava would otherwise look
 * for Java methods of those names and fail. Only method calls on strings are handled here; all
 * else falls through to Jinjava's own resolver.
 */
final class PyStringMethodsResolver extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) return null;
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, method.toString(), args);
        if (result != null) context.setPropertyResolved(true);
        return result;
    }

    private static Object call(String s, String method, Object[] args) {
        return switch (method) {
            case "strip" -> PyStrings.strip(s, charsArg(args));
            case "lstrip" -> PyStrings.lstrip(s, charsArg(args));
            case "rstrip" -> PyStrings.rstrip(s, charsArg(args));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "startswith" -> args.length == 1 ? s.startsWith(String.valueOf(args[0])) : null;
            case "endswith" -> args.length == 1 ? s.endsWith(String.valueOf(args[0])) : null;
            case "split" -> split(s, args);
            case "replace" -> args.length == 2 ? s.replace(String.valueOf(args[0]), String.valueOf(args[1])) : null;
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            default -> null;
        };
    }

    private static String charsArg(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    private static List<String> split(String s, Object[] args) {
        if (args.length == 0 || args[0] == null) {
            // Python's split() without a separator: runs of whitespace, no empty strings.
            List<String> out = new ArrayList<>();
            for (String w : PyStrings.strip(s).split("[\\s\\u00a0\\u0085]+")) {
                if (!w.isEmpty()) out.add(w);
            }
            return out;
        }
        String sep = String.valueOf(args[0]);
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int at = s.indexOf(sep); at >= 0; at = s.indexOf(sep, from)) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean prevCased = false;
        for (char c : s.toCharArray()) {
            out.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return out.toString();
    }

    // Property access is not ours: report "not resolved" for everything below.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
