FROM alpine AS first
ENV A 1
FROM alpine AS second
ENV B 2
COPY --from=third /x /y
ENV C 3
FROM alpine AS third
ENV D 4
