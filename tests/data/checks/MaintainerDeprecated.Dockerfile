FROM alpine
MAINTAINER someone <a@example.com>
LABEL org.opencontainers.image.authors="a@example.com"
FROM alpine
maintainer another
