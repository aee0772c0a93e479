FROM --platform=$TARGETPLATFORM alpine AS a
FROM --platform=${TARGETPLATFORM} alpine AS b
FROM --platform=$BUILDPLATFORM alpine AS c
FROM --platform=${TARGETPLATFORM:-linux/amd64} alpine AS d
FROM --platform=$TARGETOS/$TARGETARCH alpine AS e
