FROM alpine AS one
WORKDIR app
WORKDIR more
FROM alpine AS two
WORKDIR /abs
WORKDIR rel
FROM two AS three
WORKDIR rel2
FROM alpine AS four
ENV DIR=/srv
WORKDIR $DIR/app
FROM alpine AS five
WORKDIR $UNSET/app
FROM alpine AS six
ARG SUB=relative
WORKDIR ${SUB}
