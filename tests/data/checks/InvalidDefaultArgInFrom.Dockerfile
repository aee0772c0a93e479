ARG IMAGE
ARG TAG
ARG GOOD=alpine
ARG UPPER=Alpine
FROM $IMAGE AS one
FROM alpine:$TAG AS two
FROM $GOOD AS three
FROM ${IMAGE:-alpine} AS four
FROM $UPPER AS five
