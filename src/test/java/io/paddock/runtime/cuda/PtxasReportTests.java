package io.paddock.runtime.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The ptxas-report parser and launch rules, on logs as nvcc 13.0 prints them (no nvcc needed). */
class PtxasReportTests {

    // gptq_matmul.cu for sm_80 before the decode kernel's shared buffer moved into the entry
    private static final String REFUSED = """
            ptxas error   : Entry function 'gptq_matmul_decode' uses too much shared data (0x10000 bytes, 0xc000 max)
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'gptq_gather_x' for 'sm_80'
            ptxas info    : Function properties for gptq_gather_x
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 14 registers, used 0 barriers, 384 bytes cmem[0]
            ptxas info    : Compile time = 6.790 ms
            ptxas info    : Compiling entry function 'gptq_matmul_decode' for 'sm_80'
            ptxas info    : Function properties for gptq_matmul_decode
                16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 128 registers, used 1 barriers, 16 bytes cumulative stack size, 65536 bytes smem, 432 bytes cmem[0]
            ptxas info    : Compile time = 426.229 ms
            """;

    // an entry that calls a libdevice slow path ptxas kept out of line, which spills (made up)
    private static final String WITH_CALLEE = """
            ptxas info    : Compiling entry function 'rope_rotate_half_f32' for 'sm_90'
            ptxas info    : Function properties for rope_rotate_half_f32
                40 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 32 registers, used 0 barriers, 40 bytes cumulative stack size
            ptxas info    : Compile time = 58.397 ms
            ptxas info    : Function properties for __internal_trig_reduction_slowpathd
                0 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
            """;

    @Test
    void readsEachEntryAndTheErrors() {
        PtxasReport r = PtxasReport.parse("sm_80", REFUSED);
        assertThat(r.errors()).containsExactly(
                "ptxas error   : Entry function 'gptq_matmul_decode' uses too much shared data (0x10000 bytes, 0xc000 max)");
        assertThat(r.functions().get("gptq_gather_x"))
                .isEqualTo(new PtxasReport.Function("gptq_gather_x", true, 14, 0, 0, 0, 0));
        assertThat(r.functions().get("gptq_matmul_decode"))
                .isEqualTo(new PtxasReport.Function("gptq_matmul_decode", true, 128, 65536, 16, 0, 0));
    }

    @Test
    void staticSharedMemoryOver48KiBIsAViolation() {
        PtxasReport.Function decode = PtxasReport.parse("sm_80", REFUSED).functions().get("gptq_matmul_decode");
        assertThat(PtxasReport.violations(decode, 256)).containsExactly(
                "gptq_matmul_decode: 65536 bytes of static shared memory, over the 49152 a block may declare");
        assertThat(PtxasReport.violations(new PtxasReport.Function("k", true, 32, 49152, 0, 0, 0), 256)).isEmpty();
    }

    @Test
    void calleesAreKeptWithTheirSpills() {
        PtxasReport r = PtxasReport.parse("sm_90", WITH_CALLEE);
        PtxasReport.Function slow = r.functions().get("__internal_trig_reduction_slowpathd");
        assertThat(slow).isEqualTo(new PtxasReport.Function("__internal_trig_reduction_slowpathd", false, -1, -1, 0, 8, 4));
        assertThat(PtxasReport.spills(slow))
                .containsExactly("__internal_trig_reduction_slowpathd: 8 bytes spill stores, 4 bytes spill loads");
        assertThat(r.functions().get("rope_rotate_half_f32").stackFrame()).isEqualTo(40);
        assertThat(PtxasReport.violations(r.functions().get("rope_rotate_half_f32"), 128)).isEmpty();
    }

    @Test
    void registersAreAllocatedPerWarpInUnitsOf256() {
        assertThat(PtxasReport.blockRegisters(32, 256)).isEqualTo(8192);
        assertThat(PtxasReport.blockRegisters(33, 256)).isEqualTo(40 * 256);   // 33 → 40 per thread
        assertThat(PtxasReport.blockRegisters(126, 256)).isEqualTo(128 * 256);
        assertThat(PtxasReport.blockRegisters(16, 100)).isEqualTo(4 * 32 * 16);   // 100 threads take 4 whole warps
        assertThat(PtxasReport.maxThreads(128)).isEqualTo(512);
        assertThat(PtxasReport.maxThreads(168)).isEqualTo(384);
        assertThat(PtxasReport.maxThreads(32)).isEqualTo(1024);
    }

    @Test
    void aBlockThatCannotGetItsRegistersIsAViolation() {
        var decode = new PtxasReport.Function("gptq_matmul_decode", true, 128, 16384, 0, 0, 0);
        assertThat(PtxasReport.violations(decode, 512)).isEmpty();
        assertThat(PtxasReport.violations(decode, 1024)).containsExactly(
                "gptq_matmul_decode: 128 registers × 1024 threads = 131072 registers per block, over 65536 (launch"
                        + " fails with OUT_OF_RESOURCES); at most 512 threads fit");
        // 121 registers round up to 128: 544 threads would need 17 warps × 4096
        assertThat(PtxasReport.violations(new PtxasReport.Function("k", true, 121, 0, 0, 0, 0), 544)).hasSize(1);
    }

    @Test
    void moreThan255RegistersPerThreadIsAViolation() {
        assertThat(PtxasReport.violations(new PtxasReport.Function("k", true, 256, 0, 0, 0, 0), 32))
                .contains("k: 256 registers per thread, over 255");
    }

    @Test
    void ptxParametersAreReadInOrder() {
        String ptx = """
                .visible .entry rope_rotate_half_f32(
                	.param .u64 .ptr .global .align 4 rope_rotate_half_f32_param_0,
                	.param .u64 rope_rotate_half_f32_param_1,
                	.param .u32 rope_rotate_half_f32_param_2,
                	.param .f32 rope_rotate_half_f32_param_3,
                	.param .f64 rope_rotate_half_f32_param_4
                )
                {
                	ret;
                }
                .visible .entry by_value(
                	.param .align 8 .b8 by_value_param_0[16]
                )
                .visible .entry none()
                """;
        var entries = PtxEntries.parse(ptx);
        assertThat(entries.get("rope_rotate_half_f32")).containsExactly(".u64", ".u64", ".u32", ".f32", ".f64");
        assertThat(entries.get("by_value")).containsExactly(".param .align 8 .b8 by_value_param_0[16]");
        assertThat(entries.get("none")).isEmpty();
        assertThat(PtxEntries.expected(CudaKernels.ROPE)).containsExactly(".u64", ".u64", ".u32", ".u32", ".u64", ".u64", ".f64");
        assertThat(List.copyOf(entries.keySet())).containsExactly("rope_rotate_half_f32", "by_value", "none");
    }
}
