# syntax=docker/dockerfile:1
# A cross-platform build: the compiler runs on the build machine ($BUILDPLATFORM) and
# cross-compiles for $TARGETPLATFORM; an ARG picks the runtime stage per target OS.
# Try the platform menu: linux/arm64 or windows/amd64.

ARG GO_VERSION=1.22

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/tool ./cmd/tool

FROM alpine:3.20 AS base-linux
RUN apk add --no-cache ca-certificates

FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS base-windows

FROM scratch AS base-darwin

FROM base-${TARGETOS} AS final
COPY --from=build /out/tool /usr/local/bin/tool
ENTRYPOINT ["/usr/local/bin/tool"]
