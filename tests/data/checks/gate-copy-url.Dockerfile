FROM alpine AS a
ENV A 1
COPY https://example.com/x /x
ENV B 2
FROM alpine
ENV C 3
