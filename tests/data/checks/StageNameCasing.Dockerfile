FROM alpine AS Build
RUN true
FROM alpine AS lower
FROM Build AS Final-Stage
