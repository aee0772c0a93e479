ARG GO_VERSION=1.21
FROM golang:${GO_VERSION}-alpine
RUN apk add --no-cache git
