package io.paddock.tokenizer;

import java.util.Arrays;

/** A growable int array, so encoding does not box every id. */
final class IntArrayBuilder {
    private int[] values; // (capacity)
    private int size;

    IntArrayBuilder(int capacity) {
        values = new int[Math.max(capacity, 8)];
    }

    void add(int v) {
        if (size == values.length) values = Arrays.copyOf(values, size * 2);
        values[size++] = v;
    }

    int size() {
        return size;
    }

    int last() {
        return values[size - 1];
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
