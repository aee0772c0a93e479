FROM --platform=linux/amd64/v2 alpine AS a
FROM --platform=darwin alpine AS b
FROM --platform=linux/x86_64 alpine AS builder-x86_64
FROM --platform=linux/arm/v7 alpine AS armv7
FROM --platform=Linux/ARM64 alpine AS c
FROM --platform=${TARGETPLATFORM} alpine AS d
FROM --platform=$TARGETPLATFORM alpine
FROM --platform=$UNDECLARED_PLAT alpine AS e
