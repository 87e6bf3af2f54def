package io.paddock.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DTypeTests {

    @Test
    void parsesSafetensorsNamesWithTheirSizes() {
        assertThat(DType.parse("F64").byteSize()).isEqualTo(8);
        assertThat(DType.parse("F32").byteSize()).isEqualTo(4);
        assertThat(DType.parse("F16").byteSize()).isEqualTo(2);
        assertThat(DType.parse("BF16").byteSize()).isEqualTo(2);
        assertThat(DType.parse("I64").byteSize()).isEqualTo(8);
        assertThat(DType.parse("I32").byteSize()).isEqualTo(4);
        assertThat(DType.parse("I16").byteSize()).isEqualTo(2);
        assertThat(DType.parse("I8").byteSize()).isEqualTo(1);
        assertThat(DType.parse("U8").byteSize()).isEqualTo(1);
        assertThat(DType.parse("BOOL").byteSize()).isEqualTo(1);
        for (DType t : DType.values()) assertThat(DType.parse(t.safetensorsName())).isSameAs(t);
    }

    @Test
    void rejectsUnknownTypesNamingThem() {
        assertThatThrownBy(() -> DType.parse("F8_E4M3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'F8_E4M3'")
                .hasMessageContaining("BF16");
        assertThatThrownBy(() -> DType.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
