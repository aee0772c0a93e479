FROM --platform=linux/amd64 alpine AS build
FROM --platform=linux/amd64 alpine AS build-amd64
FROM --platform=linux/arm64 alpine AS linux-stage
FROM --platform=$BUILDPLATFORM alpine AS native
FROM --platform=linux/arm/v7 alpine
FROM --platform=arm64 alpine AS x
FROM --platform=windows alpine AS y
