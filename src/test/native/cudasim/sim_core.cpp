// Runtime of the CUDA host emulation (design and limits: cuda_sim.h): the worker pool, fibers and their context
// switch, block scheduling, __syncthreads, warp collectives and launch errors. Built as libpaddock_cudasim.so for
// the Java side, or compiled into a test program together with the kernels (so sanitizers instrument it too).
#include "cuda_sim.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <mutex>
#include <sstream>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define PADDOCK_SIM_TSAN 1
#else
#define PADDOCK_SIM_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define PADDOCK_SIM_ASAN 1
#else
#define PADDOCK_SIM_ASAN 0
#endif
// The portable fallback: ucontext's swapcontext (a sigprocmask syscall per switch, so ~50x slower).
#if !defined(__x86_64__) && !defined(PADDOCK_SIM_UCONTEXT)
#define PADDOCK_SIM_UCONTEXT 1
#endif
#ifndef PADDOCK_SIM_UCONTEXT
#define PADDOCK_SIM_UCONTEXT 0
#endif
#if PADDOCK_SIM_UCONTEXT
#include <ucontext.h>
#endif

namespace paddock_sim {

__thread const ThreadView* tl_thread = nullptr;
__thread BlockView tl_block;

namespace {

thread_local std::string tl_last_error;

constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kWarps = kMaxThreads / 32;
// Kernel frames are small (a few KiB even with ASan redzones); pages are only committed when touched.
constexpr std::size_t kStackBytes = 256 * 1024;

// TSan annotations; no-ops in other builds. Each takes an address used only as a synchronisation key.
inline void tsan_release(void* key) {
#if PADDOCK_SIM_TSAN
    __tsan_release(key);
#else
    (void)key;
#endif
}
inline void tsan_acquire(void* key) {
#if PADDOCK_SIM_TSAN
    __tsan_acquire(key);
#else
    (void)key;
#endif
}

// State shared by the fibers of a block and their worker. They all run on one OS thread, but TSan sees each
// fiber as a thread of its own: relaxed atomics keep the bookkeeping from racing without ordering the fibers.
template <class T>
struct Relaxed {
    std::atomic<T> v{};
    operator T() const { return v.load(std::memory_order_relaxed); }
    Relaxed& operator=(T x) {
        v.store(x, std::memory_order_relaxed);
        return *this;
    }
    Relaxed& operator=(const Relaxed& o) { return *this = static_cast<T>(o); }
};

enum class State : int { ready, running, at_barrier, at_warp, exited, failed };

// ---- execution contexts -----------------------------------------------------------------------------------
struct Context {
    void* sp = nullptr;
#if PADDOCK_SIM_UCONTEXT
    ucontext_t uc;
#endif
};

}  // namespace
}  // namespace paddock_sim

#if !PADDOCK_SIM_UCONTEXT
// Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores the stack pointer
// to *save_sp, switches to load_sp and restores the same from there. A new fiber's stack is prepared so that the
// final ret lands in paddock_sim_fiber_start with r12 = the fiber, r13 = its entry function.
extern "C" void paddock_sim_switch(void** save_sp, void* load_sp);
extern "C" void paddock_sim_fiber_start();
asm(R"(
    .text
    .globl paddock_sim_switch
    .hidden paddock_sim_switch
    .type paddock_sim_switch, @function
paddock_sim_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size paddock_sim_switch, .-paddock_sim_switch

    .globl paddock_sim_fiber_start
    .hidden paddock_sim_fiber_start
    .type paddock_sim_fiber_start, @function
paddock_sim_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size paddock_sim_fiber_start, .-paddock_sim_fiber_start
)");
#endif

namespace paddock_sim {
namespace {

// Saves the running context into `from` and continues `to`, whose saved stack pointer the caller read before
// announcing the switch to TSan (from then on TSan attributes accesses to the target fiber).
inline void context_switch(Context& from, Context& to, void* to_sp) {
#if PADDOCK_SIM_UCONTEXT
    (void)to_sp;
    swapcontext(&from.uc, &to.uc);
#else
    (void)to;
    paddock_sim_switch(&from.sp, to_sp);
#endif
}

struct Worker;

// One cp.async of a thread, queued until a wait completes its group.
struct AsyncCopy {
    void* dst;
    const void* src;
    int bytes, src_bytes;
    unsigned group;   // the number the group gets when committed
    const char* file;
    int line;
};

// One CUDA thread: a fiber with its own stack, reused for every block its worker runs.
struct Fiber : ThreadView {
    Worker* worker = nullptr;
    unsigned linear = 0, lane = 0, warp = 0;
    Relaxed<State> state;
    Relaxed<unsigned> wait_gen;    // the barrier generation or collective count it waits to see change
    // warp collective this lane waits at (if its warp's `waiting` has the lane), its contribution and answer
    Relaxed<WarpOp> coll_op;
    Relaxed<unsigned> coll_mask;
    Relaxed<const char*> coll_file;
    Relaxed<int> coll_line;
    Relaxed<std::uint64_t> value, result;
    Relaxed<int> src;
    Relaxed<unsigned> coll_done;   // collectives completed; a waiting lane resumes when it moves
    Relaxed<bool> cancel;          // set by the worker to unwind a waiting fiber out of a failed block
    Relaxed<std::uint32_t> mat_in[10], mat_out[4];   // mma/ldmatrix operands and results (like value/result)
    std::vector<AsyncCopy> copies;   // this thread's pending cp.async, in issue order (touched only by the fiber)
    unsigned committed = 0;          // cp.async groups committed so far
    Context ctx;
    char* stack_lo = nullptr;
    void* tsan = nullptr;
    void* asan_fake = nullptr;
    char arrive_token = 0, inbox_token = 0;   // TSan keys of __syncwarp (see warp_collective)
};

struct WarpState {
    Relaxed<unsigned> waiting;   // lanes waiting at a warp collective (disjoint masks may be pending at once)
    Relaxed<unsigned> exited;
    unsigned present = 0;        // lanes that exist in this block
};

struct BlockState {
    unsigned n = 0;
    Relaxed<unsigned> bar_arrived, bar_gen, exited, bar_first;
    Relaxed<const char*> bar_file;
    Relaxed<int> bar_line;
    WarpState warps[kWarps];
    Relaxed<bool> failed;
    std::string error;   // written by the failing fiber, read by the worker once every fiber has parked
    char start_token = 0, end_token = 0;
    char bar_token[2] = {};
};

struct Worker {
    unsigned index = 0;
    std::vector<std::unique_ptr<Fiber>> fibers;
    Context main;
    void* main_tsan = nullptr;
    void* main_fake = nullptr;
    const void* main_bottom = nullptr;
    std::size_t main_size = 0;
    BlockState block;
    const LaunchRequest* req = nullptr;
    std::thread thread;
};

std::string site(const char* file, int line) { return std::string(file ? file : "?") + ":" + std::to_string(line); }

bool same_site(const char* f1, int l1, const char* f2, int l2) {
    return l1 == l2 && (f1 == f2 || (f1 && f2 && std::strcmp(f1, f2) == 0));
}

std::string dims(unsigned x, unsigned y, unsigned z) {
    return "(" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) + ")";
}

std::string hex(unsigned v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08x", v);
    return b;
}

const char* op_name(WarpOp op) {
    switch (op) {
        case WarpOp::shfl_idx: return "__shfl_sync";
        case WarpOp::shfl_up: return "__shfl_up_sync";
        case WarpOp::shfl_down: return "__shfl_down_sync";
        case WarpOp::shfl_xor: return "__shfl_xor_sync";
        case WarpOp::syncwarp: return "__syncwarp";
        case WarpOp::ballot: return "__ballot_sync/__any_sync/__all_sync";
        case WarpOp::mma: return "mma.sync.m16n8k16";
        case WarpOp::ldmatrix: return "ldmatrix.sync.m8n8";
    }
    return "?";
}

std::string thread_name(const Fiber& f) {
    return dims(f.thread_idx.x, f.thread_idx.y, f.thread_idx.z);
}

// ---- fibers -------------------------------------------------------------------------------------------------
Fiber* current() {
    const ThreadView* t = __atomic_load_n(&tl_thread, __ATOMIC_RELAXED);
    if (t == nullptr) {
        std::fprintf(stderr, "paddock cudasim: a device function (__syncthreads, a warp collective) was called "
                             "outside a kernel launch\n");
        std::abort();
    }
    return static_cast<Fiber*>(const_cast<ThreadView*>(t));
}

[[noreturn]] void fiber_entry(Fiber* f);

#if PADDOCK_SIM_UCONTEXT
void fiber_entry_uc(unsigned hi, unsigned lo) {
    fiber_entry(reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(hi) << 32) | lo));
}
#endif

// A fresh context on the fiber's stack that starts in fiber_entry.
void init_context(Fiber* f) {
#if PADDOCK_SIM_UCONTEXT
    getcontext(&f->ctx.uc);
    f->ctx.uc.uc_stack.ss_sp = f->stack_lo;
    f->ctx.uc.uc_stack.ss_size = kStackBytes;
    f->ctx.uc.uc_link = nullptr;
    auto p = reinterpret_cast<std::uintptr_t>(f);
    makecontext(&f->ctx.uc, reinterpret_cast<void (*)()>(&fiber_entry_uc), 2, static_cast<unsigned>(p >> 32),
                static_cast<unsigned>(p & 0xffffffffu));
#else
    auto top = reinterpret_cast<std::uintptr_t>(f->stack_lo + kStackBytes) & ~std::uintptr_t{15};
    auto* s = reinterpret_cast<std::uint64_t*>(top - 16) - 8;   // 16-aligned after the final ret, as a call expects
    std::uint32_t mxcsr;
    std::uint16_t fcw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fcw));
    s[0] = mxcsr | (static_cast<std::uint64_t>(fcw) << 32);
    s[1] = 0;                                                   // r15
    s[2] = 0;                                                   // r14
    s[3] = reinterpret_cast<std::uint64_t>(&fiber_entry);       // r13
    s[4] = reinterpret_cast<std::uint64_t>(f);                  // r12
    s[5] = 0;                                                   // rbx
    s[6] = 0;                                                   // rbp: ends frame-pointer unwinding
    s[7] = reinterpret_cast<std::uint64_t>(&paddock_sim_fiber_start);
    s[8] = 0;                                                   // a null return address above the entry
    s[9] = 0;
    f->ctx.sp = s;
#endif
}

void map_stack(Fiber* f) {
    std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) {
        std::perror("paddock cudasim: mmap of a fiber stack");
        std::abort();
    }
    mprotect(m, page, PROT_NONE);   // guard page: a stack overflow faults instead of corrupting a neighbour
    f->stack_lo = static_cast<char*>(m) + page;
}

std::unique_ptr<Fiber> new_fiber(Worker& w) {
    auto f = std::make_unique<Fiber>();
    f->worker = &w;
    map_stack(f.get());
#if PADDOCK_SIM_TSAN
    f->tsan = __tsan_create_fiber(0);
#endif
    init_context(f.get());
    return f;
}

// Worker -> fiber f, until f waits, exits or fails.
void resume(Worker& w, Fiber* f) {
    __atomic_store_n(&tl_thread, f, __ATOMIC_RELAXED);
    void* sp = f->ctx.sp;
#if PADDOCK_SIM_ASAN
    __sanitizer_start_switch_fiber(&w.main_fake, f->stack_lo, kStackBytes);
#endif
#if PADDOCK_SIM_TSAN
    __tsan_switch_to_fiber(f->tsan, __tsan_switch_to_fiber_no_sync);
#endif
    context_switch(w.main, f->ctx, sp);
#if PADDOCK_SIM_ASAN
    __sanitizer_finish_switch_fiber(w.main_fake, nullptr, nullptr);
#endif
    __atomic_store_n(&tl_thread, nullptr, __ATOMIC_RELAXED);
}

// Fiber f -> its worker. `release`: a TSan key released as the fiber's last act before the switch (everything
// the fiber touches here is read first, so nothing it does is left outside the release).
void to_worker(Fiber* f, void* release = nullptr) {
    Worker& w = *f->worker;
    void* sp = w.main.sp;
#if PADDOCK_SIM_TSAN
    void* main_tsan = w.main_tsan;
#endif
    if (release) tsan_release(release);
#if PADDOCK_SIM_ASAN
    __sanitizer_start_switch_fiber(&f->asan_fake, w.main_bottom, w.main_size);
#endif
#if PADDOCK_SIM_TSAN
    __tsan_switch_to_fiber(main_tsan, __tsan_switch_to_fiber_no_sync);
#endif
    context_switch(f->ctx, w.main, sp);
#if PADDOCK_SIM_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake, &w.main_bottom, &w.main_size);
#endif
}

// Unwinds a fiber out of the kernel (to fiber_entry) when its block failed: destructors of the kernel's and the
// emulator's frames run, so an abandoned block leaks nothing and its fibers are reusable as they are.
struct FiberAbort {};

// Suspends the calling fiber until the worker resumes it; throws FiberAbort if its block is being abandoned.
void wait_here(Fiber* f) {
    to_worker(f);
    if (f->cancel) throw FiberAbort{};
}

// Ends the block's run with an error reported by the calling fiber.
[[noreturn]] void fail(const std::string& message) {
    Fiber* f = current();
    BlockState& b = f->worker->block;
    if (!b.failed) {
        const uint3& bi = tl_block.block_idx;
        b.error = "block " + dims(bi.x, bi.y, bi.z) + " thread " + thread_name(*f) + ": " + message;
        b.failed = true;
    }
    throw FiberAbort{};
}

const Fiber& fiber_at(const Worker& w, unsigned linear) { return *w.fibers[linear]; }

std::string first_exited(const Worker& w) {
    for (unsigned i = 0; i < w.block.n; i++) {
        if (fiber_at(w, i).state == State::exited) return "thread " + thread_name(fiber_at(w, i));
    }
    return "a thread";
}

// Performs the thread's queued cp.async of every group numbered below `limit` (uncommitted ones: limit = ~0u).
void perform_copies(Fiber* f, unsigned limit) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < f->copies.size(); i++) {
        AsyncCopy c = f->copies[i];
        if (c.group < limit) {
            if (c.src_bytes > 0) std::memcpy(c.dst, c.src, static_cast<std::size_t>(c.src_bytes));
            if (c.bytes > c.src_bytes) std::memset(static_cast<char*>(c.dst) + c.src_bytes, 0, c.bytes - c.src_bytes);
        } else {
            f->copies[kept++] = c;
        }
    }
    f->copies.resize(kept);
}

void thread_exit(Fiber* f) {
    perform_copies(f, ~0u);   // copies still pending when a thread exits are completed (as the GPU does)
    Worker& w = *f->worker;
    BlockState& b = w.block;
    f->state = State::exited;
    b.exited = b.exited + 1;
    WarpState& ws = b.warps[f->warp];
    ws.exited = ws.exited | (1u << f->lane);
    for (unsigned l = 0; l < 32; l++) {
        if (!(ws.waiting >> l & 1)) continue;
        const Fiber& k = fiber_at(w, f->warp * 32 + l);
        if (k.coll_mask & (1u << f->lane)) {
            fail("exited while lanes " + hex(ws.waiting & k.coll_mask) + " of its warp wait for it at "
                 + op_name(k.coll_op) + " (mask " + hex(k.coll_mask) + ") at " + site(k.coll_file, k.coll_line));
        }
    }
    if (b.bar_arrived != 0 && b.bar_arrived + b.exited == b.n) {
        fail("exited without reaching __syncthreads at " + site(b.bar_file, b.bar_line) + ", where "
             + std::to_string(b.bar_arrived) + " threads wait");
    }
}

[[noreturn]] void fiber_entry(Fiber* f) {
    Worker& w = *f->worker;
#if PADDOCK_SIM_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &w.main_bottom, &w.main_size);
#endif
    for (;;) {   // one iteration per block this fiber takes part in
        BlockState& b = w.block;
        tsan_acquire(&b.start_token);
        f->state = State::running;
        f->copies.clear();   // a failed block may have left some
        f->committed = 0;
        try {
            w.req->run(w.req->args);
            thread_exit(f);
        } catch (const FiberAbort&) {
            f->state = State::failed;
        }
        to_worker(f, &b.end_token);
    }
}

// ---- blocks -------------------------------------------------------------------------------------------------
std::string describe_waits(const Worker& w) {
    const BlockState& b = w.block;
    std::ostringstream out;
    if (b.bar_arrived != 0) {
        out << b.bar_arrived << " threads wait at __syncthreads " << site(b.bar_file, b.bar_line) << " (first: thread "
            << thread_name(fiber_at(w, b.bar_first)) << ")";
    }
    for (unsigned k = 0; k < (b.n + 31) / 32; k++) {
        const unsigned waiting = b.warps[k].waiting;
        unsigned told = 0;
        for (unsigned l = 0; l < 32; l++) {
            if (!(waiting >> l & 1) || (told >> l & 1)) continue;
            const Fiber& f = fiber_at(w, k * 32 + l);
            unsigned same = 0;   // lanes waiting at the same collective as lane l
            for (unsigned m = l; m < 32; m++) {
                const Fiber& g = fiber_at(w, k * 32 + m);
                if ((waiting >> m & 1) && g.coll_mask == f.coll_mask && g.coll_op == f.coll_op) same |= 1u << m;
            }
            told |= same;
            out << (out.tellp() > 0 ? "; " : "") << "warp " << k << ": lanes " << hex(same) << " wait at "
                << op_name(f.coll_op) << " (mask " << hex(f.coll_mask) << ") at " << site(f.coll_file, f.coll_line)
                << " for lanes " << hex(f.coll_mask & ~same);
        }
    }
    if (b.exited != 0) out << (out.tellp() > 0 ? "; " : "") << b.exited << " threads exited";
    return out.str();
}

// Runs block `linear` of the worker's launch. Returns false with `error` set when the block failed.
bool run_block(Worker& w, std::uint64_t linear, std::string& error) {
    const LaunchRequest& r = *w.req;
    const unsigned n = r.block[0] * r.block[1] * r.block[2];
    while (w.fibers.size() < n) w.fibers.push_back(new_fiber(w));
    BlockState& b = w.block;
    const std::uint64_t gx = r.grid[0], gy = r.grid[1];
    tl_block.block_idx = uint3{static_cast<unsigned>(linear % gx), static_cast<unsigned>((linear / gx) % gy),
                               static_cast<unsigned>(linear / (gx * gy))};
    tl_block.block_dim = dim3(r.block[0], r.block[1], r.block[2]);
    tl_block.grid_dim = dim3(r.grid[0], r.grid[1], r.grid[2]);
    b.n = n;
    b.bar_arrived = 0;
    b.bar_gen = 0;
    b.exited = 0;
    b.failed = false;
    b.error.clear();
    for (unsigned k = 0; k < (n + 31) / 32; k++) {
        WarpState& ws = b.warps[k];
        ws.waiting = 0;
        ws.exited = 0;
        unsigned lanes = n - 32 * k >= 32 ? 32 : n - 32 * k;
        ws.present = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
    }
    for (unsigned i = 0; i < n; i++) {
        Fiber* f = w.fibers[i].get();
        f->thread_idx = uint3{i % r.block[0], (i / r.block[0]) % r.block[1], i / (r.block[0] * r.block[1])};
        f->linear = i;
        f->lane = i % 32;
        f->warp = i / 32;
        f->state = State::ready;
        f->cancel = false;
    }
    tsan_release(&b.start_token);
    for (;;) {
        bool progress = false;
        for (unsigned i = 0; i < n; i++) {
            Fiber* f = w.fibers[i].get();
            State s = f->state;
            bool runnable = s == State::ready || (s == State::at_barrier && b.bar_gen != f->wait_gen)
                    || (s == State::at_warp && f->coll_done != f->wait_gen);
            if (!runnable) continue;
            resume(w, f);
            progress = true;
            if (b.failed) break;
        }
        if (!b.failed && b.exited == n) break;
        if (!b.failed && !progress) {
            error = "block " + dims(tl_block.block_idx.x, tl_block.block_idx.y, tl_block.block_idx.z)
                    + ": deadlock: " + describe_waits(w);
        }
        if (b.failed || !error.empty()) {
            for (unsigned i = 0; i < n; i++) {   // unwind the fibers still waiting inside the kernel
                Fiber* f = w.fibers[i].get();
                State s = f->state;
                if (s == State::at_barrier || s == State::at_warp) {
                    f->cancel = true;
                    resume(w, f);
                }
            }
            tsan_acquire(&b.end_token);   // after every fiber parked: the failing one wrote b.error before that
            if (b.failed) error = b.error;
            return false;
        }
    }
    tsan_acquire(&b.end_token);
    return true;
}

// ---- the pool -----------------------------------------------------------------------------------------------
struct Job {
    const LaunchRequest* req = nullptr;
    std::uint64_t total = 0;
    std::atomic<std::uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::string error;
};

// Worker threads that only grow: a smaller paddock_sim_set_workers leaves the extra ones parked, so their fibers
// (expensive to create under TSan: each is a TSan thread) are reused rather than rebuilt.
class Pool {
public:
    // Starts workers until there are n (callers hold g_launch_mu, so no job is running).
    void grow(unsigned n) {
        std::lock_guard<std::mutex> lk(mu_);
        while (workers_.size() < n) {
            auto w = std::make_unique<Worker>();
            w->index = static_cast<unsigned>(workers_.size());
            Worker* p = w.get();
            workers_.push_back(std::move(w));
            p->thread = std::thread([this, p, seen = seq_] { loop(*p, seen); });
        }
    }


    // Runs `job` on the first `participants` workers and waits for them.
    void run(Job& job, unsigned participants) {
        std::unique_lock<std::mutex> lk(mu_);
        job_ = &job;
        participants_ = participants;
        busy_ = participants;
        seq_++;
        work_cv_.notify_all();
        done_cv_.wait(lk, [&] { return busy_ == 0; });
        job_ = nullptr;
    }

private:
    void loop(Worker& w, std::uint64_t seen) {
#if PADDOCK_SIM_TSAN
        w.main_tsan = __tsan_get_current_fiber();
#endif
        std::unique_lock<std::mutex> lk(mu_);
        for (;;) {
            work_cv_.wait(lk, [&] { return stop_ || seq_ != seen; });
            if (stop_) return;
            seen = seq_;
            if (w.index >= participants_) continue;
            Job& job = *job_;
            lk.unlock();
            run_blocks(w, job);
            lk.lock();
            if (--busy_ == 0) done_cv_.notify_all();
        }
    }

    static void run_blocks(Worker& w, Job& job) {
        w.req = job.req;
        for (;;) {
            if (job.failed.load(std::memory_order_relaxed)) break;
            std::uint64_t b = job.next.fetch_add(1, std::memory_order_relaxed);
            if (b >= job.total) break;
            std::string error;
            if (!run_block(w, b, error)) {
                std::lock_guard<std::mutex> lk(job.mu);
                if (job.error.empty()) job.error = error;
                job.failed = true;
                break;
            }
        }
        w.req = nullptr;
    }

    std::vector<std::unique_ptr<Worker>> workers_;
    std::mutex mu_;
    std::condition_variable work_cv_, done_cv_;
    Job* job_ = nullptr;
    unsigned participants_ = 0;
    unsigned busy_ = 0;
    std::uint64_t seq_ = 0;
    bool stop_ = false;
};

std::mutex g_launch_mu;      // one launch at a time (like one stream); guards the pool
Pool* g_pool = nullptr;      // deliberately never destroyed at exit: workers may still be parked then
unsigned g_workers = 0;      // workers that run blocks; 0 = hardware concurrency

unsigned worker_count() {
    if (g_workers != 0) return g_workers;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : hw;
}

std::string check_dims(const LaunchRequest& r) {
    const unsigned* g = r.grid;
    const unsigned* b = r.block;
    std::string gs = "grid " + dims(g[0], g[1], g[2]), bs = "block " + dims(b[0], b[1], b[2]);
    if (g[0] == 0 || g[1] == 0 || g[2] == 0) return gs + ": every dimension must be at least 1";
    if (b[0] == 0 || b[1] == 0 || b[2] == 0) return bs + ": every dimension must be at least 1";
    if (b[0] > 1024 || b[1] > 1024 || b[2] > 64) return bs + " exceeds the limits (1024, 1024, 64)";
    std::uint64_t threads = std::uint64_t{b[0]} * b[1] * b[2];
    if (threads > kMaxThreads) return bs + " has " + std::to_string(threads) + " threads, more than 1024";
    if (g[0] > 2147483647u || g[1] > 65535 || g[2] > 65535) return gs + " exceeds the limits (2^31-1, 65535, 65535)";
    return {};
}

}  // namespace

// ---- API used by cuda_sim.h ---------------------------------------------------------------------------------
unsigned lane_id() { return current()->lane; }

void syncthreads(const char* file, int line) {
    Fiber* f = current();
    BlockState& b = f->worker->block;
    const unsigned gen = b.bar_gen;
    if (b.bar_arrived == 0) {
        b.bar_file = file;
        b.bar_line = line;
        b.bar_first = f->linear;
    } else if (!same_site(b.bar_file, b.bar_line, file, line)) {
        fail("divergent __syncthreads: reached " + site(file, line) + " while thread "
             + thread_name(fiber_at(*f->worker, b.bar_first)) + " waits at " + site(b.bar_file, b.bar_line));
    }
    tsan_release(&b.bar_token[gen & 1]);
    b.bar_arrived = b.bar_arrived + 1;
    if (b.bar_arrived + b.exited == b.n) {
        if (b.exited != 0) {
            fail("__syncthreads at " + site(file, line) + " cannot complete: " + first_exited(*f->worker)
                 + " exited without reaching it (" + std::to_string(b.exited) + " exited in all)");
        }
        b.bar_arrived = 0;
        b.bar_gen = gen + 1;   // opens the barrier for the waiting fibers
    } else {
        f->state = State::at_barrier;
        f->wait_gen = gen;
        wait_here(f);
    }
    f->state = State::running;
    tsan_acquire(&b.bar_token[gen & 1]);
}

namespace {

// mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 for the whole warp, from each lane's mat_in (a0..a3, b0..b1,
// c0..c3 as fp32 bits) into its mat_out (d0..d3). Fragment layouts of the PTX ISA (groupID g = lane >> 2,
// threadID_in_group t = lane % 4): A element a_i (i = 0..7, register i/2, low half first) at row g + 8*((i>>1)&1),
// column 2t + (i&1) + 8*(i>=4); B element b_i (i = 0..3) at k = 2t + (i&1) + 8*(i>=2), n = g; C/D element c_i at
// row g + 8*(i>=2), column 2t + (i&1). Arithmetic: the 16 products are exact in double (11-bit significands),
// summed with c in double in k order, rounded once to fp32. Real tensor cores round differently in the last bits
// (their internal accumulation is not specified), so tests on a GPU compare with tolerances.
template <class LaneAt>
void mma_m16n8k16(LaneAt lanes) {
    double a[16][16], b[16][8], c[16][8];
    for (unsigned l = 0; l < 32; l++) {
        const Fiber& f = *lanes(l);
        unsigned g = l >> 2, t = l & 3;
        for (int i = 0; i < 8; i++) {
            std::uint32_t reg = f.mat_in[i >> 1];
            a[g + 8 * ((i >> 1) & 1)][2 * t + (i & 1) + 8 * (i >= 4)] = half_to_double(static_cast<unsigned short>(reg >> (16 * (i & 1))));
        }
        for (int i = 0; i < 4; i++) {
            std::uint32_t reg = f.mat_in[4 + (i >> 1)];
            b[2 * t + (i & 1) + 8 * (i >= 2)][g] = half_to_double(static_cast<unsigned short>(reg >> (16 * (i & 1))));
        }
        for (int i = 0; i < 4; i++) {
            std::uint32_t bits = f.mat_in[6 + i];
            float v;
            std::memcpy(&v, &bits, 4);
            c[g + 8 * (i >= 2)][2 * t + (i & 1)] = v;
        }
    }
    for (unsigned l = 0; l < 32; l++) {
        Fiber& f = *lanes(l);
        unsigned g = l >> 2, t = l & 3;
        for (int i = 0; i < 4; i++) {
            int row = g + 8 * (i >= 2), col = 2 * t + (i & 1);
            double acc = c[row][col];
            for (int k = 0; k < 16; k++) acc += a[row][k] * b[k][col];
            float d = static_cast<float>(acc);
            std::uint32_t bits;
            std::memcpy(&bits, &d, 4);
            f.mat_out[i] = bits;
        }
    }
}

// ldmatrix.sync.aligned.m8n8.x{count}[.trans].b16: lane 8*i + r gave row r of matrix i (8 b16 elements, read into
// its mat_in[0..3] at arrival). Lane l receives in register i the elements (row l/4, columns 2(l%4), 2(l%4)+1) of
// matrix i, or with .trans (rows 2(l%4), 2(l%4)+1 of column l/4), lower column (row) in the low half.
template <class LaneAt>
void ldmatrix_m8n8(LaneAt lanes, int count, bool trans) {
    for (unsigned l = 0; l < 32; l++) {
        Fiber& f = *lanes(l);
        for (int i = 0; i < count; i++) {
            std::uint32_t pair = 0;
            for (int h = 0; h < 2; h++) {
                unsigned row = trans ? 2 * (l % 4) + h : l / 4, col = trans ? l / 4 : 2 * (l % 4) + h;
                std::uint32_t word = lanes(8 * i + row)->mat_in[col / 2];
                pair |= ((word >> (16 * (col % 2))) & 0xffffu) << (16 * h);
            }
            f.mat_out[i] = pair;
        }
    }
}

std::uint64_t collective(WarpOp op, unsigned mask, std::uint64_t value, int src, int width, const char* file,
        int line, const std::uint32_t* in, int nin, std::uint32_t* out, int nout) {
    Fiber* f = current();
    Worker& w = *f->worker;
    WarpState& ws = w.block.warps[f->warp];
    const unsigned bit = 1u << f->lane;
    // built only on failure: this is the hot path of every shuffle
    const auto what = [&] { return std::string(op_name(op)) + " at " + site(file, line); };
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
        fail(what() + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
    }
    if ((mask & bit) == 0) fail(what() + ": mask " + hex(mask) + " does not name the calling lane " + std::to_string(f->lane));
    if ((mask & ~ws.present) != 0) {
        fail(what() + ": mask " + hex(mask) + " names lanes " + hex(mask & ~ws.present) + " that do not exist in warp "
             + std::to_string(f->warp) + " (the block has " + std::to_string(w.block.n) + " threads)");
    }
    if ((mask & ws.exited) != 0) fail(what() + ": mask " + hex(mask) + " names lanes " + hex(mask & ws.exited) + " that have exited");
    const auto lanes = [&w, base = f->warp * 32](unsigned l) -> Fiber* { return w.fibers[base + l].get(); };
    for (unsigned rest = mask & ws.waiting; rest != 0; rest &= rest - 1) {   // same lanes, same intrinsic
        const unsigned l = static_cast<unsigned>(__builtin_ctz(rest));
        const Fiber& k = *lanes(l);
        if (k.coll_mask == mask && k.coll_op != op) {
            fail(what() + " (mask " + hex(mask) + ") while lane " + std::to_string(l) + " of the warp waits at "
                 + op_name(k.coll_op) + " (mask " + hex(k.coll_mask) + ") at " + site(k.coll_file, k.coll_line));
        }
        if (k.coll_mask == mask && op == WarpOp::ldmatrix && k.src != src) {
            fail(what() + " .x" + std::to_string(src & 7) + ((src & 8) ? ".trans" : "") + " while lane "
                 + std::to_string(l) + " of the warp waits at .x" + std::to_string(k.src & 7)
                 + ((k.src & 8) ? ".trans" : "") + " at " + site(k.coll_file, k.coll_line));
        }
    }
    f->coll_op = op;
    f->coll_mask = mask;
    f->coll_file = file;
    f->coll_line = line;
    f->value = value;
    f->src = src;
    for (int i = 0; i < nin; i++) f->mat_in[i] = in[i];
    const unsigned done = f->coll_done;
    if (op == WarpOp::syncwarp) tsan_release(&f->arrive_token);
    ws.waiting = ws.waiting | bit;
    bool complete = (ws.waiting & mask) == mask;
    for (unsigned rest = mask; complete && rest != 0; rest &= rest - 1) {
        complete = lanes(static_cast<unsigned>(__builtin_ctz(rest)))->coll_mask == mask;
    }
    if (complete) {
        if (op == WarpOp::ballot) {
            unsigned votes = 0;
            for (unsigned l = 0; l < 32; l++) {
                if ((mask >> l & 1) && lanes(l)->value != 0) votes |= 1u << l;
            }
            for (unsigned l = 0; l < 32; l++) if (mask >> l & 1) lanes(l)->result = votes;
        } else if (op == WarpOp::mma) {
            mma_m16n8k16(lanes);
        } else if (op == WarpOp::ldmatrix) {
            ldmatrix_m8n8(lanes, src & 7, (src & 8) != 0);
        } else if (op != WarpOp::syncwarp) {
            for (unsigned l = 0; l < 32; l++) {
                if (!(mask >> l & 1)) continue;
                Fiber& reader = *lanes(l);
                int s = reader.src;
                if (s < 0) {
                    reader.result = reader.value;
                } else if (!(mask >> s & 1)) {
                    fail(what() + ": lane " + std::to_string(l) + " reads lane " + std::to_string(s)
                         + ", which is not in the mask " + hex(mask));
                } else {
                    reader.result = lanes(static_cast<unsigned>(s))->value;
                }
            }
        } else {
            // __syncwarp orders memory among its lanes: this (last) lane takes every lane's history up to its
            // arrival, then hands the union to each lane's inbox, which only this completion writes.
            for (unsigned l = 0; l < 32; l++) if (mask >> l & 1) tsan_acquire(&lanes(l)->arrive_token);
            for (unsigned l = 0; l < 32; l++) if (mask >> l & 1) tsan_release(&lanes(l)->inbox_token);
        }
        for (unsigned l = 0; l < 32; l++) {
            if (mask >> l & 1) lanes(l)->coll_done = lanes(l)->coll_done + 1;
        }
        ws.waiting = ws.waiting & ~mask;
    } else {
        f->state = State::at_warp;
        f->wait_gen = done;
        wait_here(f);
    }
    f->state = State::running;
    if (op == WarpOp::syncwarp) tsan_acquire(&f->inbox_token);
    for (int i = 0; i < nout; i++) out[i] = f->mat_out[i];
    return f->result;
}

}  // namespace

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int src, int width, const char* file,
        int line) {
    return collective(op, mask, value, src, width, file, line, nullptr, 0, nullptr, 0);
}

void mma_m16n8k16_f32_f16(float* d, const unsigned* a, const unsigned* b, const float* c, const char* file,
        int line) {
    std::uint32_t in[10], out[4];
    for (int i = 0; i < 4; i++) in[i] = a[i];
    in[4] = b[0];
    in[5] = b[1];
    std::memcpy(in + 6, c, 16);
    collective(WarpOp::mma, 0xffffffffu, 0, -1, 32, file, line, in, 10, out, 4);
    std::memcpy(d, out, 16);
}

void ldmatrix_m8n8(unsigned* r, int count, bool trans, const void* row, const char* file, int line) {
    Fiber* f = current();
    const auto what = [&] { return std::string("ldmatrix.sync.m8n8 at ") + site(file, line); };
    if (count != 1 && count != 2 && count != 4) fail(what() + ": .x" + std::to_string(count) + " (only .x1, .x2, .x4)");
    std::uint32_t in[4] = {0, 0, 0, 0}, out[4];
    if (f->lane < 8u * count) {   // this lane gives a row: read it now (the read is this thread's)
        if (reinterpret_cast<std::uintptr_t>(row) % 16 != 0) {
            char b[32];
            std::snprintf(b, sizeof b, "%p", row);
            fail(what() + ": lane " + std::to_string(f->lane) + "'s row address " + b + " is not 16-byte aligned");
        }
        std::memcpy(in, row, 16);
    }
    collective(WarpOp::ldmatrix, 0xffffffffu, 0, count | (trans ? 8 : 0), 32, file, line, in, 4, out, count);
    for (int i = 0; i < count; i++) r[i] = out[i];
}

void cp_async(void* dst, const void* src, int bytes, int src_bytes, bool cg, const char* file, int line) {
    Fiber* f = current();
    const auto what = [&] { return std::string(cg ? "cp.async.cg" : "cp.async.ca") + " at " + site(file, line); };
    if (cg ? bytes != 16 : (bytes != 4 && bytes != 8 && bytes != 16)) {
        fail(what() + ": " + std::to_string(bytes) + " bytes (.ca copies 4, 8 or 16, .cg 16)");
    }
    if (src_bytes < 0 || src_bytes > bytes) {
        fail(what() + ": source size " + std::to_string(src_bytes) + " is not in [0, " + std::to_string(bytes) + "]");
    }
    for (auto [p, name] : {std::pair<const void*, const char*>{dst, "destination"}, {src, "source"}}) {
        if (reinterpret_cast<std::uintptr_t>(p) % static_cast<unsigned>(bytes) != 0) {
            char b[32];
            std::snprintf(b, sizeof b, "%p", p);
            fail(what() + ": " + name + " address " + b + " is not " + std::to_string(bytes) + "-byte aligned");
        }
    }
    f->copies.push_back(AsyncCopy{dst, src, bytes, src_bytes, f->committed, file, line});
}

void cp_async_commit_group() {
    Fiber* f = current();
    f->committed++;
}

void cp_async_wait_group(int n, const char* file, int line) {
    Fiber* f = current();
    if (n < 0) fail("cp.async.wait_group " + std::to_string(n) + " at " + site(file, line) + ": N must be >= 0");
    if (static_cast<unsigned>(n) < f->committed) perform_copies(f, f->committed - static_cast<unsigned>(n));
}

void cp_async_wait_all() {
    Fiber* f = current();
    f->committed++;   // cp.async.wait_all = commit_group + wait_group 0
    perform_copies(f, f->committed);
}

int fail_launch(const std::string& message) {
    tl_last_error = message;
    return 1;
}

std::string type_name(const std::type_info& type) {
    int status = 0;
    char* d = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string s = status == 0 && d ? d : type.name();
    std::free(d);
    return s;
}

int run_grid(const LaunchRequest& r) {
    std::string bad = check_dims(r);
    if (!bad.empty()) return fail_launch(std::string(r.kernel) + ": invalid launch: " + bad);
    std::lock_guard<std::mutex> lk(g_launch_mu);
    if (g_pool == nullptr) g_pool = new Pool();
    g_pool->grow(worker_count());
    Job job;
    job.req = &r;
    job.total = std::uint64_t{r.grid[0]} * r.grid[1] * r.grid[2];
    unsigned participants = r.serial_blocks ? 1u : worker_count();
    if (job.total < participants) participants = static_cast<unsigned>(job.total);
    g_pool->run(job, participants);
    if (job.failed) return fail_launch(std::string(r.kernel) + ": " + job.error);
    return 0;
}

}  // namespace paddock_sim

extern "C" {

int paddock_sim_set_workers(int n) {
    if (n < 0) return paddock_sim::fail_launch("paddock_sim_set_workers: negative worker count");
    std::lock_guard<std::mutex> lk(paddock_sim::g_launch_mu);
    paddock_sim::g_workers = static_cast<unsigned>(n);   // the next launch starts missing workers
    return 0;
}

const char* paddock_sim_last_error(void) { return paddock_sim::tl_last_error.c_str(); }

}  // extern "C"
