# The operator image: `remote-code operator` (controllers, portal, forward-auth) on Debian 12.
#   docker build -t ghcr.io/remote-code/remote-code:0.1.0 .
# The build stage installs the same Debian packages scripts/install-deps.sh lists for building
# (not the test ones); the runtime stage has only the shared libraries the binary links.

FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      nlohmann-json3-dev libyaml-cpp-dev libboost-dev libboost-program-options-dev \
      libspdlog-dev libfmt-dev prometheus-cpp-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libre2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No tests in the image build (they need kubectl and ../shared); CI runs them.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRC_TESTS=OFF -DRC_BENCH=OFF \
 && ninja -C build remote-code \
 && strip --strip-debug -o /remote-code build/bin/remote-code

FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
# The libraries `remote-code` links (objdump -p: NEEDED), by Debian 12 package; libc6,
# libstdc++6 and libgcc-s1 are already in debian:12-slim. tests/kubectl/test_manifests.py
# checks this list against the binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-program-options1.74.0 libcurl4 libfmt9 libprometheus-cpp-core1.0 libre2-9 libspdlog1.10 \
      libssl3 libyaml-cpp0.7 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /remote-code /usr/local/bin/remote-code
# The same non-root user as manifests/deployment.yaml's runAsUser.
USER 65532:65532
EXPOSE 8080 8081 9090
ENTRYPOINT ["/usr/local/bin/remote-code", "operator"]
