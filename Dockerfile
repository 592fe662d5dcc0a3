# syntax=docker/dockerfile:1
# The operator's image: a multi-stage build to a runtime image that holds only the static
# binary and the CA certificates, and runs as a non-root user. See the README ("Building
# the image"):
#   docker build -t REGISTRY/macsec-operator:0.1.0 .
#   docker push REGISTRY/macsec-operator:0.1.0

# Build stage. The official Rust image on Alpine: musl links the binary statically, so it
# needs no libc at run time. 1.95 is the toolchain the project is tested with
# (rust-version in Cargo.toml is 1.89).
FROM rust:1.95-alpine AS build
# The image carries gcc and ca-certificates but not musl's headers and start files, which
# ring (the TLS crypto, partly C and assembly) compiles against and the linker needs.
RUN apk add --no-cache musl-dev
# Set by BuildKit; keys the target cache, so a multi-platform build keeps each platform's
# objects apart.
ARG TARGETPLATFORM
WORKDIR /src
# Only what the binary is built from: the manifest, the lock file and src/ (no build.rs,
# no include_str!). .dockerignore keeps target/, .venv/ and .git/ out of the context.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The registry and target caches survive between builds (BuildKit); the binary is copied
# out of the cached target directory inside the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,id=macsec-operator-target-${TARGETPLATFORM} \
    cargo build --release --locked --bin macsec-operator \
 && cp target/release/macsec-operator /macsec-operator

# Runtime stage: no shell, no package manager, nothing but these two files.
FROM scratch
LABEL org.opencontainers.image.title="macsec-operator" \
      org.opencontainers.image.description="Kubernetes operator for MACsec keys on Alibaba Cloud Express Connect circuits" \
      org.opencontainers.image.licenses="Apache-2.0"
# rustls reads the system roots from this file (the path openssl-probe tries first on
# Linux) to verify the VPC, STS and Kubernetes API endpoints.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /macsec-operator /macsec-operator
# The uid and gid deploy/base/deployment.yaml runs as (runAsNonRoot needs a numeric user).
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/macsec-operator"]
CMD ["run"]
