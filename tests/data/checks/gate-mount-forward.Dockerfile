FROM alpine AS a
ENV A 1
RUN --mount=from=b,target=/b true
ENV B 2
FROM alpine AS b
ENV C 3
