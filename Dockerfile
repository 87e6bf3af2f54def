# paddock container image: one image for CPU and GPU (docs/deployment.md, "Container image").
#
#   docker build -t paddock .
#   docker run -p 8000:8000 -v /srv/models:/models:ro -e PADDOCK_MODEL_PATH=/models/my-model paddock
#   docker run --gpus all -e PADDOCK_RUNTIME=cuda ... paddock      (NVIDIA container toolkit on the host)
#
# Every base image is a build argument, so a machine without a registry can build against local copies
# (scripts/docker-local-bases). Only the base images and Maven Central are fetched; works with the legacy
# builder and with BuildKit.

# JDK 25 to build and to jlink the runtime; the runtime stage has no JDK.
ARG BUILD_IMAGE=eclipse-temurin:25-jdk
# Slim glibc base: CUDA's driver library comes from the host through the NVIDIA container toolkit (see
# docs/deployment.md for NVRTC, which the driver does not bring, and an nvidia/cuda base instead).
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# Breadth-first dependency collection fetches POMs in parallel: about half the time of the default on a cold cache.
ARG MAVEN_FLAGS="-B -ntp -q -Daether.dependencyCollector.impl=bf"
# The runtime dependencies first: this layer stays cached while only the sources change.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
RUN ./mvnw $MAVEN_FLAGS dependency:resolve -DincludeScope=runtime
COPY src/main/ src/main/
# The package phase's goals for the main code only: `package` would also resolve the test-scope dependencies
# (~200 MB from Maven Central), even with the tests skipped. Same jar as `./mvnw -DskipTests package`.
RUN ./mvnw $MAVEN_FLAGS resources:resources compiler:compile jar:jar spring-boot:repackage

# A Java runtime with only the modules the application uses: what jdeps finds in the jar, plus what is
# reached reflectively or by flag (the Vector API, sun.misc.Signal, JMX for the JVM metrics, EC TLS, zipfs).
RUN mkdir /tmp/app && cd /tmp/app && jar xf /src/target/paddock.jar \
 && deps=$(jdeps --print-module-deps --ignore-missing-deps --multi-release 25 \
             --class-path 'BOOT-INF/lib/*' BOOT-INF/classes) \
 && echo "jdeps: $deps" \
 && jlink --add-modules "$deps,jdk.incubator.vector,jdk.unsupported,java.management,jdk.management,java.naming,java.net.http,jdk.crypto.ec,jdk.zipfs,jdk.charsets" \
          --strip-java-debug-attributes --no-man-pages --no-header-files --compress=zip-6 --generate-cds-archive \
          --output /javaruntime \
 && rm -rf /tmp/app

FROM ${RUNTIME_IMAGE}
ARG UID=10001
ENV JAVA_HOME=/opt/java \
    PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    SERVER_PORT=8000 \
    PADDOCK_CACHE=/tmp/paddock-cache \
    SPRING_CONFIG_ADDITIONAL_LOCATION=optional:file:/config/ \
    JAVA_OPTS="" \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# Fixed flags: the Vector API (incubator), FFM/JNI without warnings, the throughput GC the CPU runtime is
# measured with. Weights are mmapped: they live in the page cache outside the heap and must stay resident, so
# the heap (requests, and on the CPU runtime the KV cache, a quarter of the heap by default) gets a quarter of
# the container's memory limit. More heap for a small model: JAVA_OPTS=-XX:MaxRAMPercentage=50.
ENV PADDOCK_JVM_FLAGS="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -XX:MaxRAMPercentage=25 -XX:+ExitOnOutOfMemoryError"

COPY --from=build /javaruntime /opt/java
COPY --from=build /src/target/paddock.jar /app/paddock.jar
RUN useradd --uid "${UID}" --gid 0 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin paddock \
 && mkdir -p /models /config \
 && java -version 2>&1 | head -1

USER ${UID}
WORKDIR /tmp
VOLUME ["/models"]
EXPOSE 8000
# bash's /dev/tcp: the slim base has no curl or wget, and a JVM per probe would cost seconds.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SERVER_PORT:-8000} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200'"]
# exec: java is PID 1 and gets SIGTERM itself (it drains, then exits 0). JAVA_OPTS comes last and wins.
ENTRYPOINT ["bash", "-c", "exec java $PADDOCK_JVM_FLAGS $JAVA_OPTS -jar /app/paddock.jar \"$@\"", "paddock"]
CMD ["serve"]
