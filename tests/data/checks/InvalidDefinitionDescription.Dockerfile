# check=experimental=InvalidDefinitionDescription

# base image version
ARG VERSION=1
# VERSION2 the second
ARG VERSION2=2
# this describes nothing
FROM alpine AS builder
# final the last stage
FROM alpine AS final

# unrelated comment far away

ARG A B
# B is described
ARG B2 C2
