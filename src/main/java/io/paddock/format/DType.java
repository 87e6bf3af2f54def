package io.paddock.format;

public enum DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL; public int byteSize() { return switch (this) { case F64, I64 -> 8; case F32, I32 -> 4; case F16, BF16, I16 -> 2; default -> 1; }; } }
