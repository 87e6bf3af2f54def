package io.paddock.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.paddock.testing.MockHub;
import io.paddock.testing.SharedModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls from a local mock of the hub ({@link MockHub}) whose repositories hold the real stories260K fixtures: a GPTQ
 * repository with several branches, a gated one, one whose branch has only a {@code .bin}.
 */
class HubPullTests {
    static final String REPO = "paddock-test/stories260K-GPTQ";
    static final String ACT_ORDER = "gptq-4bit-32g-actorder_True";
    static final String PR = "refs/pr/1"; // a revision with a slash: one escaped URL segment, a nested ref file
    static final String GATED = "meta-llama/stories260K";
    static final String TOKEN = "hf_test_token";

    @TempDir Path cache;
    MockHub hub;
    Path main64g, actOrder, fp32;
    String mainCommit, actOrderCommit, prCommit;

    @BeforeEach
    void startHub() {
        main64g = SharedModels.require("stories260K-gptq-4bit-64g");
        actOrder = SharedModels.require("stories260K-gptq-4bit-32g-actorder");
        fp32 = SharedModels.require("stories260K");
        hub = new MockHub();
        mainCommit = hub.add(REPO, "main", main64g, Map.of(), null);
        actOrderCommit = hub.add(REPO, ACT_ORDER, actOrder, Map.of(), null);
        prCommit = hub.add(REPO, PR, fp32, Map.of(), null);
        hub.add(REPO, "gptq-bin", null, Map.of("config.json", "{}".getBytes(), "gptq_model-4bit-128g.bin",
                new byte[] {1, 2, 3}), null);
        hub.add(GATED, "main", fp32, Map.of(), TOKEN);
    }

    @AfterEach
    void stopHub() {
        if (hub != null) hub.close();
    }

    HubSettings settings() { return new HubSettings(hub.endpoint(), null, cache, false); }

    HubPuller puller(HubSettings s) { return new HubPuller(s, PullProgress.NONE); }

    @Test
    void pullWritesTheStandardCacheLayout() throws IOException {
        HubPuller.Result r = puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.DEFAULT);
        Path repoDir = cache.resolve("models--paddock-test--stories260K-GPTQ");
        assertThat(r.commit()).isEqualTo(mainCommit);
        assertThat(r.snapshot()).isEqualTo(repoDir.resolve("snapshots").resolve(mainCommit));
        assertThat(Files.readString(repoDir.resolve("refs/main"))).isEqualTo(mainCommit);

        Map<String, byte[]> expected = MockHub.filesOf(main64g);
        try (var list = Files.list(r.snapshot())) { // README.md and .gitattributes are not what a model needs
            assertThat(list.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(expected.keySet());
        }
        for (var e : expected.entrySet()) {
            Path link = r.snapshot().resolve(e.getKey());
            String etag = MockHub.isLfs(e.getKey()) ? MockHub.sha256(e.getValue()) : MockHub.gitSha1(e.getValue());
            assertThat(Files.isSymbolicLink(link)).as(e.getKey()).isTrue();
            assertThat(Files.readSymbolicLink(link)).isEqualTo(Path.of("..", "..", "blobs", etag));
            assertThat(Files.readAllBytes(link)).isEqualTo(e.getValue());
            assertThat(repoDir.resolve("blobs").resolve(etag)).isRegularFile();
        }
        try (var blobs = Files.list(repoDir.resolve("blobs"))) {
            assertThat(blobs.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".incomplete"))
                    .hasSize(expected.size());
        }
        assertThat(hub.requests).contains("GET /api/models/paddock-test/stories260K-GPTQ/revision/main");
        assertThat(hub.cdnAuthorizations).hasValue(0);
    }

    @Test
    void aSecondPullDownloadsNothingAndOfflineResolvesFromTheCache() throws IOException {
        puller(settings()).pull(HubRef.parse(REPO + ":" + ACT_ORDER), IncludeGlobs.DEFAULT);
        long downloads = hub.downloads();
        assertThat(downloads).isEqualTo(MockHub.filesOf(actOrder).size());

        HubPuller.Result again = puller(settings()).pull(HubRef.parse(REPO + ":" + ACT_ORDER), IncludeGlobs.DEFAULT);
        assertThat(again.downloaded()).isEmpty();
        assertThat(hub.downloads()).isEqualTo(downloads);
        assertThat(hub.requests.stream().filter(q -> q.startsWith("HEAD "))).hasSize((int) downloads); // first pull only

        // resolve() (serve, generate) does not even ask the hub which commit the branch is now
        int before = hub.requests.size();
        assertThat(puller(settings()).resolve(HubRef.parse(REPO + ":" + ACT_ORDER))).isEqualTo(again.snapshot());
        assertThat(hub.requests).hasSize(before);

        // a snapshot holding only what an --include '*.json' pull fetched is completed first
        puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.of(List.of("*.json")));
        Path full = puller(settings()).resolve(HubRef.parse(REPO));
        assertThat(full.resolve("model.safetensors")).exists();
        assertThat(full.resolve("tokenizer.model")).exists();

        HubSettings offline = new HubSettings(closedPort(), null, cache, true);
        assertThat(puller(offline).pull(HubRef.parse(REPO + ":" + ACT_ORDER), IncludeGlobs.DEFAULT).snapshot())
                .isEqualTo(again.snapshot());
        assertThat(puller(offline).resolve(HubRef.parse(REPO + ":" + actOrderCommit))).isEqualTo(again.snapshot());
        assertThatThrownBy(() -> puller(offline).resolve(HubRef.parse(REPO + ":" + PR)))
                .isInstanceOf(HubException.class).hasMessageContaining("HF_HUB_OFFLINE")
                .hasMessageContaining("not in the hub cache");
    }

    @Test
    void twoPullsIntoOneCacheDownloadEachFileOnce() throws Exception {
        HubRef ref = HubRef.parse(REPO + ":" + ACT_ORDER);
        int pulls = 4;
        var start = new java.util.concurrent.CyclicBarrier(pulls);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(pulls)) {
            var results = new java.util.ArrayList<java.util.concurrent.Future<Path>>();
            for (int i = 0; i < pulls; i++) {
                results.add(pool.submit(() -> {
                    start.await(); // all at once: the same ref, links and blobs written side by side
                    return puller(settings()).pull(ref, IncludeGlobs.DEFAULT).snapshot();
                }));
            }
            for (var r : results) assertThat(r.get()).isEqualTo(results.getFirst().get());
        }
        assertThat(hub.downloads()).isEqualTo(MockHub.filesOf(actOrder).size());
        assertThat(cache.resolve(".locks/models--paddock-test--stories260K-GPTQ")).isDirectory();
    }

    @Test
    void branchesWithCharactersToEscapeResolveToTheirOwnCommits() throws IOException {
        HubPuller p = puller(settings());
        Path pr = p.pull(HubRef.parse(REPO + ":" + PR), IncludeGlobs.DEFAULT).snapshot();
        Path act = p.pull(HubRef.parse(REPO + ":" + ACT_ORDER), IncludeGlobs.DEFAULT).snapshot();
        assertThat(pr.getFileName()).hasToString(prCommit);
        assertThat(act.getFileName()).hasToString(actOrderCommit);
        assertThat(hub.requests).contains("GET /api/models/paddock-test/stories260K-GPTQ/revision/refs%2Fpr%2F1");
        Path refs = cache.resolve("models--paddock-test--stories260K-GPTQ/refs");
        assertThat(Files.readString(refs.resolve("refs/pr/1"))).isEqualTo(prCommit);
        assertThat(Files.readString(refs.resolve(ACT_ORDER))).isEqualTo(actOrderCommit);
        assertThat(Files.readAllBytes(act.resolve("quantize_config.json")))
                .isEqualTo(Files.readAllBytes(actOrder.resolve("quantize_config.json")));
        assertThat(pr.resolve("quantize_config.json")).doesNotExist();
        // files that are the same on both branches share one blob
        assertThat(Files.readSymbolicLink(pr.resolve("tokenizer.model")))
                .isEqualTo(Files.readSymbolicLink(act.resolve("tokenizer.model")));
    }

    @Test
    void anInterruptedDownloadResumesFromItsIncompleteFile() throws IOException {
        byte[] weights = Files.readAllBytes(actOrder.resolve("model.safetensors"));
        String sha = MockHub.sha256(weights);
        Path blobs = Files.createDirectories(cache.resolve("models--paddock-test--stories260K-GPTQ/blobs"));
        Files.write(blobs.resolve(sha + ".incomplete"), java.util.Arrays.copyOf(weights, 100_000));

        Path snap = puller(settings()).pull(HubRef.parse(REPO + ":" + ACT_ORDER), IncludeGlobs.DEFAULT).snapshot();
        assertThat(hub.ranges).containsExactly("bytes=100000-");
        assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(blobs.resolve(sha + ".incomplete")).doesNotExist();
    }

    @Test
    void aDroppedConnectionLeavesTheIncompleteFileAndTheNextPullResumesIt() throws IOException {
        byte[] weights = Files.readAllBytes(main64g.resolve("model.safetensors"));
        String sha = MockHub.sha256(weights);
        hub.breakAfter(weights, 65_536);
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class).hasMessageContaining("download of model.safetensors broke off")
                .hasMessageContaining("run the pull again to resume");
        Path partial = cache.resolve("models--paddock-test--stories260K-GPTQ/blobs/" + sha + ".incomplete");
        assertThat(partial).exists();
        long kept = Files.size(partial);
        assertThat(kept).isPositive().isLessThan(weights.length);

        Path snap = puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.DEFAULT).snapshot();
        assertThat(hub.ranges).containsExactly("bytes=" + kept + "-");
        assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(partial).doesNotExist();
    }

    @Test
    void aCorruptDownloadIsDeletedAndReported() throws IOException {
        byte[] weights = Files.readAllBytes(main64g.resolve("model.safetensors"));
        String sha = MockHub.sha256(weights);
        hub.corrupt(weights);
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("model.safetensors is corrupt").hasMessageContaining("sha256")
                .hasMessageContaining(sha).hasMessageContaining("deleted");
        Path blobs = cache.resolve("models--paddock-test--stories260K-GPTQ/blobs");
        assertThat(blobs.resolve(sha)).doesNotExist();
        assertThat(blobs.resolve(sha + ".incomplete")).doesNotExist();
        assertThat(cache.resolve("models--paddock-test--stories260K-GPTQ/refs/main")).doesNotExist();
    }

    @Test
    void includeGlobsSelectTheFiles() throws IOException {
        HubPuller.Result r = puller(settings()).pull(HubRef.parse(REPO),
                IncludeGlobs.of(List.of("config.json", "*.model", "READ??.md")));
        assertThat(r.downloaded()).containsExactlyInAnyOrder("config.json", "tokenizer.model", "README.md");
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(REPO), IncludeGlobs.of(List.of("*.gguf"))))
                .isInstanceOf(HubException.class).hasMessageContaining("no file of " + REPO + " matches --include *.gguf");
    }

    @Test
    void aRevisionWithoutSafetensorsIsRefused() {
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(REPO + ":gptq-bin"), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessage(REPO + ":gptq-bin has no *.safetensors files (it has gptq_model-4bit-128g.bin): paddock"
                        + " reads safetensors weights only");
        assertThat(hub.downloads()).isZero();
    }

    @Test
    void aGatedRepositoryNeedsTheToken() throws IOException {
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(GATED), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessageStartingWith(GATED + " is gated or private (HTTP 401)").hasMessageContaining("set HF_TOKEN");
        HubSettings withToken = new HubSettings(hub.endpoint(), TOKEN, cache, false);
        Path snap = puller(withToken).pull(HubRef.parse(GATED), IncludeGlobs.DEFAULT).snapshot();
        assertThat(snap.resolve("model.safetensors")).exists();
        assertThat(hub.cdnAuthorizations).as("the token stays with the hub").hasValue(0);
        HubSettings wrongToken = new HubSettings(hub.endpoint(), "hf_wrong", cache.resolve("other"), false);
        assertThatThrownBy(() -> puller(wrongToken).pull(HubRef.parse(GATED), IncludeGlobs.DEFAULT))
                .hasMessageContaining("the token in HF_TOKEN has no access");
    }

    @Test
    void notFoundNamesTheRepositoryOrTheRevision() {
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse("nobody/nothing"), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessage("repository nobody/nothing not found on " + hub.endpoint() + " (if it is private, set HF_TOKEN)");
        assertThatThrownBy(() -> puller(settings()).pull(HubRef.parse(REPO + ":gptq-9bit"), IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessage("revision 'gptq-9bit' not found in " + REPO + " (a branch, tag or commit of the repository)");
    }

    @Test
    void anUnreachableHubIsOneLine() throws IOException {
        URI closed = closedPort();
        assertThatThrownBy(() -> puller(new HubSettings(closed, null, cache, false)).pull(HubRef.parse(REPO),
                IncludeGlobs.DEFAULT))
                .isInstanceOf(HubException.class)
                .hasMessageStartingWith("cannot reach " + closed).hasMessageContaining("HF_HUB_OFFLINE=1");
    }

    @Test
    void plainProgressLinesNameEachFile() throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        var err = new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8);
        new HubPuller(settings(), PullProgress.forStream(err, false)).pull(HubRef.parse(REPO), IncludeGlobs.DEFAULT);
        String log = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(log).contains("downloading " + MockHub.filesOf(main64g).size() + " files")
                .contains("  model.safetensors (").contains("  config.json done").doesNotContain("\r");
    }

    static URI closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return URI.create("http://127.0.0.1:" + s.getLocalPort());
        }
    }
}
