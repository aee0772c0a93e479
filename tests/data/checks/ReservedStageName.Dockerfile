FROM alpine AS scratch
FROM alpine AS context
FROM alpine AS Scratch
FROM alpine AS scratch2
