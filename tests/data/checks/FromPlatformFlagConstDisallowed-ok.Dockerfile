FROM --platform=linux/arm64 alpine AS build-arm64
FROM --platform=$BUILDPLATFORM alpine AS b
FROM --platform=linux/amd64 alpine AS linux
