# syntax=docker/dockerfile:1
#
# pathbot in one static binary on distroless. The curriculum and the migrations are embedded in
# the binary, so the final image holds nothing else: no shell, no package manager, no CA bundle
# of its own beyond distroless's. Build:
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t pathbot .

ARG GO_VERSION=1.26

# The builder runs on the build host's platform and cross-compiles, so an arm64 image (for Graviton
# or Apple silicon) builds at native speed instead of under emulation.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Modules first, in their own layer, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath \
      -ldflags "-s -w \
        -X github.com/pathbot/pathbot/internal/version.Version=${VERSION} \
        -X github.com/pathbot/pathbot/internal/version.Commit=${COMMIT} \
        -X github.com/pathbot/pathbot/internal/version.Date=${DATE}" \
      -o /out/pathbot ./cmd/pathbot

# static-debian12 has CA certificates (for Slack's TLS) and tzdata, and :nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pathbot /pathbot
# Numeric, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 65532:65532

# Only for /metrics, /healthz and /readyz. Slack is reached over an outbound WebSocket (Socket
# Mode); nothing needs to be published for the bot to work.
EXPOSE 8080

# `pathbot health` probes the readiness endpoint; an exec-form check because there is no shell.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/pathbot", "health"]

ENTRYPOINT ["/pathbot"]
CMD ["serve"]
