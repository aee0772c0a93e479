# syntax=docker/dockerfile:1
# The classic "builder pattern" (a build image, then a copy step, then a small runtime
# image, glued together by a shell script) rewritten as one two-stage build.

FROM golang:1.22-alpine AS builder
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/app

FROM alpine:3.20
RUN apk add --no-cache ca-certificates tzdata
COPY --from=builder /out/app /usr/local/bin/app
USER 65534:65534
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/app"]
