package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemsetD32;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/**
 * The loaded kernel modules and one typed launcher per kernel; grids, blocks and parameter types follow
 * docs/gpu-kernels.md exactly. All launches go to the default stream, so they run in issue order.
 */
final class CudaKernels implements AutoCloseable {
    static final CUdeviceptr NULL = new CUdeviceptr();
    private static final int DECODE_WARPS = 8;
    static final int DECODE_MAX_BATCH = 4;

    private final List<CUmodule> modules = new ArrayList<>();
    private final int smCount;
    private final CUfunction gather, decode, batched, rmsnorm, rope, swiglu, add, embedding, argmax, kvStore, attention, dense;

    CudaKernels(PtxCompiler compiler, int ccMajor, int ccMinor, int smCount) {
        this.smCount = smCount;
        Map<String, String> src = KernelSources.all();
        try {
            CUmodule g = load(compiler, KernelSources.GPTQ, src, ccMajor, ccMinor);
            CUmodule l = load(compiler, KernelSources.LAYER_OPS, src, ccMajor, ccMinor);
            CUmodule a = load(compiler, KernelSources.ATTENTION, src, ccMajor, ccMinor);
            CUmodule d = load(compiler, KernelSources.DENSE, src, ccMajor, ccMinor);
            gather = fn(g, "gptq_gather_x");
            decode = fn(g, "gptq_matmul_decode");
            batched = fn(g, "gptq_matmul_batched");
            rmsnorm = fn(l, "rmsnorm_f32");
            rope = fn(l, "rope_rotate_half_f32");
            swiglu = fn(l, "swiglu_f32");
            add = fn(l, "add_inplace_f32");
            embedding = fn(l, "embedding_rows");
            argmax = fn(l, "argmax_rows");
            kvStore = fn(a, "kv_store_f32");
            attention = fn(a, "paged_attention_f32");
            dense = fn(d, "dense_matmul");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private CUmodule load(PtxCompiler compiler, String name, Map<String, String> src, int major, int minor) {
        byte[] ptx = compiler.ptx(name, src.get(name), major, minor).getBytes(StandardCharsets.UTF_8);
        byte[] image = java.util.Arrays.copyOf(ptx, ptx.length + 1); // the driver wants a NUL-terminated image
        CUmodule m = new CUmodule();
        cuModuleLoadData(m, image);
        modules.add(m);
        return m;
    }

    private static CUfunction fn(CUmodule m, String name) {
        CUfunction f = new CUfunction();
        cuModuleGetFunction(f, m, name);
        return f;
    }

    private static void launch(CUfunction f, int gx, int gy, int bx, int by, Object... args) {
        NativePointerObject[] ps = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            ps[i] = switch (args[i]) {
                case CUdeviceptr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Double v -> Pointer.to(new double[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + args[i]);
            };
        }
        cuLaunchKernel(f, gx, gy, 1, bx, by, 1, 0, null, Pointer.to(ps), null);
    }

    void embedding(CUdeviceptr out, CUdeviceptr table, CUdeviceptr tokens, int rows, int hidden, int dtype) {
        launch(embedding, rows, Math.ceilDiv(hidden, 256), 256, 1, out, table, tokens, hidden, dtype);
    }

    void rmsnorm(CUdeviceptr out, CUdeviceptr x, CUdeviceptr weight, int rows, int n, float eps) {
        launch(rmsnorm, rows, 1, 256, 1, out, x, weight, n, eps);
    }

    void rope(CUdeviceptr v, CUdeviceptr pos, int rows, int heads, int rowStride, int headDim, CUdeviceptr cos,
              CUdeviceptr sin, double theta) {
        launch(rope, rows, heads, Math.min(headDim / 2, 128), 1, v, pos, rowStride, headDim, cos, sin, theta);
    }

    void swiglu(CUdeviceptr gate, CUdeviceptr up, long n) {
        launch(swiglu, Math.toIntExact(Math.ceilDiv(n, 256)), 1, 256, 1, gate, up, n);
    }

    void add(CUdeviceptr a, CUdeviceptr b, long n) {
        launch(add, Math.toIntExact(Math.ceilDiv(n, 256)), 1, 256, 1, a, b, n);
    }

    void argmax(CUdeviceptr x, CUdeviceptr out, int rows, int n) {
        launch(argmax, rows, 1, 256, 1, x, out, n);
    }

    void kvStore(CUdeviceptr kPool, CUdeviceptr vPool, CUdeviceptr k, CUdeviceptr v, CUdeviceptr tables,
                 CUdeviceptr tableOffset, CUdeviceptr pos, int rows, int kvDim, int blockSize) {
        launch(kvStore, rows, Math.ceilDiv(kvDim, 256), 256, 1, kPool, vPool, k, v, tables, tableOffset, pos, kvDim, blockSize);
    }

    void attention(CUdeviceptr out, CUdeviceptr q, CUdeviceptr kPool, CUdeviceptr vPool, CUdeviceptr tables,
                   CUdeviceptr tableOffset, CUdeviceptr pos, int rows, int heads, int kvHeads, int headDim, int blockSize) {
        launch(attention, rows, heads, 128, 1, out, q, kPool, vPool, tables, tableOffset, pos, heads, kvHeads, headDim, blockSize);
    }

    void dense(CUdeviceptr x, CUdeviceptr w, CUdeviceptr y, int batch, int in, int out, int dtype) {
        launch(dense, Math.ceilDiv(out, 8), Math.ceilDiv(batch, 4), 32, 8, x, w, y, batch, in, out, dtype);
    }

    /** y = x·Wᵀ for a GPTQ layer; {@code xp} is scratch for the act-order gather (batch × in floats). */
    void gptq(GptqDevice g, CUdeviceptr x, CUdeviceptr xp, CUdeviceptr y, int batch) {
        CUdeviceptr src = x;
        if (g.perm() != null) {
            launch(gather, Math.ceilDiv(g.in(), 256), batch, 256, 1, x, g.perm(), xp, batch, g.in());
            src = xp;
        }
        CUdeviceptr bias = g.bias() == null ? NULL : g.bias();
        if (batch <= DECODE_MAX_BATCH) {
            int colBlocks = Math.ceilDiv(g.out(), 32);
            int splitK = splitK(colBlocks, Math.ceilDiv(g.in(), 32), smCount);
            if (splitK > 1) cuMemsetD32(y, 0, (long) batch * g.out());
            launch(decode, colBlocks, splitK, 32, DECODE_WARPS, src, g.qweight(), g.qzeros(), g.scales(), g.gIdx(), bias,
                    y, batch, g.in(), g.out(), g.bits(), g.zeroWords(), g.zeroPlusOne() ? 1 : 0);
        } else {
            launch(batched, Math.ceilDiv(g.out(), 128), Math.ceilDiv(batch, 16), 128, 1, src, g.qweight(), g.qzeros(),
                    g.scales(), g.gIdx(), bias, y, batch, g.in(), g.out(), g.bits(), g.zeroWords(), g.zeroPlusOne() ? 1 : 0);
        }
    }

    /** Enough K slices to give every SM about two blocks, while each warp keeps at least two 32-input units. */
    static int splitK(int colBlocks, int units, int smCount) {
        int wanted = Math.ceilDiv(2 * smCount, Math.max(1, colBlocks));
        int most = Math.max(1, units / (DECODE_WARPS * 2));
        return Math.max(1, Math.min(wanted, most));
    }

    @Override
    public void close() {
        for (CUmodule m : modules) cuModuleUnload(m);
        modules.clear();
    }
}
