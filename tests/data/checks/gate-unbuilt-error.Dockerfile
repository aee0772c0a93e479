FROM alpine AS skipped
ENV A 1
EXPOSE 80/TCP 8080:abc
ENV B 2
FROM alpine
ENV C 3
