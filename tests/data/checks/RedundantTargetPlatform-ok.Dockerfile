FROM --platform=$BUILDPLATFORM alpine AS a
FROM --platform=$TARGETOS/$TARGETARCH alpine AS b
FROM alpine
