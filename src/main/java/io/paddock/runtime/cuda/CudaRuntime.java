package io.paddock.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import io.paddock.model.LlamaConfig;
import io.paddock.model.LlamaWeights;
import io.paddock.runtime.KvStore;
import io.paddock.runtime.ModelRuntime;
import io.paddock.runtime.StepChunk;
import io.paddock.runtime.cpu.RopeTable;
import java.util.List;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * The LLaMA forward pass on CUDA device 0, step for step the same as {@code CpuLlama}: fp32 activations, weights
 * in their stored types, KV in a paged fp32 pool. Weights are uploaded once in the constructor; per-step buffers
 * are reused; {@link #close()} frees every device allocation and releases the primary context.
 * Not thread-safe: the engine thread owns it, and every call makes the context current on that thread.
 */
public final class CudaRuntime implements ModelRuntime {
    private final LlamaConfig c;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final DeviceMemory memory = new DeviceMemory();
    private final CudaKernels kernels;
    private final CudaWeights weights;
    private final StepScratch scratch;
    private final String deviceName;
    private boolean closed;

    public CudaRuntime(LlamaWeights w) {
        this(w, CudaOptions.fromSystemProperties());
    }

    public CudaRuntime(LlamaWeights w, CudaOptions options) {
        this.c = w.config();
        if (c.headDim() > 256) throw new IllegalArgumentException("paged_attention_f32 supports headDim <= 256, got " + c.headDim());
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        cuDeviceGet(device, 0);
        cuDevicePrimaryCtxRetain(context, device);
        try {
            cuCtxSetCurrent(context);
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, device);
            this.deviceName = new String(name, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "");
            int major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            int sms = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            this.kernels = new CudaKernels(new PtxCompiler(options), major, minor, sms);
            try {
                RopeTable rope = RopeTable.create(c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta());
                this.weights = new CudaWeights(w, rope, memory);
                this.scratch = new StepScratch(memory, c);
                cuCtxSynchronize();
            } catch (RuntimeException | Error e) {
                kernels.close();
                throw e;
            }
        } catch (RuntimeException | Error e) {
            try {
                memory.close();
            } finally {
                cuDevicePrimaryCtxRelease(device);
            }
            throw e;
        }
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    @Override public LlamaConfig config() { return c; }

    @Override public String name() { return "cuda"; }

    /** The device's name as the driver reports it, e.g. "NVIDIA H100 80GB HBM3". */
    public String deviceName() { return deviceName; }

    /** Device bytes this runtime holds: weights, scratch and KV pools. */
    public long deviceBytes() { return memory.bytes(); }

    /** Free and total device memory now (for KV sizing after the weights are up, and for metrics). */
    /** 90 % of the device memory still free once the weights are resident (vLLM's gpu_memory_utilization idea). */
    @Override
    public long defaultKvBudgetBytes() {
        return (long) (memInfo().freeBytes() * 0.9);
    }

    public CudaDevices.MemInfo memInfo() {
        cuCtxSetCurrent(context);
        long[] free = new long[1], total = new long[1];
        cuMemGetInfo(free, total);
        return new CudaDevices.MemInfo(free[0], total[0]);
    }

    @Override public long kvBytesPerToken() {
        return 2L * c.numLayers() * c.numKvHeads() * c.headDim() * Float.BYTES;
    }

    @Override
    public CudaKvStore newKvStore(int numBlocks, int blockSize) {
        cuCtxSetCurrent(context);
        return new CudaKvStore(memory, c.numLayers(), numBlocks, blockSize, c.numKvHeads() * c.headDim());
    }

    @Override
    public float[][] forward(KvStore store, List<StepChunk> chunks) {
        if (closed) throw new IllegalStateException("CudaRuntime is closed");
        if (!(store instanceof CudaKvStore kv) || !kv.isOpen()) throw new IllegalArgumentException("not an open CUDA KV store: " + store);
        StepPlan plan = StepPlan.of(chunks, kv.numBlocks(), kv.blockSize(), c.vocabSize(), c.maxPositionEmbeddings());
        float[][] result = new float[chunks.size()][];
        int rows = plan.rows();
        if (rows == 0) return result;
        cuCtxSetCurrent(context);
        StepScratch s = scratch;
        s.ensure(rows, Math.max(1, plan.wanted()), plan.tables().length);
        DeviceMemory.copyToDevice(s.tokens, plan.tokens(), rows);
        DeviceMemory.copyToDevice(s.pos, plan.pos(), rows);
        DeviceMemory.copyToDevice(s.tableOffset, plan.tableOffset(), rows);
        DeviceMemory.copyToDevice(s.tables, plan.tables(), plan.tables().length);

        int h = c.hiddenSize(), heads = c.numHeads(), kvHeads = c.numKvHeads(), hd = c.headDim();
        int qDim = heads * hd, kvDim = kvHeads * hd, ff = c.intermediateSize();
        float eps = (float) c.rmsNormEps();
        kernels.embedding(s.x, weights.embedding, s.tokens, rows, h, weights.embeddingDtype);
        for (int layer = 0; layer < c.numLayers(); layer++) {
            CudaWeights.Layer lw = weights.layers.get(layer);
            // Attention block.
            kernels.rmsnorm(s.xb, s.x, lw.attentionNorm(), rows, h, eps);
            matmul(lw.q(), s.xb, s.q, rows);
            matmul(lw.k(), s.xb, s.k, rows);
            matmul(lw.v(), s.xb, s.v, rows);
            kernels.rope(s.q, s.pos, rows, heads, qDim, hd, weights.ropeCos, weights.ropeSin, c.ropeTheta());
            kernels.rope(s.k, s.pos, rows, kvHeads, kvDim, hd, weights.ropeCos, weights.ropeSin, c.ropeTheta());
            kernels.kvStore(kv.keys(layer), kv.values(layer), s.k, s.v, s.tables, s.tableOffset, s.pos, rows, kvDim, kv.blockSize());
            kernels.attention(s.att, s.q, kv.keys(layer), kv.values(layer), s.tables, s.tableOffset, s.pos, rows, heads,
                    kvHeads, hd, kv.blockSize());
            matmul(lw.o(), s.att, s.xb, rows);
            kernels.add(s.x, s.xb, (long) rows * h);
            // Feed-forward block (SwiGLU).
            kernels.rmsnorm(s.xb, s.x, lw.mlpNorm(), rows, h, eps);
            matmul(lw.gate(), s.xb, s.gate, rows);
            matmul(lw.up(), s.xb, s.up, rows);
            kernels.swiglu(s.gate, s.up, (long) rows * ff);
            matmul(lw.down(), s.gate, s.xb, rows);
            kernels.add(s.x, s.xb, (long) rows * h);
        }
        if (plan.wanted() == 0) {
            cuCtxSynchronize();
            return result;
        }
        // Only the wanted last rows go through the final norm and the (large) output layer.
        long rowBytes = (long) h * Float.BYTES;
        int k = 0;
        for (int row : plan.lastRows()) {
            kernels.rmsnorm(s.normed.withByteOffset(k * rowBytes), s.x.withByteOffset(row * rowBytes), weights.finalNorm, 1, h, eps);
            k++;
        }
        int wanted = plan.wanted(), vocab = c.vocabSize();
        matmul(weights.lmHead, s.normed, s.logits, wanted);
        float[] logits = new float[wanted * vocab];
        DeviceMemory.copyToHost(s.logits, logits, logits.length);
        k = 0;
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).wantLogits()) {
                result[i] = java.util.Arrays.copyOfRange(logits, k * vocab, (k + 1) * vocab);
                k++;
            }
        }
        return result;
    }

    private void matmul(CudaWeights.DeviceLinear lin, CUdeviceptr x, CUdeviceptr y, int rows) {
        switch (lin) {
            case CudaWeights.Dense d -> kernels.dense(x, d.w(), y, rows, d.in(), d.out(), d.dtype());
            case CudaWeights.Gptq g -> kernels.gptq(g.g(), x, scratch.xp, y, rows);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            cuCtxSetCurrent(context);
            kernels.close();
            memory.close();
        } finally {
            cuDevicePrimaryCtxRelease(device);
        }
    }
}
