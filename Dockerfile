# roombus on Debian 12: built with the packages of scripts/install-deps, run on bookworm-slim.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN apt-get update -qq && scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build build -j"$(nproc)" --target roombus

FROM debian:bookworm-slim
# The shared libraries of the build's -dev packages, tzdata for --timezone, curl for the health
# check.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libhttp-parser2.9 libsqlite3-0 libssl3 librdkafka1 libhiredis0.14 libdate-tz3 libjemalloc2 \
      tzdata ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/roombus --create-home roombus
COPY --from=build /src/build/bin/roombus /usr/local/bin/roombus
USER roombus
# The event log, snapshots and the generated admin token live here: keep it on a volume.
VOLUME /var/lib/roombus
ENV ROOMBUS_LISTEN=0.0.0.0:8080 \
    ROOMBUS_DATA_DIR=/var/lib/roombus
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s \
  CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
ENTRYPOINT ["roombus"]
CMD ["serve"]
