package io.paddock.api;

import io.paddock.engine.GenerationResult;
import io.paddock.sampling.Sample;
import java.util.List;

/** Something that happened to one choice of a request: new text, or its end ({@code finished} non-null). */
record ChoiceEvent(int index, String text, int[] tokenIds, List<Sample> samples, GenerationResult finished) {
    boolean isFinish() { return finished != null; }
}
