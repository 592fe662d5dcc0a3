# Multi-stage build to a minimal runtime image: the static binary, CA certificates, nothing else.
#   docker build -t REGISTRY/macsec-operator:TAG .
# Build stage: musl, so the binary needs no libc at run time.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev ca-certificates
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin macsec-operator \
 && cp target/release/macsec-operator /macsec-operator

# Runtime stage: no shell, no package manager; runs as a non-root user.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /macsec-operator /macsec-operator
USER 65532:65532
ENTRYPOINT ["/macsec-operator"]
CMD ["run"]
