FROM alpine AS build
FROM alpine AS other
FROM alpine AS Build
FROM alpine AS build
