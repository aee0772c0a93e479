# check=experimental=InvalidDefinitionDescription

# VERSION the version to build
ARG VERSION=1

# a comment separated by a blank line still counts
# build the builder stage
FROM alpine AS build
#
FROM alpine AS final
