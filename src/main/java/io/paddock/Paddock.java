package io.paddock;

public final class Paddock {
    public static void main(String[] args) {
        System.out.println("paddock");
    }
}
